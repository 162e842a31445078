/** The device protocol over MQTT 5: topics, messages, codec and limits. Free of Vert.x: the agent uses it. */
package dev.outpost.mqtt.protocol;
