package dev.outpost.appliance.app;

import java.time.Clock;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.outpost.appliance.ca.CaException;
import dev.outpost.appliance.ca.CaFiles;
import dev.outpost.appliance.ca.CaKeys;
import dev.outpost.appliance.config.ApplianceConfig;
import dev.outpost.appliance.upstream.CentralAddresses;

/**
 * The site CA's keys and files, made ready before anything reads them: a switch of key protection finished, a CA
 * switch cut short by a crash completed, and a nested site's first CA obtained from central.
 *
 * @param central central's addresses, shared by every caller of the link; null for a site without one
 */
record CaStartup(CaKeys keys, CaFiles files, CentralAddresses central) {
    private static final Logger LOG = LoggerFactory.getLogger(CaStartup.class);

    static CaStartup prepare(ApplianceConfig config, Clock clock) throws Exception {
        CaKeys caKeys = CaKeys.of(config);
        if (caKeys.sealed()) {
            LOG.info("site CA key protection: {}: the CA keys are kept only sealed to this gateway's TPM", caKeys.describe());
        } else {
            LOG.info("site CA key protection: {}: the CA key is a plain file in {} (ca.keyProtection: tpm seals it "
                    + "to the gateway's TPM)", caKeys.describe(), config.caDir());
        }
        CaFiles caFiles = new CaFiles(config.caDir(), caKeys);
        // Switching file -> tpm: plain keys are sealed (sealed file written and fsynced first) and then deleted.
        caKeys.migrate(config.caDir());
        // A switch next.* -> ca.* cut short by a crash is finished before anything looks at the CA files.
        caFiles.recoverInterruptedSwitch();
        // Which of central's addresses answers is learnt once for every caller of the link (docs/upward-link.md).
        CentralAddresses central = config.upstream().online() ? new CentralAddresses(config.upstream().addresses()) : null;
        if (config.ca().nested() && !caFiles.hasActive()) {
            if (!config.upstream().online()) {
                throw new CaException(NestedStart.noCaMessage(config));
            }
            NestedStart.obtainFromUpstream(config, caFiles, clock, central);
        }
        return new CaStartup(caKeys, caFiles, central);
    }
}
