package dev.outpost.tpm.trust;

import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.Date;
import java.util.List;
import java.util.function.Predicate;

import dev.outpost.tpm.keys.Endorsement;
import dev.outpost.tpm.wire.TpmPublic;

/**
 * Decides whether an EK belongs to a device this site accepts: by the allow-list of device ids, by its
 * certificate's chain to a manufacturer CA, or both, as configured. Every refusal says which test failed.
 */
public final class EkTrust {
    private final EkTrustMode mode;
    private final Predicate<String> allowList;
    private final ManufacturerCas cas;
    private final Clock clock;

    /** The verdict; {@code via} names what vouched for the EK. */
    public record Decision(boolean trusted, String via, String reason) {
        static Decision yes(String via) {
            return new Decision(true, via, null);
        }

        static Decision no(String reason) {
            return new Decision(false, null, reason);
        }
    }

    public EkTrust(EkTrustMode mode, Predicate<String> allowList, ManufacturerCas cas, Clock clock) {
        this.mode = mode;
        this.allowList = allowList;
        this.cas = cas;
        this.clock = clock;
    }

    public Decision decide(String deviceId, TpmPublic ek, byte[] ekCertificateDer) {
        boolean listed = allowList.test(deviceId);
        String certProblem = certificateProblem(ek, ekCertificateDer);
        boolean chained = certProblem == null;
        switch (mode) {
            case HASH:
                return listed ? Decision.yes("allow-list") : Decision.no("EK " + deviceId + " is not on the allow-list");
            case CERT:
                return chained ? Decision.yes("certificate") : Decision.no(certProblem);
            case BOTH:
                if (!listed) {
                    return Decision.no("EK " + deviceId + " is not on the allow-list (both required)");
                }
                return chained ? Decision.yes("allow-list+certificate") : Decision.no(certProblem + " (both required)");
            default:
                if (listed) {
                    return Decision.yes("allow-list");
                }
                return chained ? Decision.yes("certificate")
                        : Decision.no("EK is not on the allow-list and " + lowerFirst(certProblem));
        }
    }

    private String certificateProblem(TpmPublic ek, byte[] der) {
        if (der == null || der.length == 0) {
            return "no EK certificate was presented";
        }
        X509Certificate cert;
        try {
            cert = Endorsement.parseCertificate(der);
        } catch (CertificateException | RuntimeException e) {
            return "EK certificate does not parse: " + e.getMessage();
        }
        if (!Endorsement.certifies(cert, ek.publicKey())) {
            return "EK certificate is for another key than the EK presented";
        }
        return cas.validate(cert, List.of(), Date.from(clock.instant()));
    }

    private static String lowerFirst(String s) {
        return s.isEmpty() ? s : Character.toLowerCase(s.charAt(0)) + s.substring(1);
    }
}
