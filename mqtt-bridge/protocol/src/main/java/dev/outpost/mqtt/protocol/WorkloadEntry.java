package dev.outpost.mqtt.protocol;

import java.util.List;

/**
 * A registration entry as the agent needs it: which workloads (all of {@code selectors} must hold for the caller)
 * get which SPIFFE ID. The node half of the entry (its parent selectors) stays at the appliance, which only sends a
 * node the entries whose parent selectors it holds.
 *
 * @param id             the entry's id at the appliance (a UUID); workload requests name it
 * @param spiffeId       the workload's SPIFFE ID, in the site's trust domain
 * @param selectors      workload selectors, e.g. {@code unix:uid:1000}, {@code unix:sha256:<hex>}, {@code ima:verified}
 * @param x509TtlSeconds the longest X509-SVID life for this entry (the node's own limits may cut it shorter)
 * @param jwtTtlSeconds  the longest JWT-SVID life
 * @param federatesWith  trust domains whose bundles this workload also receives
 * @param dnsNames       DNS SANs for the X509-SVID (the first is not the subject: SPIFFE SVIDs have no CN rule)
 */
public record WorkloadEntry(String id, String spiffeId, List<String> selectors, long x509TtlSeconds,
        long jwtTtlSeconds, List<String> federatesWith, List<String> dnsNames) {
    public static final int MAX_SELECTORS = 16;
    public static final int MAX_DNS_NAMES = 8;
    public static final int MAX_FEDERATES_WITH = 16;
}
