package dev.outpost.appliance.ca;

import java.security.KeyPair;
import java.time.Clock;
import java.time.Duration;

import dev.outpost.tpm.keys.Pem;

/** Standalone rotation: the next site CA is a new self-signed root with the configured lifetime. */
public final class SelfSigner implements NextCaSigner {
    private final String trustDomain;
    private final String site;
    private final Duration ttl;
    private final Clock clock;

    public SelfSigner(String trustDomain, String site, Duration ttl, Clock clock) {
        this.trustDomain = trustDomain;
        this.site = site;
        this.ttl = ttl;
        this.clock = clock;
    }

    @Override
    public Signed sign(KeyPair key, String csrPem) throws Exception {
        return new Signed(Pem.certificate(SiteCa.selfSign(key, trustDomain, site, ttl, clock)), null);
    }

    @Override
    public String describe() {
        return "self-signed (standalone)";
    }
}
