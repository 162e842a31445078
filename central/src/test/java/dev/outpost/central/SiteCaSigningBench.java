package dev.outpost.central;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.Test;

import dev.outpost.central.ca.CsrPolicy;

/**
 * Site-CA signings per second at central, warmed in-process (not a surefire default: the name does not end in
 * Test; run it with -Dtest=SiteCaSigningBench). Three levels: the signature alone (CSR check + certificate); the
 * service (plus the registry row and the bundle sequence in one transaction) on H2 and PostgreSQL; and the whole
 * HTTPS API with mutual TLS, 8 sites at once.
 */
class SiteCaSigningBench {
    private static final int CSRS = 64;

    @Test
    void measure() throws Exception {
        Path dir = Files.createTempDirectory("central-bench-");
        List<String> csrs = new ArrayList<>();
        for (int i = 0; i < CSRS; i++) {
            csrs.add(Csrs.plain(Csrs.ecKey()));
        }
        for (String store : List.of("h2", "postgresql")) {
            try (Harness h = Stores.start(store, dir.resolve(store))) {
                Sites s = Sites.joinByToken(h, "bench");
                var ca = h.services().ca;
                run("sign only (CsrPolicy + CentralCa.signSiteCa), 1 thread", 4000, i -> {
                    ca.signSiteCa("bench", CsrPolicy.keyOf(csrs.get(i % CSRS), "spiffe://" + Harness.TD), null, Duration.ofDays(90));
                });
                run("SiteService.signSiteCa on " + store + " (CSR, sign, insert, sequence+1), 1 thread", 1500, i -> {
                    h.services().sites.signSiteCa("bench", csrs.get(i % CSRS), null);
                });
                List<SiteClient> clients = new ArrayList<>();
                for (int c = 0; c < 8; c++) {
                    clients.add(c == 0 ? s.client() : Sites.joinByToken(h, "bench-" + c).client());
                }
                runParallel("POST /v1/site/ca over HTTPS+mTLS on " + store + ", 8 sites in parallel", 1500, clients, csrs);
            }
        }
    }

    interface Op {
        void run(int i) throws Exception;
    }

    private static void run(String what, int n, Op op) throws Exception {
        for (int i = 0; i < n / 2; i++) {
            op.run(i);
        }
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            op.run(i);
        }
        double s = (System.nanoTime() - t0) / 1e9;
        System.out.printf("BENCH %-90s %8.0f /s (%d in %.2f s)%n", what, n / s, n, s);
    }

    private static void runParallel(String what, int n, List<SiteClient> clients, List<String> csrs) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(clients.size());
        try {
            for (int round = 0; round < 2; round++) {
                long t0 = System.nanoTime();
                List<Future<?>> fs = new ArrayList<>();
                for (int c = 0; c < clients.size(); c++) {
                    SiteClient client = clients.get(c);
                    int per = n / clients.size();
                    fs.add(pool.submit(() -> {
                        for (int i = 0; i < per; i++) {
                            int status = client.post("/v1/site/ca", Map.of("v", 1, "csr", csrs.get(i % CSRS))).status();
                            if (status != 200) {
                                throw new IllegalStateException("status " + status);
                            }
                        }
                        return null;
                    }));
                }
                for (Future<?> f : fs) {
                    f.get();
                }
                double s = (System.nanoTime() - t0) / 1e9;
                if (round == 1) {
                    System.out.printf("BENCH %-90s %8.0f /s (%d in %.2f s)%n", what, n / s, n, s);
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
