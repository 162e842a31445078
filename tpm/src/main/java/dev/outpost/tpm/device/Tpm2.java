package dev.outpost.tpm.device;

import java.io.IOException;

import tss.Tpm;
import tss.tpm.TPM_HANDLE;

/**
 * An open connection to one TPM, with TSS.Java's command API on top. There is no resource manager in front
 * of swtpm, so callers flush every transient object and session they create ({@link #flush}).
 */
public final class Tpm2 implements AutoCloseable {
    private final Tpm tpm;
    private final TpmTransport transport;
    private final TransportDevice device;

    private Tpm2(TpmTransport transport) {
        this.transport = transport;
        this.device = new TransportDevice(transport);
        this.tpm = new Tpm();
        this.tpm._setDevice(device);
    }

    public static Tpm2 open(String uri) throws IOException {
        return new Tpm2(TpmUri.parse(uri).open());
    }

    public static Tpm2 open(TpmTransport transport) {
        return new Tpm2(transport);
    }

    /** TSS.Java's command interface for this TPM. */
    public Tpm tss() {
        return tpm;
    }

    /**
     * The raw response to the last command. TSS.Java re-marshals what it parsed; signed structures are taken
     * from here so the bytes verified are the bytes the TPM produced.
     */
    public byte[] lastResponse() {
        return device.lastResponse().clone();
    }

    public String describe() {
        return transport.describe();
    }

    /** Flushes a transient object or session, ignoring handles that are already gone. */
    public void flush(TPM_HANDLE handle) {
        if (handle == null) {
            return;
        }
        try {
            tpm._allowErrors().FlushContext(handle);
        } catch (RuntimeException ignored) {
            // the handle was already flushed or never loaded
        }
    }

    @Override
    public void close() {
        try {
            transport.close();
        } catch (IOException ignored) {
            // nothing to recover on close
        }
    }
}
