/** The appliance's MQTT endpoint on Vert.x MQTT. */
package dev.outpost.mqtt.endpoint;
