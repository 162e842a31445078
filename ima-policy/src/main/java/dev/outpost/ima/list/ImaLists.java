package dev.outpost.ima.list;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;

import dev.outpost.tpm.HashAlg;

/** Opens a list in whichever format it is: binary lists start with a small u32-LE PCR index. */
public final class ImaLists {
    private ImaLists() {
    }

    public enum Format { ASCII, BINARY, EMPTY }

    public static Format detect(BufferedInputStream in) throws IOException {
        in.mark(1);
        int b = in.read();
        in.reset();
        if (b < 0) {
            return Format.EMPTY;
        }
        // A binary list starts with a u32-LE PCR index < 24, a control byte; anything printable is read as text.
        return b < 0x20 ? Format.BINARY : Format.ASCII;
    }

    /** The binary template hash is SHA-1 (binary_runtime_measurements); other banks' files need the overload. */
    public static ImaEntryReader open(InputStream raw, ImaLimits limits, long firstIndex) throws IOException {
        return open(raw, limits, firstIndex, HashAlg.SHA1);
    }

    public static ImaEntryReader open(InputStream raw, ImaLimits limits, long firstIndex, HashAlg binaryHashAlg)
            throws IOException {
        BufferedInputStream in = raw instanceof BufferedInputStream b ? b : new BufferedInputStream(raw);
        return detect(in) == Format.BINARY
                ? new BinaryImaListReader(in, limits, binaryHashAlg, firstIndex)
                : new AsciiImaListReader(in, limits, firstIndex);
    }
}
