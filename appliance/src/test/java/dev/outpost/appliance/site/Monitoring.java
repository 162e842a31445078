package dev.outpost.appliance.site;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** The appliance's monitoring port as a monitoring system sees it: plain HTTP, one client, every wait bounded. */
final class Monitoring {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final ObjectMapper JSON = new ObjectMapper();
    // name{labels} value, the Prometheus text format's sample line
    private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{[^}]*\\})? (\\S+)$");

    private final int port;

    Monitoring(int port) {
        this.port = port;
    }

    record Ready(int status, JsonNode body) {
        String reason(String check) {
            return body.path("failed").path(check).asText(null);
        }
    }

    Ready ready() throws IOException, InterruptedException {
        HttpResponse<String> r = get("/health/ready");
        return new Ready(r.statusCode(), JSON.readTree(r.body()));
    }

    int live() throws IOException, InterruptedException {
        return get("/health/live").statusCode();
    }

    /** The scrape as text, failing unless it answered 200. */
    String scrape() throws IOException, InterruptedException {
        HttpResponse<String> r = get("/metrics");
        if (r.statusCode() != 200) {
            throw new IOException("/metrics answered " + r.statusCode() + ": " + r.body());
        }
        return r.body();
    }

    /** Every sample of the scrape, keyed by name and labels as printed (labels sorted by Micrometer). */
    Map<String, Double> metrics() throws IOException, InterruptedException {
        Map<String, Double> out = new TreeMap<>();
        for (String line : scrape().split("\n")) {
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            Matcher m = SAMPLE.matcher(line);
            if (!m.matches()) {
                throw new IOException("not a Prometheus sample line: " + line);
            }
            // Micrometer 1.12 prints a trailing comma inside the braces; keys here read as one writes them.
            String labels = m.group(2) == null ? "" : m.group(2).replace(",}", "}");
            out.put(m.group(1) + labels, Double.parseDouble(m.group(3)));
        }
        return out;
    }

    private HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
