package dev.outpost.tpm.device;

import java.io.IOException;
import java.io.UncheckedIOException;

import tss.TpmDevice;

/**
 * Adapts a {@link TpmTransport} to TSS.Java. TSS.Java's own TCP device speaks the Microsoft simulator's
 * framing, which swtpm's data channel does not; the raw command stream works for swtpm and the kernel alike.
 */
final class TransportDevice extends TpmDevice {
    private final TpmTransport transport;
    private byte[] response;
    private byte[] lastResponse;

    TransportDevice(TpmTransport transport) {
        this.transport = transport;
    }

    @Override
    public boolean connect() {
        return true;
    }

    @Override
    public void dispatchCommand(byte[] command) {
        try {
            response = transport.transact(command);
            lastResponse = response;
        } catch (IOException e) {
            throw new UncheckedIOException("TPM " + transport.describe() + ": " + e.getMessage(), e);
        }
    }

    @Override
    public byte[] getResponse() {
        byte[] r = response;
        response = null;
        return r;
    }

    /** The raw bytes of the last response, for callers that must see exactly what the TPM signed. */
    byte[] lastResponse() {
        return lastResponse;
    }

    @Override
    public boolean responseReady() {
        return response != null;
    }

    @Override
    public void close() {
        try {
            transport.close();
        } catch (IOException ignored) {
            // closing a dead connection has nothing left to clean up
        }
    }
}
