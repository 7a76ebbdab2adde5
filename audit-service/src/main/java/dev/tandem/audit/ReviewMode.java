package dev.tandem.audit;

/** Whether the output waits for the verdict; NONE when it passes. */
public enum ReviewMode {
    NONE,
    BLOCKING,
    SHADOW
}
