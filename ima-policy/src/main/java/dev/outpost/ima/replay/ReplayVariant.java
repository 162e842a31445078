package dev.outpost.ima.replay;

/** How the kernel extended a bank other than the list's own template-hash bank. */
public enum ReplayVariant {
    /** Current kernels extend each bank with that bank's hash of the template data. */
    NATIVE,
    /** Older kernels extended every bank with the SHA-1 template hash, zero-padded to the bank's size. */
    SHA1_PADDED
}
