package dev.outpost.mqtt.protocol;

import static com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * Device → appliance, with its node SVID: sign a JWT-SVID for a workload of this node under an entry. The site's JWT
 * authority key stays at the appliance, so a device cut off from it can serve only tokens it already holds.
 *
 * @param audience  1 to 16 audiences, each at most 256 characters
 * @param imaPath   as in {@link WorkloadSvidRequest}
 * @param imaSha256 as in {@link WorkloadSvidRequest}
 */
public record WorkloadJwtRequest(int v, String entryId, List<String> audience,
        @OptionalField @JsonInclude(NON_NULL) String imaPath,
        @OptionalField @JsonInclude(NON_NULL) String imaSha256) implements Messages {
    public static final int MAX_AUDIENCES = 16;
}
