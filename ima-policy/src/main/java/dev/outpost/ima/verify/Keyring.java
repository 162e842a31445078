package dev.outpost.ima.verify;

import java.security.PublicKey;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Keys by IMA v2 key id. Several keys may share a 32-bit id, so every candidate is tried. */
public final class Keyring {
    private final Map<Integer, List<PublicKey>> byId = new HashMap<>();
    private final List<LearnedKey> learned = new ArrayList<>();

    /** A key measured onto the .ima keyring (certificate or SPKI DER as measured), with the entry that did it. */
    public record LearnedKey(long index, byte[] der) {
    }

    public void add(int keyId, PublicKey key) {
        byId.computeIfAbsent(keyId, k -> new ArrayList<>(1)).add(key);
    }

    public void add(PublicKey key) {
        add(KeyIds.keyIdV2(key), key);
    }

    public void addLearned(long index, MeasuredKey key) {
        add(key.keyId(), key.key());
        learned.add(new LearnedKey(index, key.der()));
    }

    public List<PublicKey> candidates(int keyId) {
        return byId.getOrDefault(keyId, List.of());
    }

    public List<LearnedKey> learned() {
        return List.copyOf(learned);
    }

    public int size() {
        return byId.values().stream().mapToInt(List::size).sum();
    }

    public boolean isEmpty() {
        return byId.isEmpty();
    }
}
