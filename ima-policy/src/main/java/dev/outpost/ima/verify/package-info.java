/**
 * Evaluation of IMA entries against a runtime policy as Keylime does it, and the incremental verifier the
 * appliance calls once per verified quote ({@link dev.outpost.ima.verify.IncrementalImaVerifier}).
 */
package dev.outpost.ima.verify;
