package dev.outpost.ima.verify;

/**
 * What a ToMToU / open-writers violation (all-zero template hash, all-ones extended) does to a verdict. The kernel
 * logs one when it measures a file that is open for writing, or opens for writing a file being measured: the entry
 * has no digest, so there is no file content to judge against the policy, and busy machines log them routinely (log
 * files, databases). Keylime keeps this choice in its verifier configuration, not in the runtime policy, and so do
 * we: the same Keylime-format policy then means the same in both verifiers.
 */
public enum ViolationHandling {
    /**
     * Keylime's default: replayed and counted, path not judged, not a failure. (Keylime's switch for this is
     * {@code [verifier] ignore_tomtou_errors}, default {@code False}; as of keylime commit 9b1f6e6 its code,
     * keylime/ima/ast.py {@code Entry.invalid}, adds the failure when the switch is {@code True}, the reverse of
     * what the name and the config template's comment say: the option was renamed from {@code tomtou_errors}
     * without inverting the test. Name and code agree that the default does not fail.)
     */
    COUNT,
    /** Every violation in the quoted prefix fails the attestation with {@link EventIds#VIOLATION}. */
    FAIL
}
