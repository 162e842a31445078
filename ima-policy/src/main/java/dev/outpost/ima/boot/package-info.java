/**
 * Measured-boot policies: a reference state for the UEFI boot event log (Secure Boot, PK/KEK/db/dbx, boot
 * applications, kernel command lines, optional PCR values), its strict JSON form, a generator from a known-good
 * log and an evaluator that first proves the log against quoted PCRs. Pure functions; see docs/measured-boot.md.
 */
package dev.outpost.ima.boot;
