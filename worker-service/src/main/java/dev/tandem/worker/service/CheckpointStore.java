package dev.tandem.worker.service;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.tandem.worker.config.TandemConfig;
import jakarta.enterprise.context.ApplicationScoped;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

import java.util.Optional;
import java.util.TreeMap;

/**
 * Results of finished steps, so a retried identical request (same task, step, attempt, model and inputs) is
 * replayed instead of recomputed. In memory and bounded (size and age) on purpose: a checkpoint only has to
 * outlive the router's retry window (seconds), a lost checkpoint merely costs a recomputation, and an unbounded
 * map would grow with every task the worker ever ran.
 */
@ApplicationScoped
public class CheckpointStore {

    private final Cache<String, StepOutcome> results;

    CheckpointStore(TandemConfig config) {
        results = Caffeine.newBuilder()
                .maximumSize(config.worker().checkpoint().maxEntries())
                .expireAfterWrite(config.worker().checkpoint().ttl())
                .build();
    }

    /**
     * The key of a step: a hash of its identity fields, inputs and instructions, each length-prefixed. (The identity
     * fields were joined with '|', which task and step ids may contain: task "t|a" step "s" and task "t" step "a|s"
     * shared a key, and the second was answered with the first's result.)
     */
    public static String key(StepCommand command) {
        var digest = sha256();
        for (var field : new String[] {command.taskId(), command.stepId(), String.valueOf(command.attempt()),
                command.modelId(), command.workerType()}) {
            update(digest, field);
        }
        // Sorted so the map's iteration order does not change the key.
        for (var entry : new TreeMap<>(command.inputs()).entrySet()) {
            update(digest, entry.getKey());
            update(digest, entry.getValue());
        }
        update(digest, command.instructions());
        return HexFormat.of().formatHex(digest.digest());
    }

    public Optional<StepOutcome> find(String key) {
        return Optional.ofNullable(results.getIfPresent(key));
    }

    public void put(String key, StepOutcome outcome) {
        results.put(key, outcome);
    }

    /** Entries currently held (approximate, for the admin view). */
    public long size() {
        return results.estimatedSize();
    }

    private static void update(MessageDigest digest, String value) {
        var bytes = (value == null ? "" : value).getBytes(StandardCharsets.UTF_8);
        digest.update(Integer.toString(bytes.length).getBytes(StandardCharsets.US_ASCII));
        digest.update((byte) ':');
        digest.update(bytes);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

}
