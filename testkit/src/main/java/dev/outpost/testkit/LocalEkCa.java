package dev.outpost.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The EK certificate authority of one test JVM: swtpm_localca's state in a private temp dir, so tests never
 * touch the machine-wide /var/lib/swtpm-localca. swtpm_localca creates the root and issuer on first use and
 * serialises concurrent signers with its own lock file.
 */
public final class LocalEkCa {
    private static LocalEkCa instance;

    private final Path dir;
    private final Path setupConfig;

    private LocalEkCa(Path dir) throws IOException {
        this.dir = dir;
        Path conf = dir.resolve("swtpm-localca.conf");
        Files.writeString(conf, String.join("\n",
                "statedir = " + dir,
                "signingkey = " + dir.resolve("signkey.pem"),
                "issuercert = " + dir.resolve("issuercert.pem"),
                "certserial = " + dir.resolve("certserial"),
                ""));
        Path options = dir.resolve("swtpm-localca.options");
        Files.writeString(options, String.join("\n",
                "--platform-manufacturer Outpost",
                "--platform-version 2.1",
                "--platform-model swtpm-test",
                ""));
        setupConfig = dir.resolve("swtpm_setup.conf");
        Files.writeString(setupConfig, String.join("\n",
                "create_certs_tool = " + Tools.require("swtpm_localca"),
                "create_certs_tool_config = " + conf,
                "create_certs_tool_options = " + options,
                "active_pcr_banks = sha1,sha256",
                ""));
    }

    /** The CA of this JVM, created on first call. */
    public static synchronized LocalEkCa get() {
        if (instance == null) {
            try {
                Path dir = Files.createTempDirectory("outpost-ekca-");
                dir.toFile().deleteOnExit();
                instance = new LocalEkCa(dir);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return instance;
    }

    Path setupConfig() {
        return setupConfig;
    }

    public Path dir() {
        return dir;
    }

    /** Self-signed root; exists once the first swtpm has been manufactured. */
    public Path rootCertificate() {
        return dir.resolve("swtpm-localca-rootca-cert.pem");
    }

    /** Intermediate that signs the EK certificates; exists once the first swtpm has been manufactured. */
    public Path issuerCertificate() {
        return dir.resolve("issuercert.pem");
    }
}
