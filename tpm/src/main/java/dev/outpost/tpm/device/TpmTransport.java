package dev.outpost.tpm.device;

import java.io.Closeable;
import java.io.IOException;

/** One TPM 2.0 command stream: send a marshalled command, get its response. Not thread-safe. */
public interface TpmTransport extends Closeable {
    /** Largest response we accept; real TPMs answer with at most a few KiB (TPM_PT_MAX_RESPONSE_SIZE). */
    int MAX_RESPONSE = 64 * 1024;

    byte[] transact(byte[] command) throws IOException;

    /** Where this transport goes, for logs and errors. */
    String describe();
}
