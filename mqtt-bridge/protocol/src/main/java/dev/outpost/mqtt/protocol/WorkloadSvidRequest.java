package dev.outpost.mqtt.protocol;

import static com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * Device → appliance, with its node SVID: sign an X509-SVID for a workload of this node under an entry.
 *
 * @param entryId   the registration entry the agent matched the workload to
 * @param csr       PKCS#10, DER, base64: a key the agent made for the workload (it never leaves the device); the
 *                  CSR asks for the entry's SPIFFE ID as its only URI SAN and at most the entry's DNS names
 * @param imaPath   with {@code imaSha256}: present only when the entry requires {@code ima:verified}; the workload's
 *                  binary as the device's IMA list measured it, which the appliance checks against the device's
 *                  runtime policy
 * @param imaSha256 lowercase hex SHA-256 of that binary, as measured
 */
public record WorkloadSvidRequest(int v, String entryId, String csr,
        @OptionalField @JsonInclude(NON_NULL) String imaPath,
        @OptionalField @JsonInclude(NON_NULL) String imaSha256) implements Messages {
}
