package dev.outpost.central.cli;

import java.io.PrintWriter;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import dev.outpost.central.config.CentralConfig;
import dev.outpost.central.config.Durations;
import dev.outpost.central.sites.SiteAdmin;
import dev.outpost.central.store.Database;
import dev.outpost.central.store.IssuanceStore;
import dev.outpost.central.store.SiteRecord;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "site", mixinStandardHelpOptions = true, description = "The site registry.",
        subcommands = {SiteCommand.Add.class, SiteCommand.ListSites.class, SiteCommand.Show.class, SiteCommand.Revoke.class,
                SiteCommand.SignCa.class})
final class SiteCommand {

    static Map<String, Object> view(SiteRecord s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", s.name());
        m.put("state", s.state());
        m.put("joinedBy", s.joinedBy());
        m.put("ekHash", s.ekHash());
        m.put("createdAt", s.createdAt());
        m.put("joinedAt", s.joinedAt());
        m.put("revokedAt", s.revokedAt());
        m.put("reason", s.reason());
        return m;
    }

    abstract static class DbCommand implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        ConfigOption config;
        @Option(names = "--json", description = "Print JSON")
        boolean json;

        @Override
        public Integer call() throws Exception {
            CentralConfig c = config.load();
            try (Database db = config.database(c)) {
                this.fleet = new dev.outpost.central.fleet.FleetView(db);
                return run(c, new SiteAdmin(db, Clock.systemUTC()));
            }
        }

        /** The fleet view over the same database, for what sites reported (set before {@link #run}). */
        dev.outpost.central.fleet.FleetView fleet;

        abstract int run(CentralConfig c, SiteAdmin admin) throws Exception;
    }

    @Command(name = "add", mixinStandardHelpOptions = true,
            description = "Register a site. It joins by its TPM (optionally pinned with --ek-hash) or, with --token, by a "
                    + "one-time token printed once.")
    static final class Add extends DbCommand {
        @Parameters(paramLabel = "NAME", description = "Site name: ^[a-z0-9][a-z0-9-]{0,62}$")
        String name;
        @Option(names = "--ek-hash", paramLabel = "HEX", description = "SHA-256 of the gateway EK's SubjectPublicKeyInfo")
        String ekHash;
        @Option(names = "--token", description = "Join by a one-time token instead of the TPM (no TPM on the gateway)")
        boolean token;
        @Option(names = "--token-ttl", paramLabel = "DURATION", description = "Token lifetime (default: join.tokenTtl)")
        String tokenTtl;

        @Override
        int run(CentralConfig c, SiteAdmin admin) throws Exception {
            if (tokenTtl != null && !token) {
                throw new IllegalArgumentException("--token-ttl goes with --token");
            }
            SiteAdmin.Added a = admin.add(name, ekHash, token ? Durations.parse(tokenTtl != null ? tokenTtl : c.join.tokenTtl) : null);
            if (json) {
                Map<String, Object> m = view(a.site());
                if (a.token() != null) {
                    m.put("token", a.token());
                    m.put("tokenExpiresAt", a.tokenExpiresAt());
                }
                CliSupport.json(spec, m);
            } else {
                CliSupport.println(spec, "site " + name + " added; joins by " + a.site().joinedBy());
                if (a.token() != null) {
                    CliSupport.println(spec, "join token (shown once, single use, expires " + a.tokenExpiresAt() + "):");
                    CliSupport.println(spec, a.token());
                }
            }
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List sites.")
    static final class ListSites extends DbCommand {
        @Override
        int run(CentralConfig c, SiteAdmin admin) throws Exception {
            List<SiteRecord> sites = admin.list();
            Map<String, Map<String, Object>> contact = SiteContactView.bySite(fleet);
            List<Map<String, Object>> views = sites.stream().map(s -> {
                Map<String, Object> m = view(s);
                m.putAll(contact.getOrDefault(s.name(), Map.of()));
                return m;
            }).toList();
            if (json) {
                CliSupport.json(spec, views);
                return 0;
            }
            PrintWriter w = spec.commandLine().getOut();
            w.printf("%-24s  %-8s  %-10s  %-24s  %-24s  %-8s  %s%n", "SITE", "STATE", "JOINED-BY", "JOINED", "LAST-CONTACT",
                    "BACKLOG", "CA-NOT-AFTER");
            for (Map<String, Object> m : views) {
                w.printf("%-24s  %-8s  %-10s  %-24s  %-24s  %-8s  %s%n", m.get("name"), m.get("state"), m.get("joinedBy"),
                        CliSupport.printable(m.get("joinedAt")), CliSupport.printable(m.get("lastContact")),
                        CliSupport.printable(m.get("backlogRows")), CliSupport.printable(m.get("caNotAfter")));
            }
            w.flush();
            return 0;
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "Show one site and the site CAs signed for it.")
    static final class Show extends DbCommand {
        @Parameters(paramLabel = "NAME")
        String name;

        @Override
        int run(CentralConfig c, SiteAdmin admin) throws Exception {
            SiteAdmin.Detail d = admin.show(name).orElseThrow(() -> new IllegalArgumentException("no site " + name));
            Map<String, Object> m = view(d.site());
            m.putAll(SiteContactView.bySite(fleet).getOrDefault(name, Map.of()));
            m.put("siteCas", d.siteCas().stream().map(r -> Map.of("serial", r.serial(), "notAfter", r.notAfter().toString(),
                    "issuedAt", r.issuedAt().toString())).toList());
            if (json) {
                CliSupport.json(spec, m);
                return 0;
            }
            PrintWriter w = spec.commandLine().getOut();
            for (Map.Entry<String, Object> e : m.entrySet()) {
                if (e.getKey().equals("siteCas")) {
                    continue;
                }
                w.printf("%-10s %s%n", e.getKey() + ":", CliSupport.printable(e.getValue()));
            }
            for (IssuanceStore.SiteCaRow r : d.siteCas()) {
                w.printf("site CA:   %s until %s%n", r.serial(), r.notAfter());
            }
            w.flush();
            return 0;
        }
    }

    @Command(name = "sign-ca", mixinStandardHelpOptions = true,
            description = "The file flow for an air-gapped site: sign its site CA from the CSR `outpost-appliance ca csr` made. "
                    + "Writes the certificate and the chain the site installs with `outpost-appliance ca install`.")
    static final class SignCa implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        ConfigOption config;
        @Parameters(paramLabel = "NAME")
        String name;
        @Option(names = "--csr", required = true, paramLabel = "FILE")
        java.nio.file.Path csr;
        @Option(names = "--out", required = true, paramLabel = "FILE", description = "The site CA certificate (PEM)")
        java.nio.file.Path out;
        @Option(names = "--chain-out", required = true, paramLabel = "FILE",
                description = "The chain above it, ending with the root the devices will trust (PEM)")
        java.nio.file.Path chainOut;
        @Option(names = "--ttl", paramLabel = "DURATION", description = "Requested lifetime (capped by siteCa.maxTtl)")
        String ttl;
        @Option(names = "--json")
        boolean json;

        @Override
        public Integer call() throws Exception {
            if (java.nio.file.Files.size(csr) > dev.outpost.central.ca.CsrPolicy.MAX_CSR_BYTES * 2L) {
                throw new IllegalArgumentException(csr + " is too large for a CSR");
            }
            String csrPem = java.nio.file.Files.readString(csr, java.nio.charset.StandardCharsets.US_ASCII);
            try (dev.outpost.central.app.Services s = config.services()) {
                dev.outpost.central.issue.Issued i;
                try {
                    i = s.sites.signSiteCaByOperator(name, csrPem, ttl == null ? null : Durations.parse(ttl).toSeconds());
                } catch (dev.outpost.central.refusal.Refusal r) {
                    throw new IllegalArgumentException(r.getMessage());
                }
                java.util.List<java.security.cert.X509Certificate> chain = new java.util.ArrayList<>(i.chain());
                chain.addAll(i.roots());
                dev.outpost.spiffe.KeyFiles.writePublic(out, dev.outpost.spiffe.PemIo.ascii(
                        dev.outpost.spiffe.PemIo.encode(java.util.List.of(i.certificate()))));
                dev.outpost.spiffe.KeyFiles.writePublic(chainOut, dev.outpost.spiffe.PemIo.ascii(dev.outpost.spiffe.PemIo.encode(chain)));
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("site", name);
                m.put("serial", dev.outpost.central.ca.Certs.serialHex(i.certificate()));
                m.put("notAfter", i.certificate().getNotAfter().toInstant().toString());
                m.put("certificate", out.toString());
                m.put("chain", chainOut.toString());
                if (json) {
                    CliSupport.json(spec, m);
                } else {
                    CliSupport.println(spec, "site CA of " + name + " signed until " + m.get("notAfter") + ": " + out + ", chain " + chainOut);
                }
            }
            return 0;
        }
    }

    @Command(name = "revoke", mixinStandardHelpOptions = true,
            description = "Revoke a site: its credential is refused at once, its CAs leave the bundle. Final.")
    static final class Revoke extends DbCommand {
        @Parameters(paramLabel = "NAME")
        String name;
        @Option(names = "--reason", required = true, paramLabel = "TEXT")
        String reason;

        @Override
        int run(CentralConfig c, SiteAdmin admin) throws Exception {
            SiteRecord r = admin.revoke(name, reason);
            if (json) {
                CliSupport.json(spec, view(r));
            } else {
                CliSupport.println(spec, "site " + name + " revoked: " + CliSupport.printable(reason));
            }
            return 0;
        }
    }
}
