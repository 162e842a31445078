package dev.outpost.central.cli;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import dev.outpost.spiffe.X509Certs;
import dev.outpost.central.app.CaBinding;
import dev.outpost.central.app.Services;
import dev.outpost.central.ca.CentralCa;
import dev.outpost.central.ca.Certs;
import dev.outpost.central.config.CentralConfig;
import dev.outpost.central.store.Database;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "ca", mixinStandardHelpOptions = true, description = "Central's own CA.",
        subcommands = {CaCommand.Init.class, CaCommand.Show.class, CaCommand.Import.class})
final class CaCommand {
    private static final int MAX_FILE = 64 * 1024;

    static Map<String, Object> view(CentralCa ca) throws Exception {
        Map<String, Object> m = new LinkedHashMap<>();
        X509Certificate c = ca.certificate();
        m.put("trustDomain", ca.trustDomain());
        m.put("subject", c.getSubjectX500Principal().getName());
        m.put("issuer", c.getIssuerX500Principal().getName());
        m.put("serial", Certs.serialHex(c));
        m.put("notBefore", c.getNotBefore().toInstant().toString());
        m.put("notAfter", c.getNotAfter().toInstant().toString());
        m.put("selfSigned", X509Certs.isSelfSigned(c));
        m.put("roots", ca.roots().stream().map(r -> r.getSubjectX500Principal().getName()).toList());
        return m;
    }

    static void print(CommandSpec spec, CentralCa ca, boolean json) throws Exception {
        if (json) {
            CliSupport.json(spec, view(ca));
            return;
        }
        for (Map.Entry<String, Object> e : view(ca).entrySet()) {
            CliSupport.println(spec, String.format("%-12s %s", e.getKey() + ":", e.getValue()));
        }
    }

    @Command(name = "init", mixinStandardHelpOptions = true,
            description = "Make a self-signed root CA (P-256) in <dataDir>/ca (also done at first start).")
    static final class Init implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        ConfigOption config;
        @Option(names = "--json")
        boolean json;

        @Override
        public Integer call() throws Exception {
            CentralConfig c = config.load();
            CentralCa ca = CentralCa.create(Services.caDir(c), c.trustDomain, Clock.systemUTC());
            try (Database db = config.database(c)) {
                CaBinding.bind(ca, db, Clock.systemUTC());
            }
            print(spec, ca, json);
            return 0;
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "Show central's CA certificate.")
    static final class Show implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        ConfigOption config;
        @Option(names = "--json")
        boolean json;
        @Option(names = "--pem", description = "Print the roots sites must trust, as PEM")
        boolean pem;

        @Override
        public Integer call() throws Exception {
            CentralConfig c = config.load();
            CentralCa ca = CentralCa.load(Services.caDir(c), c.trustDomain, Clock.systemUTC());
            if (pem) {
                spec.commandLine().getOut().print(dev.outpost.spiffe.PemIo.encode(ca.roots()));
                spec.commandLine().getOut().flush();
                return 0;
            }
            print(spec, ca, json);
            return 0;
        }
    }

    @Command(name = "import", mixinStandardHelpOptions = true,
            description = "Install an intermediate CA signed by an offline root. Restart every instance afterwards.")
    static final class Import implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        ConfigOption config;
        @Option(names = "--cert", required = true, paramLabel = "FILE", description = "The intermediate's certificate (PEM)")
        Path cert;
        @Option(names = "--key", required = true, paramLabel = "FILE", description = "Its private key (PKCS#8 PEM)")
        Path key;
        @Option(names = "--chain", required = true, paramLabel = "FILE",
                description = "The certificates above it, ending with the offline root (PEM)")
        Path chain;
        @Option(names = "--json")
        boolean json;

        @Override
        public Integer call() throws Exception {
            CentralConfig c = config.load();
            CentralCa ca = CentralCa.importCa(Services.caDir(c), c.trustDomain, read(cert), read(key), read(chain), Clock.systemUTC());
            try (Database db = config.database(c)) {
                CaBinding.replace(ca, db, Clock.systemUTC());
            }
            print(spec, ca, json);
            return 0;
        }

        private static String read(Path p) throws Exception {
            if (Files.size(p) > MAX_FILE) {
                throw new IllegalArgumentException(p + " is over " + MAX_FILE + " bytes");
            }
            return Files.readString(p, StandardCharsets.US_ASCII);
        }
    }

}
