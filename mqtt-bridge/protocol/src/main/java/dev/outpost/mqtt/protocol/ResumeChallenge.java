package dev.outpost.mqtt.protocol;

/** The nonce to quote over with the enrolled AK, the PCRs to quote, and until when (epoch ms). */
public record ResumeChallenge(int v, String nonce, String pcrSelection, long expiresAt) implements Messages {
}
