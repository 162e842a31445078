package dev.outpost.mqtt.endpoint;

import io.vertx.core.Future;

/**
 * The appliance's side of a request. Called on the connection's event loop: it must not block; JDBC, TPM work and
 * the like belong on a worker ({@code executeBlocking} or a worker executor), with the future completed from there.
 * <p>
 * A successful value is sent as {@code Codec.ok(value)}; a failure with a
 * {@link dev.outpost.mqtt.protocol.ProtocolException} as that error; any other failure as {@code INTERNAL} with a
 * generic message (the real one is logged, never sent).
 */
@FunctionalInterface
public interface RequestHandler {
    Future<Object> handle(DeviceRequest request);
}
