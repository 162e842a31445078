package dev.outpost.sim;

import java.util.Map;

import dev.outpost.tpm.HashAlg;
import dev.outpost.tpm.eventlog.EventType;

/** One boot event: what goes into the log and, digest by digest, into the TPM. */
record Measurement(int pcr, EventType type, byte[] data, Map<HashAlg, byte[]> digests) {
}
