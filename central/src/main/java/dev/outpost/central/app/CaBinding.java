package dev.outpost.central.app;

import java.time.Clock;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.outpost.central.ca.CaException;
import dev.outpost.central.ca.CentralCa;
import dev.outpost.central.store.BundleStore;
import dev.outpost.central.store.Database;
import dev.outpost.spiffe.PemIo;

/**
 * Binds the CA files of this instance to the database shared by all instances. The first instance records its
 * chain; later ones must hold the same one, or they refuse to start: two instances signing under different CAs
 * would hand sites certificates that the bundle does not vouch for. {@code ca import} replaces the record and
 * moves the bundle sequence (the roots changed).
 */
public final class CaBinding {
    private static final Logger LOG = LoggerFactory.getLogger(CaBinding.class);

    private CaBinding() {
    }

    public static void bind(CentralCa ca, Database db, Clock clock) {
        String chain = PemIo.encode(ca.chain());
        db.inTransaction(c -> {
            BundleStore store = new BundleStore();
            var recorded = store.ca(c);
            if (recorded.isEmpty()) {
                store.putCa(c, chain, PemIo.encode(ca.roots()), clock.instant());
                store.bump(c, clock.instant());
                LOG.info("recorded central's CA in the database");
            } else if (!recorded.get().chainPem().equals(chain)) {
                throw new CaException("the CA files of this instance are not the CA recorded in the database (another "
                        + "instance's, or replaced by hand): copy the CA files of the running instances, or use `ca import`");
            }
            return null;
        });
    }

    /** After {@code ca import}: the new chain is the one every instance must hold; the roots in the bundle changed. */
    public static void replace(CentralCa ca, Database db, Clock clock) {
        db.inTransaction(c -> {
            BundleStore store = new BundleStore();
            store.putCa(c, PemIo.encode(ca.chain()), PemIo.encode(ca.roots()), clock.instant());
            store.bump(c, clock.instant());
            return null;
        });
    }
}
