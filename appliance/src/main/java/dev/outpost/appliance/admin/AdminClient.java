package dev.outpost.appliance.admin;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The admin CLI's side of the admin API: HTTP/1.1 over the appliance's Unix socket, one request per connection.
 * Small on purpose: Vert.x's HTTP client over the socket doubled the CPU time of a whole CLI call (Netty and Vert.x
 * loaded for one request; measured in docs/architecture.md).
 */
public final class AdminClient {
    private static final int MAX_RESPONSE = 16 * 1024 * 1024;
    /**
     * How long the appliance may go without taking or sending a byte. Its slowest call, a backup of a large site,
     * streams as it goes; two minutes of silence is a stuck appliance, not a slow one.
     */
    static final Duration IDLE = Duration.ofMinutes(2);

    private final Path socket;
    private final Duration idle;

    public AdminClient(Path socket) {
        this(socket, IDLE);
    }

    AdminClient(Path socket, Duration idle) {
        this.socket = socket;
        this.idle = idle;
    }

    /** An HTTP reply: status and body. */
    public record Reply(int status, String body) {
        public boolean ok() {
            return status >= 200 && status < 300;
        }
    }

    public Reply get(String path) throws IOException {
        return send("GET", path, null);
    }

    public Reply post(String path, String json) throws IOException {
        return send("POST", path, json);
    }

    public Reply delete(String path) throws IOException {
        return send("DELETE", path, null);
    }

    /**
     * POSTs to {@code path} and streams a successful reply's body into {@code out} (which must exist: the caller
     * chooses its mode); any other reply comes back as a {@link Reply} with its error body. For replies too large
     * to hold, such as a site backup.
     */
    public Reply download(String path, Path out) throws IOException {
        String head = "POST " + path + " HTTP/1.1\r\nHost: outpost\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
        try (AdminChannel ch = AdminChannel.open(socket, idle)) {
            ch.writeFully(ByteBuffer.wrap(head.getBytes(StandardCharsets.US_ASCII)));
            java.io.InputStream in = new java.io.BufferedInputStream(ch.input(), 64 * 1024);
            ByteArrayOutputStream headers = new ByteArrayOutputStream();
            int matched = 0;
            while (matched < 4) {
                int b = in.read();
                if (b < 0) {
                    return parse(headers.toByteArray());
                }
                headers.write(b);
                matched = (b == (matched % 2 == 0 ? '\r' : '\n')) ? matched + 1 : (b == '\r' ? 1 : 0);
                if (headers.size() > 64 * 1024) {
                    throw new IOException("admin API reply headers over 64 KiB");
                }
            }
            String raw = headers.toString(StandardCharsets.US_ASCII);
            Reply status = parse(raw);
            if (!status.ok()) {
                headers.write(in.readNBytes(MAX_RESPONSE));
                return parse(headers.toByteArray());
            }
            java.util.regex.Matcher len = java.util.regex.Pattern.compile("(?im)^content-length:\\s*([0-9]{1,18})\\s*$").matcher(raw);
            if (!len.find()) {
                throw new IOException("admin API sent the backup without a length: cannot tell a whole one from a cut one");
            }
            long expected = Long.parseLong(len.group(1));
            long copied;
            try (java.io.OutputStream o = java.nio.file.Files.newOutputStream(out)) {
                copied = in.transferTo(o);
            }
            if (copied != expected) {
                throw new IOException("the appliance's reply was cut short: " + copied + " of " + expected + " bytes");
            }
            return new Reply(status.status(), "");
        }
    }

    private Reply send(String method, String path, String body) throws IOException {
        byte[] payload = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
        String head = method + " " + path + " HTTP/1.1\r\nHost: outpost\r\nConnection: close\r\n"
                + (body == null ? "" : "Content-Type: application/json\r\n")
                + "Content-Length: " + payload.length + "\r\n\r\n";
        try (AdminChannel ch = AdminChannel.open(socket, idle)) {
            ch.writeFully(ByteBuffer.wrap(head.getBytes(StandardCharsets.US_ASCII)));
            ch.writeFully(ByteBuffer.wrap(payload));
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteBuffer buf = ByteBuffer.allocate(8192);
            while (ch.read(buf) > 0) {
                out.write(buf.array(), 0, buf.position());
                buf.clear();
                if (out.size() > MAX_RESPONSE) {
                    throw new IOException("admin API reply over " + MAX_RESPONSE + " bytes");
                }
            }
            return parse(out.toByteArray());
        }
    }

    static Reply parse(String raw) throws IOException {
        return parse(raw.getBytes(StandardCharsets.UTF_8));
    }

    // Read byte for character (ISO-8859-1) so chunk sizes, which count bytes, index the text; the body is decoded as
    // UTF-8 at the end.
    static Reply parse(byte[] bytes) throws IOException {
        String raw = new String(bytes, StandardCharsets.ISO_8859_1);
        if (raw.isEmpty()) {
            // What AdminServer does to a peer that is neither the service's user nor root.
            throw new IOException("the appliance closed the connection without an answer: only its own user and "
                    + "root may use the admin socket (the appliance's log names refused peers)");
        }
        int end = raw.indexOf("\r\n\r\n");
        if (!raw.startsWith("HTTP/1.1 ") || end < 0 || !raw.substring(9, Math.min(12, raw.length())).matches("[0-9]{3}")) {
            throw new IOException("admin API sent no HTTP reply");
        }
        int status = Integer.parseInt(raw.substring(9, 12));
        String headers = raw.substring(0, end).toLowerCase(java.util.Locale.ROOT);
        String body = raw.substring(end + 4);
        if (headers.contains("transfer-encoding: chunked")) {
            body = dechunk(body);
        }
        return new Reply(status, new String(body.getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8));
    }

    // A reply cut inside a chunk, or a size that is not hex, is an error: a partial listing read as a whole one
    // would be a wrong answer, not a short one.
    static String dechunk(String s) throws IOException {
        StringBuilder out = new StringBuilder();
        int i = 0;
        while (true) {
            int eol = s.indexOf("\r\n", i);
            String size = eol < 0 ? "" : s.substring(i, eol).trim();
            int semicolon = size.indexOf(';');
            size = semicolon < 0 ? size : size.substring(0, semicolon).trim();
            if (!size.matches("[0-9a-fA-F]{1,7}")) {
                throw new IOException("admin API sent a chunked reply cut short or malformed");
            }
            int n = Integer.parseInt(size, 16);
            if (n == 0) {
                return out.toString();
            }
            if (eol + 2 + n + 2 > s.length() || !s.startsWith("\r\n", eol + 2 + n)) {
                throw new IOException("admin API sent a chunked reply cut short or malformed");
            }
            out.append(s, eol + 2, eol + 2 + n);
            i = eol + 2 + n + 2;
        }
    }
}
