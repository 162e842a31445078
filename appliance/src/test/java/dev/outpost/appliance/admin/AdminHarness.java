package dev.outpost.appliance.admin;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.outpost.appliance.app.ApplianceApp;
import dev.outpost.appliance.config.ApplianceConfig;
import dev.outpost.appliance.store.AttestationRecord;
import dev.outpost.appliance.store.AttestationStore;
import dev.outpost.appliance.store.Database;
import dev.outpost.appliance.store.DeviceRecord;
import dev.outpost.appliance.store.DeviceState;
import dev.outpost.appliance.store.DeviceStore;

/**
 * A real appliance in this JVM with its own directories, for admin API tests, and a raw HTTP/1.1 client over its
 * socket: raw, so a test sends exactly the bytes it means (bad content types, broken bodies).
 */
final class AdminHarness implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();

    final Path dir;
    final Path socket;
    private ApplianceApp app;
    private String attestation = "";

    AdminHarness(Path dir) {
        this(dir, null);
    }

    /** @param socket the admin socket's path; null: the default, in the private runtime directory */
    AdminHarness(Path dir, Path socket) {
        this.dir = dir;
        this.socket = socket != null ? socket : dir.resolve("run/admin.sock");
    }

    /** Lines under {@code attestation:} in the appliance's configuration (indented by two). */
    AdminHarness attestationConfig(String... lines) {
        this.attestation = String.join("\n", lines);
        return this;
    }

    static String deviceId(int n) {
        return String.format("%064x", n);
    }

    /** Puts enrolled devices in the store before the appliance starts; a {@code failed} one with reasons. */
    AdminHarness seedDevice(int n, DeviceState state, String reasons) {
        try (Database db = Database.open(dir.resolve("data"))) {
            DeviceStore devices = new DeviceStore(db);
            String id = deviceId(n);
            devices.upsertEnrolled(DeviceRecord.enrolled(id, new byte[] {1, 2, (byte) n}, null, "L-2",
                    new byte[] {3, 4}, "spiffe://outpost.test/agent/tpm/" + id, Instant.now(),
                    List.of("tpm:ek-hash:" + id)));
            if (state == DeviceState.REVOKED) {
                devices.revoke(id, reasons, Instant.now());
            } else if (reasons != null) {
                new AttestationStore(db).recordVerdict(new AttestationRecord(id, null, null, null, null, false, null,
                        null, "fail", reasons, Instant.now(), null), state, Instant.now());
            } else if (state != DeviceState.ENROLLED) {
                devices.setState(id, state, Instant.now());
            }
        }
        return this;
    }

    /** The monitoring port (health and metrics) of the running appliance. */
    int metricsPort() {
        return app.metricsPort();
    }

    AdminHarness start() throws Exception {
        Files.createDirectories(dir.resolve("allow"));
        Files.createDirectories(dir.resolve("ek-ca"));
        Path config = dir.resolve("appliance.yaml");
        Files.writeString(config, String.join("\n",
                "trustDomain: outpost.test",
                "site: test-site",
                "dataDir: " + dir.resolve("data"),
                "runtimeDir: " + dir.resolve("run"),
                "mqtt:",
                "  host: 127.0.0.1",
                "  port: 0",
                "metrics:",
                "  host: 127.0.0.1",
                "  port: 0",
                "admin:",
                "  socket: " + socket,
                "enrollment:",
                "  allowListDir: " + dir.resolve("allow"),
                "  ekCaDir: " + dir.resolve("ek-ca"),
                attestation.isEmpty() ? "" : "attestation:\n" + attestation,
                ""));
        app = ApplianceApp.start(ApplianceConfig.load(config));
        return this;
    }

    @Override
    public void close() {
        if (app != null) {
            app.stop();
            app = null;
        }
    }

    /** An HTTP reply as it came. */
    record Reply(int status, String contentType, String body) {
        JsonNode json() throws IOException {
            return JSON.readTree(body);
        }

        String error() throws IOException {
            return json().path("error").asText();
        }
    }

    Reply get(String path) throws IOException {
        return send("GET", path, null, null);
    }

    Reply post(String path, String json) throws IOException {
        return send("POST", path, "application/json", json);
    }

    Reply send(String method, String path, String contentType, String body) throws IOException {
        return send(socket, method, path, contentType, body);
    }

    static Reply send(Path socket, String method, String path, String contentType, String body) throws IOException {
        byte[] payload = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
        String head = method + " " + path + " HTTP/1.1\r\nHost: outpost\r\nConnection: close\r\n"
                + (contentType == null ? "" : "Content-Type: " + contentType + "\r\n")
                + "Content-Length: " + payload.length + "\r\n\r\n";
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            ch.write(ByteBuffer.wrap(head.getBytes(StandardCharsets.UTF_8)));
            ch.write(ByteBuffer.wrap(payload));
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteBuffer buf = ByteBuffer.allocate(8192);
            while (ch.read(buf) > 0) {
                out.write(buf.array(), 0, buf.position());
                buf.clear();
            }
            String raw = out.toString(StandardCharsets.UTF_8);
            int end = raw.indexOf("\r\n\r\n");
            if (!raw.startsWith("HTTP/1.1 ") || end < 0) {
                throw new IOException("no HTTP reply: '" + raw + "'");
            }
            String headers = raw.substring(0, end).toLowerCase(java.util.Locale.ROOT);
            String type = headers.lines().filter(l -> l.startsWith("content-type:")).map(l -> l.substring(13).trim())
                    .findFirst().orElse(null);
            String rest = raw.substring(end + 4);
            if (headers.contains("transfer-encoding: chunked")) {
                rest = dechunk(rest);
            }
            return new Reply(Integer.parseInt(raw.substring(9, 12)), type, rest);
        }
    }

    private static String dechunk(String s) {
        StringBuilder out = new StringBuilder();
        int i = 0;
        while (i < s.length()) {
            int eol = s.indexOf("\r\n", i);
            int n = eol < 0 ? 0 : Integer.parseInt(s.substring(i, eol).trim(), 16);
            if (n == 0) {
                break;
            }
            out.append(s, eol + 2, eol + 2 + n);
            i = eol + 2 + n + 2;
        }
        return out.toString();
    }
}
