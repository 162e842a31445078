package dev.outpost.appliance.store;

import java.time.Instant;
import java.util.HexFormat;
import java.util.List;

final class StoreFixtures {
    static final Instant T0 = Instant.parse("2026-01-01T10:00:00Z");

    private StoreFixtures() {
    }

    static String id(int n) {
        return String.format("%064x", n);
    }

    static DeviceRecord device(int n) {
        return DeviceRecord.enrolled(id(n), new byte[] {1, 2, (byte) n}, null, "L-2", new byte[] {3, 4},
                "spiffe://site.test/agent/tpm/" + id(n), T0, List.of("tpm:ek-hash:" + id(n), "outpost:site:a"));
    }

    static PendingActivation activation(int n, byte[] secret) {
        return PendingActivation.of(id(n), secret, new byte[] {9}, HexFormat.of().parseHex("3082"), new byte[] {8},
                "L-1", T0, T0.plusSeconds(120));
    }
}
