package dev.outpost.appliance.upstream;

import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends the site's JWT authority public keys to central ({@code POST /v1/site/jwt-authorities}) whenever the set it
 * publishes differs from the last one central accepted, so central's trust domain bundle carries them and central and
 * other sites can validate this site's JWT-SVIDs. Offline is normal: a failure is logged once and retried on the next
 * call. Blocking (HTTPS); call it on a worker, in turn with the other calls to central.
 */
public final class JwtAuthorityUplink {
    private static final Logger LOG = LoggerFactory.getLogger(JwtAuthorityUplink.class);

    /** The call to central: the JWKS document in, the HTTP status out. */
    @FunctionalInterface
    public interface Post {
        int post(String jwks) throws Exception;
    }

    private final Supplier<String> jwks;
    private final Post post;
    private String accepted;
    private boolean warned;

    public JwtAuthorityUplink(Supplier<String> jwks, Post post) {
        this.jwks = jwks;
        this.post = post;
    }

    /** Posts the current keys when central has not accepted them yet; returns whether central holds them now. */
    public synchronized boolean push() {
        String now = jwks.get();
        if (now.equals(accepted)) {
            return true;
        }
        try {
            int status = post.post(now);
            if (status / 100 != 2) {
                throw new IllegalStateException("central answered " + status);
            }
            accepted = now;
            warned = false;
            LOG.info("central accepted the site's JWT authorities");
            return true;
        } catch (Exception e) {
            if (!warned) {
                LOG.warn("the site's JWT authorities did not reach central ({}); central cannot validate this site's "
                        + "JWT-SVIDs until they do", e.getMessage());
                warned = true;
            }
            return false;
        }
    }
}
