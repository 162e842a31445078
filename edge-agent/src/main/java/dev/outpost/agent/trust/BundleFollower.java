package dev.outpost.agent.trust;

import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Map;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.outpost.agent.state.AgentState;
import dev.outpost.mqtt.protocol.Codec;
import dev.outpost.mqtt.protocol.ProtocolException;
import dev.outpost.mqtt.protocol.SiteBundle;

/**
 * Takes the site bundle from the retained bundle topic and makes it the device's trust, when it is for our trust
 * domain and its sequence moved forward. The message arrived on a connection whose server the current bundle
 * authenticated, on a topic only the appliance may write; the sequence rule keeps an old retained copy from
 * rolling trust back.
 */
public final class BundleFollower {
    private static final Logger LOG = LoggerFactory.getLogger(BundleFollower.class);
    private static final Codec CODEC = new Codec(SiteBundle.LIMITS);
    private static final int MAX_AUTHORITIES = 512;

    /** What became of one bundle message. */
    public enum Outcome { APPLIED, NOT_NEWER, REFUSED }

    private final AgentState state;
    private final String trustDomain;
    private final Runnable onApplied;

    public BundleFollower(AgentState state, String trustDomain) {
        this(state, trustDomain, () -> { });
    }

    /** @param onApplied told after a new bundle is saved (the Workload API pushes it to its streams) */
    public BundleFollower(AgentState state, String trustDomain, Runnable onApplied) {
        this.state = state;
        this.trustDomain = trustDomain;
        this.onApplied = onApplied;
    }

    public synchronized Outcome accept(byte[] payload) {
        SiteBundle b;
        try {
            b = CODEC.decode(payload, SiteBundle.class);
            if (!trustDomain.equals(b.trustDomain())) {
                throw new ProtocolException(dev.outpost.mqtt.protocol.ErrorCode.BAD_REQUEST,
                        "bundle is for trust domain " + b.trustDomain() + ", this device is in " + trustDomain);
            }
            authorities(b.x509Authorities(), trustDomain);
            for (Map.Entry<String, String> e : b.federated().entrySet()) {
                authorities(e.getValue(), e.getKey());
            }
        } catch (ProtocolException | GeneralSecurityException e) {
            LOG.warn("site bundle refused, trust unchanged: {}", e.getMessage());
            return Outcome.REFUSED;
        }
        try {
            long have = state.bundleSequence();
            if (b.sequence() <= have) {
                LOG.debug("site bundle {} is not newer than {}", b.sequence(), have);
                return Outcome.NOT_NEWER;
            }
            state.saveBundle(b.x509Authorities(), b.federated(), b.jwtAuthorities(), b.sequence());
            LOG.info("trust bundle {} applied: {} federated trust domain(s), JWT authorities for {}", b.sequence(),
                    b.federated().size(), b.jwtAuthorities() == null ? "none" : b.jwtAuthorities().keySet());
            onApplied.run();
            return Outcome.APPLIED;
        } catch (IOException e) {
            LOG.warn("site bundle {} not saved, trust unchanged: {}", b.sequence(), e.getMessage());
            return Outcome.REFUSED;
        }
    }

    private static void authorities(String pem, String td) throws GeneralSecurityException {
        List<X509Certificate> certs = AgentState.certificates(pem);
        if (certs.isEmpty() || certs.size() > MAX_AUTHORITIES) {
            throw new GeneralSecurityException("bundle of " + td + " holds " + certs.size()
                    + " certificates (1 to " + MAX_AUTHORITIES + " accepted)");
        }
        for (X509Certificate c : certs) {
            if (c.getBasicConstraints() < 0) {
                throw new GeneralSecurityException("bundle of " + td + " holds a certificate that is not a CA: "
                        + c.getSubjectX500Principal());
            }
        }
    }

    /** The trust domain of a SPIFFE ID {@code spiffe://<td>/...}. */
    public static String trustDomainOf(String spiffeId) {
        if (spiffeId == null || !spiffeId.startsWith("spiffe://")) {
            throw new IllegalArgumentException("not a SPIFFE ID: " + spiffeId);
        }
        String rest = spiffeId.substring("spiffe://".length());
        int slash = rest.indexOf('/');
        return slash < 0 ? rest : rest.substring(0, slash);
    }
}
