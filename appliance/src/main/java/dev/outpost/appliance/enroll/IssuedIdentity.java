package dev.outpost.appliance.enroll;

import dev.outpost.appliance.ca.IssuedSvid;

/** An SVID issued to a device, with the site's trust bundle it verifies against. */
public record IssuedIdentity(IssuedSvid svid, String bundlePem) {
}
