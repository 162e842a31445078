package dev.outpost.ima.verify;

/**
 * One reason an attestation fails.
 *
 * @param index    entry index in the kernel's list, -1 when the failure is about the list as a whole
 * @param path     the entry's name, null for list-wide failures
 * @param template the entry's template name, null for list-wide failures
 * @param eventId  Keylime-style id, e.g. ima.validation.ima-ng.not_in_allowlist
 * @param message  human-readable detail
 */
public record ImaFailure(long index, String path, String template, String eventId, String message) {
    static ImaFailure list(String eventId, String message) {
        return new ImaFailure(-1, null, null, eventId, message);
    }
}
