package dev.outpost.appliance.directives;

/** One directive from central, checked and typed (docs/upward-link.md "Downward"). */
public sealed interface Directive {
    long version();

    /** {@code device.ban}: the device with this EK is revoked if known here and refused at enrollment. */
    record Ban(long version, String ekHash, String reason) implements Directive {
    }

    /** {@code policy.put}: {@code content} already parsed by the verifier's loader and matched to its SHA-256. */
    record PolicyPut(long version, String name, dev.outpost.appliance.store.PolicyStore.Kind kind, byte[] content,
            String sha256) implements Directive {
    }

    /** {@code policy.assign}: the policy applies to the devices labelled {@code label}. */
    record PolicyAssign(long version, String name, String label) implements Directive {
    }

    /** {@code policy.delete}. */
    record PolicyDelete(long version, String name) implements Directive {
    }

    /**
     * A page of {@code GET /v1/site/directives}: the directives up to the first this site cannot read, and why it
     * could not ({@code unreadable}, null when every one was read). The readable ones before it are applied; it and
     * those after it are not, and the page is asked for again.
     */
    record Page(long latest, java.util.List<Directive> directives, String unreadable) {
    }
}
