package dev.outpost.ima.policy;

import dev.outpost.tpm.HashAlg;

/**
 * Receives one of a runtime policy's digest maps (path → digests) straight from the JSON tokens, each digest already
 * validated by {@link PolicyDigest#decode}. The model keeps the text; a compiled index keeps only the bytes, so a
 * 100,000-path policy needs no String nor object per digest. The reader calls {@code key}, then {@code digest} one or
 * more times, then {@code endKey}; a map that breaks a rule is refused by the reader, which then drops the sink.
 */
public interface DigestSink {

    /**
     * Begins the digests of {@code key}; false when the map already had it. The reader turns that into the error a
     * duplicate JSON member gets anywhere else: the sink is the map's duplicate detection, because it must look the
     * key up anyway and a second set of 100,000 names (the parser's) cost as much again.
     */
    boolean key(String key);

    /**
     * One digest of the current key: its JSON text {@code text[off, off + textLen)} (valid only during the call), the
     * algorithm of its "{@code <alg>:}" prefix or null, and its bytes {@code value[0, len)} (also only for the call).
     */
    void digest(char[] text, int off, int textLen, HashAlg alg, byte[] value, int len);

    /** The current key's digests are complete (at least one). */
    void endKey();
}
