package dev.outpost.central.issue;

import java.security.cert.X509Certificate;
import java.util.List;

/** A certificate central issued, with the chain above it (no root) and the roots to anchor on. */
public record Issued(X509Certificate certificate, List<X509Certificate> chain, List<X509Certificate> roots) {
}
