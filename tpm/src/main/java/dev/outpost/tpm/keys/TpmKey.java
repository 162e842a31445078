package dev.outpost.tpm.keys;

import dev.outpost.tpm.device.Tpm2;
import dev.outpost.tpm.wire.TpmPublic;
import tss.tpm.TPM_HANDLE;

/**
 * A key loaded in a TPM. Closing flushes it when it is transient; persistent keys stay.
 */
public final class TpmKey implements AutoCloseable {
    private final Tpm2 tpm;
    private final TPM_HANDLE handle;
    private final TpmPublic pub;
    private final boolean transientKey;

    public TpmKey(Tpm2 tpm, TPM_HANDLE handle, TpmPublic pub, boolean transientKey) {
        this.tpm = tpm;
        this.handle = handle;
        this.pub = pub;
        this.transientKey = transientKey;
    }

    public TPM_HANDLE handle() {
        return handle;
    }

    public TpmPublic pub() {
        return pub;
    }

    @Override
    public void close() {
        if (transientKey) {
            tpm.flush(handle);
        }
    }
}
