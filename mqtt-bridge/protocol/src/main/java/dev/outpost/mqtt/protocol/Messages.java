package dev.outpost.mqtt.protocol;

/** Marker for protocol messages; every message carries the protocol version {@code v}. */
public interface Messages {
    int VERSION = 1;

    int v();
}
