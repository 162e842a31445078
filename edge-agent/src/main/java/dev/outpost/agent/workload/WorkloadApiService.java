package dev.outpost.agent.workload;

import java.security.GeneralSecurityException;
import java.util.List;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.outpost.agent.workload.WorkloadAttestor.AttestationException;
import dev.outpost.agent.workload.WorkloadAttestor.Workload;
import dev.outpost.mqtt.protocol.WorkloadEntry;
import dev.outpost.mqtt.protocol.WorkloadJwtRequest;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.spiffe.workloadapi.grpc.SpiffeWorkloadAPIGrpc;
import io.spiffe.workloadapi.grpc.Workload.JWTBundlesRequest;
import io.spiffe.workloadapi.grpc.Workload.JWTBundlesResponse;
import io.spiffe.workloadapi.grpc.Workload.JWTSVID;
import io.spiffe.workloadapi.grpc.Workload.JWTSVIDRequest;
import io.spiffe.workloadapi.grpc.Workload.JWTSVIDResponse;
import io.spiffe.workloadapi.grpc.Workload.ValidateJWTSVIDRequest;
import io.spiffe.workloadapi.grpc.Workload.ValidateJWTSVIDResponse;
import io.spiffe.workloadapi.grpc.Workload.X509BundlesRequest;
import io.spiffe.workloadapi.grpc.Workload.X509BundlesResponse;
import io.spiffe.workloadapi.grpc.Workload.X509SVIDRequest;
import io.spiffe.workloadapi.grpc.Workload.X509SVIDResponse;

/**
 * The five methods of the SPIFFE Workload API. Each call attests its caller from the connection's peer credentials
 * (the security header was checked by {@link CallerInterceptor}); the answers come from {@link WorkloadIdentities}.
 */
final class WorkloadApiService extends SpiffeWorkloadAPIGrpc.SpiffeWorkloadAPIImplBase {
    private static final Logger LOG = LoggerFactory.getLogger(WorkloadApiService.class);
    private static final int MAX_AUDIENCE = 256;

    private final WorkloadAttestor attestor;
    private final WorkloadIdentities identities;
    private final JwtSvidValidator validator;

    WorkloadApiService(WorkloadAttestor attestor, WorkloadIdentities identities, JwtSvidValidator validator) {
        this.attestor = attestor;
        this.identities = identities;
        this.validator = validator;
    }

    @Override
    public void fetchX509SVID(X509SVIDRequest request, StreamObserver<X509SVIDResponse> out) {
        Workload w = attest(out);
        if (w != null) {
            new ResponseStream<>((ServerCallStreamObserver<X509SVIDResponse>) out, () -> {
                List<X509Svids.Held> svids = identities.x509For(w);
                List<WorkloadEntry> entries = svids.stream().map(X509Svids.Held::entry).toList();
                return Responses.x509(svids, identities.bundles(), identities.federatesWith(entries));
            }, identities).open();
        }
    }

    @Override
    public void fetchX509Bundles(X509BundlesRequest request, StreamObserver<X509BundlesResponse> out) {
        Workload w = attest(out);
        if (w != null) {
            new ResponseStream<>((ServerCallStreamObserver<X509BundlesResponse>) out, () -> Responses.x509Bundles(
                    identities.bundles(), identities.federatesWith(identities.entriesFor(w))), identities).open();
        }
    }

    @Override
    public void fetchJWTBundles(JWTBundlesRequest request, StreamObserver<JWTBundlesResponse> out) {
        Workload w = attest(out);
        if (w != null) {
            new ResponseStream<>((ServerCallStreamObserver<JWTBundlesResponse>) out, () -> Responses.jwtBundles(
                    identities.bundles(), identities.federatesWith(identities.entriesFor(w))), identities).open();
        }
    }

    @Override
    public void fetchJWTSVID(JWTSVIDRequest request, StreamObserver<JWTSVIDResponse> out) {
        if (request.getAudienceCount() == 0) {
            out.onError(Status.INVALID_ARGUMENT.withDescription("audience must be specified").asException());
            return;
        }
        if (request.getAudienceCount() > WorkloadJwtRequest.MAX_AUDIENCES
                || request.getAudienceList().stream().anyMatch(a -> a.isEmpty() || a.length() > MAX_AUDIENCE)) {
            out.onError(Status.INVALID_ARGUMENT.withDescription("1 to " + WorkloadJwtRequest.MAX_AUDIENCES
                    + " audiences of 1 to " + MAX_AUDIENCE + " characters").asException());
            return;
        }
        Workload w = attest(out);
        if (w == null) {
            return;
        }
        try {
            JWTSVIDResponse.Builder b = JWTSVIDResponse.newBuilder();
            for (JwtSvids.Held h : identities.jwtFor(w, request.getAudienceList(), request.getSpiffeId())) {
                b.addSvids(JWTSVID.newBuilder().setSpiffeId(h.spiffeId()).setSvid(h.token()));
            }
            out.onNext(b.build());
            out.onCompleted();
        } catch (StatusException e) {
            out.onError(e);
        }
    }

    @Override
    public void validateJWTSVID(ValidateJWTSVIDRequest request, StreamObserver<ValidateJWTSVIDResponse> out) {
        if (request.getAudience().isEmpty()) {
            out.onError(Status.INVALID_ARGUMENT.withDescription("audience must be specified").asException());
            return;
        }
        if (request.getSvid().isEmpty()) {
            out.onError(Status.INVALID_ARGUMENT.withDescription("svid must be specified").asException());
            return;
        }
        // Any attested local process may ask to validate a token (as with SPIRE, no entry is needed): against the
        // JWT authorities of its own trust domain and of those its entries federate with.
        Workload w = attest(out);
        if (w == null) {
            return;
        }
        try {
            TrustBundles t = identities.bundles();
            java.util.Set<String> domains = new java.util.HashSet<>(identities.federatesWith(identities.matching(w)));
            domains.add(t.trustDomain());
            java.util.Map<String, String> keys = new java.util.HashMap<>(t.jwtAuthorities());
            keys.keySet().retainAll(domains);
            JwtSvidValidator.Valid v = validator.validate(request.getSvid(), request.getAudience(), keys);
            out.onNext(ValidateJWTSVIDResponse.newBuilder().setSpiffeId(v.spiffeId())
                    .setClaims(Responses.struct(v.claims())).build());
            out.onCompleted();
        } catch (GeneralSecurityException e) {
            out.onError(Status.INVALID_ARGUMENT.withDescription("invalid JWT-SVID: " + e.getMessage()).asException());
        } catch (StatusException e) {
            out.onError(e);
        }
    }

    private Workload attest(StreamObserver<?> out) {
        PeerCredentials peer = CallerInterceptor.CALLER.get();
        try {
            return attestor.attest(peer, identities.anyEntryNeeds("ima:verified"));
        } catch (AttestationException e) {
            LOG.info("Workload API caller pid {} uid {} refused: {}", peer.pid(), peer.uid(), e.getMessage());
            out.onError(Status.PERMISSION_DENIED.withDescription(e.getMessage()).asException());
            return null;
        }
    }
}
