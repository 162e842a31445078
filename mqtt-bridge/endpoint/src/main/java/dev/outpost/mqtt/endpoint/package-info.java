/**
 * The appliance's MQTT 5 endpoint on Vert.x MQTT: {@link dev.outpost.mqtt.endpoint.MqttEndpointServer}.
 * <p>
 * Vert.x MQTT is an endpoint API, not a broker, so what a broker would do is here, reduced to what the device
 * protocol needs: authentication of the connection (node SVID or enrollment-only), a per-device topic ACL, routing
 * of replies, commands and site broadcasts to subscribed connections, retained site messages, one connection per
 * device id, and idempotent dispatch of requests to a {@link dev.outpost.mqtt.endpoint.RequestHandler}.
 * <p>
 * Threading: every connection's packets are handled on its event loop; the handler and the
 * {@link dev.outpost.mqtt.endpoint.ConnectionPolicy} run there and must not block. The server's API methods may be
 * called from any thread; writes are moved to the connection's event loop. See docs/protocol.md for the contract.
 */
package dev.outpost.mqtt.endpoint;
