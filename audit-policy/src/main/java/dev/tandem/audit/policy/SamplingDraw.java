package dev.tandem.audit.policy;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The random-sampling draw, a uniform number in [0, 1) derived from (seed, decision id) by SHA-256: a retried
 * Decide draws the same number (so it gets the same answer even before the ledger row exists), while different
 * decisions draw independently. A seeded PRNG would not give per-key determinism across replicas, nor the same
 * draw in the oracle, which decides locally under published policies, and in the audit service, which re-draws it.
 */
public final class SamplingDraw {

    private SamplingDraw() {
    }

    /** SHA-256 already fed with the seed, cloned per draw: cheaper than a provider look-up and re-hashing it. */
    private static final ConcurrentHashMap<String, MessageDigest> SEEDED = new ConcurrentHashMap<>();

    public static double uniform(String seed, String decisionId) {
        MessageDigest sha256;
        try {
            sha256 = (MessageDigest) SEEDED.computeIfAbsent(seed, SamplingDraw::seeded).clone();
        } catch (CloneNotSupportedException e) {
            sha256 = seeded(seed);
        }
        byte[] digest = sha256.digest(decisionId.getBytes(StandardCharsets.UTF_8));
        long bits = ByteBuffer.wrap(digest, 0, Long.BYTES).getLong() >>> 11; // 53 random bits
        return bits * 0x1.0p-53;
    }

    private static MessageDigest seeded(String seed) {
        MessageDigest sha256;
        try {
            sha256 = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by every JDK", e);
        }
        sha256.update(seed.getBytes(StandardCharsets.UTF_8));
        sha256.update((byte) 0);
        return sha256;
    }
}
