/**
 * Linux IMA measurement lists: streaming, bounded readers for the kernel's ASCII and binary formats (templates
 * ima, ima-ng, ima-sig, ima-buf, ima-modsig; digests sha1/sha256/sha384/sha512/sm3) and a kernel-exact writer.
 */
package dev.outpost.ima.list;
