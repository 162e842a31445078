package dev.outpost.central.cli;

import java.util.LinkedHashMap;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.outpost.central.fleet.FleetView;

/**
 * What `site list`/`site show` add from the upward link: last contact, the acknowledgement, and from the site's last
 * summary its backlog and CA expiry; devices by state come from central's own projection of the site's events.
 */
final class SiteContactView {
    private static final ObjectMapper JSON = new ObjectMapper();

    private SiteContactView() {
    }

    static Map<String, Map<String, Object>> bySite(FleetView fleet) throws Exception {
        Map<String, Map<String, Object>> out = new LinkedHashMap<>();
        for (FleetView.SiteContact c : fleet.contacts()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("lastContact", c.lastContact());
            m.put("ackedThrough", c.ackedThrough());
            JsonNode summary = null;
            if (c.lastSummary() != null) {
                try {
                    summary = JSON.readTree(c.lastSummary());
                } catch (java.io.IOException e) {
                    summary = null;
                }
            }
            m.put("summaryAt", c.summaryAt());
            m.put("caNotAfter", summary == null ? null : summary.path("caNotAfter").asText(null));
            m.put("backlogRows", summary == null || !summary.path("backlog").has("rows") ? null
                    : summary.path("backlog").path("rows").asLong());
            m.put("backlog", summary == null ? null : summary.get("backlog"));
            m.put("devices", fleet.countsByState(c.site()));
            out.put(c.site(), m);
        }
        return out;
    }
}
