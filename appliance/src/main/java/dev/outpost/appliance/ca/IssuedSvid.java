package dev.outpost.appliance.ca;

import java.math.BigInteger;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;
import dev.outpost.spiffe.SpiffeId;
import dev.outpost.spiffe.PemIo;

/**
 * An X509-SVID as handed to a device.
 *
 * @param chain the leaf followed by the intermediates a peer needs to reach the trust bundle; never the root
 *              (peers have it from the bundle), so for a root CA this is the leaf alone
 */
public record IssuedSvid(X509Certificate certificate, List<X509Certificate> chain, BigInteger serial,
                         Instant notBefore, Instant notAfter, SpiffeId spiffeId) {
    public IssuedSvid {
        chain = List.copyOf(chain);
    }

    /** The serial as lowercase hex, the form stored and logged. */
    public String serialHex() {
        return serial.toString(16);
    }

    /** Leaf first, then intermediates: what TLS stacks and java-spiffe expect in a cert file. */
    public String chainPem() {
        return PemIo.encode(chain);
    }
}
