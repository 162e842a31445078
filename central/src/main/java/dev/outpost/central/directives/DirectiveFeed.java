package dev.outpost.central.directives;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.outpost.central.refusal.Refusal;
import dev.outpost.central.store.Database;

/**
 * {@code GET /v1/site/directives?after=V}: the directives after V in version order, at most {@link #MAX_PER_ANSWER}
 * and about {@link #MAX_ANSWER_CHARS} of data, with the latest version so a site knows whether to ask again. The
 * same answer for every site: directives are fleet-wide. Blocking (JDBC): call on a worker.
 */
public final class DirectiveFeed {
    public static final int MAX_PER_ANSWER = 100;
    // Under the site's 1 MiB response limit with room for the envelope; a single directive is at most 1,000,000
    // characters of data (DirectiveAdmin), so one always fits alone.
    static final int MAX_ANSWER_CHARS = 512 * 1024;
    private static final Pattern VERSION = Pattern.compile("0|[1-9][0-9]{0,17}");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Database db;
    private final DirectiveStore store = new DirectiveStore();

    public DirectiveFeed(Database db) {
        this.db = db;
    }

    /** @param query the request's query parameters: exactly one {@code after}, nothing else */
    public Map<String, Object> answer(Map<String, List<String>> query) throws Refusal {
        long after = after(query);
        record Page(long latest, List<DirectiveStore.Directive> directives) {
        }
        Page page = db.inTransaction(c -> new Page(store.latest(c), store.after(c, after, MAX_PER_ANSWER, MAX_ANSWER_CHARS)));
        List<Map<String, Object>> out = new ArrayList<>();
        for (DirectiveStore.Directive d : page.directives()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("version", d.version());
            m.put("kind", d.kind());
            try {
                m.put("data", JSON.readTree(d.data()));
            } catch (JsonProcessingException e) {
                // Written by DirectiveAdmin from a map: unreadable data is a broken store, not the site's fault.
                throw new IllegalStateException("directive " + d.version() + " holds unreadable data", e);
            }
            out.add(m);
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("v", 1);
        // A site that asks beyond the latest (a central restored from an older backup) learns it from latest < after.
        body.put("latest", page.latest());
        body.put("directives", out);
        return body;
    }

    static long after(Map<String, List<String>> query) throws Refusal {
        for (String k : query.keySet()) {
            if (!"after".equals(k)) {
                throw Refusal.badRequest("unknown query parameter \"" + clip(k) + "\"");
            }
        }
        List<String> values = query.get("after");
        if (values == null || values.size() != 1) {
            throw Refusal.badRequest("\"after\" is required, once: the last version applied (0 for none)");
        }
        String v = values.get(0);
        if (!VERSION.matcher(v).matches()) {
            throw Refusal.badRequest("\"after\" must be a non-negative integer, got \"" + clip(v) + "\"");
        }
        return Long.parseLong(v);
    }

    private static String clip(String s) {
        String t = s.length() > 40 ? s.substring(0, 40) + "…" : s;
        return t.replaceAll("[^\\x20-\\x7e…]", "?");
    }
}
