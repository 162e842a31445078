package dev.outpost.appliance.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.outpost.appliance.admin.AdminClient;
import dev.outpost.appliance.ca.CaFiles;
import dev.outpost.appliance.ca.CaInstaller;
import dev.outpost.appliance.config.ApplianceConfig;
import dev.outpost.appliance.store.SiteDirectory;
import dev.outpost.spiffe.KeyFiles;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "ca", mixinStandardHelpOptions = true, description = "The site CA.",
        subcommands = {CaCommand.Show.class, CaCommand.Csr.class, CaCommand.Install.class})
final class CaCommand {
    private static final int MAX_PEM_BYTES = 64 * 1024;

    @Command(name = "show", mixinStandardHelpOptions = true,
            description = "Trust domain, mode, chain, expiry, rotation state and the next CA, if any.")
    static final class Show implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        AdminSocket admin;
        @Option(names = "--json", description = "Print JSON (the PEM bundle in field pem)")
        boolean json;

        @Override
        public Integer call() throws Exception {
            String body = admin.call(admin.client().get("/v1/ca"));
            if (json) {
                CliSupport.println(spec, AdminSocket.pretty(body));
                return 0;
            }
            JsonNode ca = AdminSocket.JSON.readTree(body);
            var w = spec.commandLine().getOut();
            for (String f : new String[] {"trustDomain", "mode", "keyProtection", "subject", "notAfter"}) {
                w.println(f + ": " + ca.path(f).asText());
            }
            for (JsonNode c : ca.path("chain")) {
                w.println("chain: " + c.path("subject").asText() + " (until " + c.path("notAfter").asText() + ")");
            }
            JsonNode r = ca.path("rotation");
            if (!r.isMissingNode()) {
                w.println("rotation: " + r.path("state").asText() + (r.path("reason").asText().isEmpty() ? ""
                        : " (" + r.path("reason").asText() + ")"));
                w.println("prepareAt: " + r.path("prepareAt").asText() + ", activateAt: " + r.path("activateAt").asText());
                if (r.has("next")) {
                    w.println("next: " + r.path("next"));
                }
            }
            w.print(ca.path("pem").asText());
            w.flush();
            return 0;
        }
    }

    /**
     * Where the file flow acts. A running appliance (its database is locked) owns the CA directory and holds the CA in
     * memory: the command goes through its admin socket, so the same process checks, writes and starts using the new
     * CA, and never races the rotation timer. A stopped one (before the first start, or while down): on the files.
     */
    static class Target {
        @Option(names = "--config", description = "Config file (default: /etc/outpost/appliance.yaml when it exists, else built-in defaults)")
        Path config;
        @Option(names = "--data-dir", description = "Override dataDir")
        Path dataDir;

        ApplianceConfig load() {
            return RunCommand.load(config, dataDir, null);
        }

        static boolean running(ApplianceConfig c) throws IOException {
            return new SiteDirectory(c.dataDir(), c.caDir()).inUse();
        }

        static CaInstaller installer(ApplianceConfig c) {
            return new CaInstaller(new CaFiles(c.caDir(), dev.outpost.appliance.ca.CaKeys.of(c)), c.trustDomain(), c.site(),
                    Clock.systemUTC());
        }

        static String call(ApplianceConfig c, String path, ObjectNode body) throws IOException {
            AdminClient.Reply r = new AdminClient(c.admin().socket()).post(path, body.toString());
            if (!r.ok()) {
                String why = r.body();
                try {
                    why = AdminSocket.JSON.readTree(r.body()).path("error").asText(r.body());
                } catch (IOException ignored) {
                    // not JSON: as it is
                }
                throw new IOException(why);
            }
            return r.body();
        }
    }

    @Command(name = "csr", mixinStandardHelpOptions = true,
            description = "Make the site CA key here (it never leaves this host) and write its certificate request "
                    + "(PKCS#10) for the upstream CA to sign. Run again: the same key, a new request.")
    static final class Csr extends Target implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Option(names = "--out", required = true, description = "Where to write the request (PEM)")
        Path out;
        @Option(names = "--new-key", description = "Replace the pending key (an earlier request becomes useless)")
        boolean newKey;

        @Override
        public Integer call() throws Exception {
            ApplianceConfig c = load();
            String csr;
            if (running(c)) {
                ObjectNode body = AdminSocket.JSON.createObjectNode().put("newKey", newKey);
                csr = AdminSocket.JSON.readTree(call(c, "/v1/ca/csr", body)).path("csr").asText();
            } else {
                csr = installer(c).csr(newKey);
            }
            KeyFiles.writePublic(out.toAbsolutePath(), csr.getBytes(StandardCharsets.US_ASCII));
            CliSupport.println(spec, "wrote " + out + ": have it signed as a CA certificate (CA:true, pathlen:0, "
                    + "keyCertSign, URI SAN spiffe://" + c.trustDomain() + "), then run `outpost-appliance ca install "
                    + "--cert FILE --chain FILE`");
            return 0;
        }
    }

    @Command(name = "install", mixinStandardHelpOptions = true,
            description = "Check a signed site CA certificate against the pending key and install it: at once when "
                    + "there is no usable CA, else as the next CA (active at 1/6 of the current lifetime left). "
                    + "Refused with the reason, and nothing changed, unless everything holds.")
    static final class Install extends Target implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Option(names = "--cert", required = true, description = "The site CA certificate (PEM), optionally followed by intermediates")
        Path cert;
        @Option(names = "--chain", required = true, description = "The certificates above it, ending at the root devices will trust (PEM)")
        Path chain;

        @Override
        public Integer call() throws Exception {
            ApplianceConfig c = load();
            if (!c.ca().nested()) {
                throw new IllegalArgumentException("ca.mode is standalone (a self-signed CA rotated by the appliance); "
                        + "set ca.mode: nested to use a CA signed upstream");
            }
            String certPem = read(cert);
            String chainPem = read(chain);
            if (running(c)) {
                ObjectNode body = AdminSocket.JSON.createObjectNode().put("certificate", certPem).put("chain", chainPem);
                JsonNode r = AdminSocket.JSON.readTree(call(c, "/v1/ca/install", body));
                CliSupport.println(spec, "installed " + ("active".equals(r.path("installed").asText())
                        ? "and active now" : "as the next CA; active at "
                        + r.path("rotation").path("activateAt").asText()));
                return 0;
            }
            CaInstaller installer = installer(c);
            CaInstaller.Outcome o = installer.install(certPem, chainPem, installer.activeUsable());
            CliSupport.println(spec, o == CaInstaller.Outcome.ACTIVE
                    ? "installed: " + c.caDir().resolve("ca.crt") + " is the site CA; start the appliance"
                    : "installed as the next CA (" + c.caDir().resolve(CaFiles.NEXT_CERT) + "); the appliance switches "
                            + "to it at 1/6 of the current CA's lifetime left");
            return 0;
        }

        private static String read(Path p) throws IOException {
            if (Files.size(p) > MAX_PEM_BYTES) {
                throw new IOException(p + " is over " + MAX_PEM_BYTES + " bytes");
            }
            return Files.readString(p, StandardCharsets.US_ASCII);
        }
    }
}
