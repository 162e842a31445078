package dev.outpost.tpm.jca;

import java.security.Provider;
import java.security.SignatureSpi;
import java.security.Security;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * A JCA provider of signatures by {@link TpmPrivateKey}s: SHA256withECDSA, SHA256withRSA and RSASSA-PSS. Installed
 * once per JVM (last in the provider list): it claims only TPM-held keys, so every other key keeps its usual provider.
 */
public final class TpmKeyProvider extends Provider {
    private static final long serialVersionUID = 1L;
    public static final String NAME = "OutpostTpm";
    private static final TpmKeyProvider INSTANCE = new TpmKeyProvider();

    private TpmKeyProvider() {
        super(NAME, "1.0", "Outpost: signatures by TPM-held keys");
        add("SHA256withECDSA", List.of("SHA256/ECDSA", "1.2.840.10045.4.3.2", "OID.1.2.840.10045.4.3.2"),
                TpmEcdsaSignature.class, TpmEcdsaSignature::new);
        add("SHA256withRSA", List.of("SHA256/RSA", "1.2.840.113549.1.1.11", "OID.1.2.840.113549.1.1.11"),
                TpmRsaSignature.Pkcs1.class, TpmRsaSignature.Pkcs1::new);
        add("RSASSA-PSS", List.of("RSAPSS", "1.2.840.113549.1.1.10", "OID.1.2.840.113549.1.1.10"),
                TpmRsaSignature.Pss.class, TpmRsaSignature.Pss::new);
    }

    private void add(String algorithm, List<String> aliases, Class<? extends SignatureSpi> type, Supplier<SignatureSpi> make) {
        putService(new Service(this, "Signature", algorithm, type.getName(), aliases,
                Map.of("SupportedKeyClasses", TpmPrivateKey.class.getName())) {
            @Override
            public Object newInstance(Object constructorParameter) {
                return make.get();
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
