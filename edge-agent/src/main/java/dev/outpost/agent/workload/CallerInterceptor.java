package dev.outpost.agent.workload;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;

/**
 * Every Workload API call: the security header the SPIFFE Workload Endpoint standard requires (a browser or an SSRF
 * cannot set it), then the caller's kernel credentials from the connection into the call's Context.
 */
final class CallerInterceptor implements ServerInterceptor {
    static final Metadata.Key<String> SECURITY_HEADER = Metadata.Key.of("workload.spiffe.io", Metadata.ASCII_STRING_MARSHALLER);
    static final Context.Key<PeerCredentials> CALLER = Context.key("outpost.workload.caller");

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        if (!"true".equals(headers.get(SECURITY_HEADER))) {
            call.close(Status.INVALID_ARGUMENT.withDescription("security header missing from request"), new Metadata());
            return new ServerCall.Listener<>() {
            };
        }
        PeerCredentials peer = call.getAttributes().get(PeerCredentialsNegotiator.PEER);
        if (peer == null) {
            call.close(Status.PERMISSION_DENIED.withDescription("caller unknown: no peer credentials"), new Metadata());
            return new ServerCall.Listener<>() {
            };
        }
        return Contexts.interceptCall(Context.current().withValue(CALLER, peer), call, headers, next);
    }
}
