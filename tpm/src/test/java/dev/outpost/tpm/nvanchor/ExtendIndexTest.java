package dev.outpost.tpm.nvanchor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.SecureRandom;
import java.util.Arrays;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.outpost.testkit.Swtpm;
import dev.outpost.testkit.SwtpmExtension;
import dev.outpost.tpm.device.Tpm2;
import dev.outpost.tpm.keys.AkTemplate;
import dev.outpost.tpm.keys.AttestationKey;
import dev.outpost.tpm.keys.EkTemplate;
import dev.outpost.tpm.keys.Endorsement;
import dev.outpost.tpm.keys.TpmKey;
import tss.tpm.TPMA_NV;
import tss.tpm.TPMS_NV_PUBLIC;
import tss.tpm.TPM_ALG_ID;
import tss.tpm.TPM_HANDLE;
import tss.tpm.TPM_RH;

/** The audit anchor index on a real swtpm: extends as computed in Java, certified by the AK, checked in pure Java. */
@ExtendWith(SwtpmExtension.class)
class ExtendIndexTest {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final int INDEX = ExtendIndex.DEFAULT_INDEX;

    private static byte[] random() {
        byte[] b = new byte[32];
        RANDOM.nextBytes(b);
        return b;
    }

    @ParameterizedTest
    @EnumSource(AkTemplate.class)
    void extendsMatchJavaAndTheCertificationVerifies(AkTemplate akType, Swtpm swtpm) throws Exception {
        try (Tpm2 tpm = Tpm2.open(swtpm.uri()); TpmKey ek = Endorsement.load(tpm, EkTemplate.RSA_2048)) {
            ExtendIndex.ensure(tpm, INDEX);
            assertThat(ExtendIndex.read(tpm, INDEX)).isEmpty();
            byte[] expected = null;
            for (int i = 0; i < 3; i++) {
                byte[] data = random();
                ExtendIndex.extend(tpm, INDEX, data);
                expected = ExtendIndex.extended(expected, data);
            }
            ExtendIndex.ensure(tpm, INDEX); // idempotent on the index it made
            assertThat(ExtendIndex.read(tpm, INDEX)).hasValue(expected);

            AttestationKey ak = AttestationKey.create(tpm, ek, akType);
            byte[] qualifying = random();
            NvCertification c;
            try (TpmKey loaded = ak.load(tpm, ek)) {
                c = ExtendIndex.certify(tpm, loaded, INDEX, qualifying);
            }
            byte[] akPub = ak.pub().encodedSized();
            NvCertifyVerifier.Result ok = NvCertifyVerifier.verify(akPub, INDEX, qualifying, c);
            assertThat(ok.failure()).isNull();
            assertThat(ok.nvContents()).isEqualTo(expected);

            assertThat(NvCertifyVerifier.verify(akPub, INDEX, random(), c).failure()).contains("qualifying");
            assertThat(NvCertifyVerifier.verify(akPub, INDEX + 1, qualifying, c).failure()).contains("index name");
            byte[] attest = c.attest().clone();
            attest[attest.length - 1] ^= 1;
            assertThat(NvCertifyVerifier.verify(akPub, INDEX, qualifying, new NvCertification(attest, c.signature()))
                    .failure()).contains("does not verify");
            AttestationKey other = AttestationKey.create(tpm, ek, akType);
            assertThat(NvCertifyVerifier.verify(other.pub().encodedSized(), INDEX, qualifying, c).failure())
                    .contains("does not verify");
        }
    }

    @Test
    void anIndexWithOtherAttributesIsRefused(Swtpm swtpm) throws Exception {
        int index = INDEX + 1;
        try (Tpm2 tpm = Tpm2.open(swtpm.uri())) {
            // an ordinary index the owner could simply overwrite: not an anchor
            tpm.tss().NV_DefineSpace(TPM_HANDLE.from(TPM_RH.OWNER), new byte[0], new TPMS_NV_PUBLIC(ExtendIndex.nv(index),
                    TPM_ALG_ID.SHA256, new TPMA_NV(TPMA_NV.AUTHWRITE, TPMA_NV.AUTHREAD), new byte[0], 32));
            assertThatThrownBy(() -> ExtendIndex.ensure(tpm, index)).hasMessageContaining("not an audit anchor");
        }
        assertThatThrownBy(() -> ExtendIndex.checkIndex(0x01400000)).hasMessageContaining("owner range");
        assertThat(Arrays.equals(ExtendIndex.name(INDEX), ExtendIndex.name(INDEX + 1))).isFalse();
    }
}
