package dev.outpost.agent.workload;

import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Map;

/**
 * The trust the agent holds, as the Workload API serves it: the site's trust domain's X.509 authorities, federated
 * trust domains' X.509 authorities, and JWT authorities (trust domain → JWKS JSON) from the site bundle.
 *
 * @param sequence the site bundle's sequence: streams are pushed again when it moves
 */
public record TrustBundles(String trustDomain, long sequence, List<X509Certificate> x509,
        Map<String, List<X509Certificate>> federated, Map<String, String> jwtAuthorities) {

    public TrustBundles {
        x509 = List.copyOf(x509);
        federated = Map.copyOf(federated);
        jwtAuthorities = jwtAuthorities == null ? Map.of() : Map.copyOf(jwtAuthorities);
    }

    /** Where the Workload API reads the current trust from (the agent's state directory, or a test's). */
    @FunctionalInterface
    public interface Source {
        TrustBundles current() throws java.io.IOException;
    }
}
