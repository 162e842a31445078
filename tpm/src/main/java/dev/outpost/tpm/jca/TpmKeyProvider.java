package dev.outpost.tpm.jca;

import java.security.Provider;
import java.security.Security;
import java.util.List;
import java.util.Map;

/**
 * A JCA provider with one service: SHA256withECDSA for {@link TpmPrivateKey}s. Installed once per JVM (last in the
 * provider list): it claims only TPM-held keys, so every other key keeps its usual provider.
 */
public final class TpmKeyProvider extends Provider {
    private static final long serialVersionUID = 1L;
    public static final String NAME = "OutpostTpm";
    private static final TpmKeyProvider INSTANCE = new TpmKeyProvider();

    private TpmKeyProvider() {
        super(NAME, "1.0", "Outpost: signatures by TPM-held keys");
        putService(new Service(this, "Signature", "SHA256withECDSA", TpmEcdsaSignature.class.getName(),
                List.of("SHA256/ECDSA", "1.2.840.10045.4.3.2", "OID.1.2.840.10045.4.3.2"),
                Map.of("SupportedKeyClasses", TpmPrivateKey.class.getName())) {
            @Override
            public Object newInstance(Object constructorParameter) {
                return new TpmEcdsaSignature();
            }

            @Override
            public boolean supportsParameter(Object parameter) {
                return parameter instanceof TpmPrivateKey;
            }
        });
    }

    public static TpmKeyProvider get() {
        return INSTANCE;
    }

    /** Adds the provider to the JVM's list if it is not there yet, so JSSE finds it for TPM-held keys. */
    public static synchronized TpmKeyProvider install() {
        if (Security.getProvider(NAME) == null) {
            Security.addProvider(INSTANCE);
        }
        return INSTANCE;
    }
}
