/** What every MQTT client of the protocol needs from its sockets, whichever library it uses. */
package dev.outpost.mqtt.protocol.transport;
