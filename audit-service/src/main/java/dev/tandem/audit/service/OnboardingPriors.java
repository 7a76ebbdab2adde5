package dev.tandem.audit.service;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

import jakarta.enterprise.context.ApplicationScoped;

import dev.tandem.audit.OnboardingEvidence;
import dev.tandem.audit.StreamKey;
import dev.tandem.audit.config.AuditConfig;
import dev.tandem.audit.repository.Ledger;
import dev.tandem.audit.repository.OnboardingRepository;
import dev.tandem.grpc.FieldViolation;

/**
 * The onboarding evidence of every worker backend and worker type: recorded through the admin API (bin/onboard
 * evaluates a golden set on the worker and records the result here), kept in memory for the verdict path and
 * re-read every {@code onboarding.refresh-interval} so replicas see each other's records.
 */
@ApplicationScoped
public class OnboardingPriors {

    private static final int MAX_TEXT = 200;
    private static final int MAX_DETAIL = 2000;

    private final Ledger ledger;
    private final OnboardingRepository repository;
    private final AuditConfig config;
    private volatile Map<String, OnboardingEvidence> byStream = new ConcurrentHashMap<>();
    private volatile long loadedAtNanos;
    private volatile boolean loaded;

    public OnboardingPriors(Ledger ledger, OnboardingRepository repository, AuditConfig config) {
        this.ledger = ledger;
        this.repository = repository;
        this.config = config;
    }

    /** Validates and stores one evaluation, replacing the backend's earlier one for that worker type. */
    public OnboardingEvidence record(OnboardingEvidence e) {
        List<FieldViolation> violations = new ArrayList<>();
        text(violations, "worker_backend", e.workerBackend());
        text(violations, "worker_type", e.workerType());
        text(violations, "source", e.source());
        if (e.items() <= 0) {
            violations.add(new FieldViolation("items", "must be positive, was " + e.items()));
        }
        if (e.rejected() < 0 || e.rejected() > e.items()) {
            violations.add(new FieldViolation("rejected", "must be between 0 and items (" + e.items() + "), was "
                    + e.rejected()));
        }
        if (e.detail() != null && e.detail().length() > MAX_DETAIL) {
            violations.add(new FieldViolation("detail", "at most " + MAX_DETAIL + " characters"));
        } else {
            RequestValidation.text(violations, "detail", e.detail());
        }
        confidences(violations, e);
        if (!violations.isEmpty()) {
            throw new InvalidAuditRequestException(violations);
        }
        OnboardingEvidence clean = new OnboardingEvidence(e.workerBackend(), e.workerType(), e.source(), e.items(),
                e.rejected(), e.detail() == null ? "" : e.detail(), null, e.rightConfidences(), e.wrongConfidences());
        OnboardingEvidence stored = ledger.withConnection(c -> repository.upsert(c, clean));
        byStream.put(key(stored.workerBackend(), stored.workerType()), stored);
        return stored;
    }

    public List<OnboardingEvidence> list() {
        return ledger.withConnection(repository::list);
    }

    /** The evidence that applies to a stream (every tenant's stream of that backend and worker type). */
    public Optional<OnboardingEvidence> forStream(StreamKey key) {
        refreshIfStale();
        return Optional.ofNullable(byStream.get(key(key.workerBackend(), key.workerType())));
    }

    /** Every backend's and worker type's evidence, as the verdict path sees it (re-read when stale). */
    public List<OnboardingEvidence> all() {
        refreshIfStale();
        return List.copyOf(byStream.values());
    }

    private void refreshIfStale() {
        long now = System.nanoTime();
        if (loaded && now - loadedAtNanos < config.onboarding().refreshInterval().toNanos()) {
            return;
        }
        synchronized (this) {
            if (loaded && now - loadedAtNanos < config.onboarding().refreshInterval().toNanos()) {
                return;
            }
            Map<String, OnboardingEvidence> fresh = new ConcurrentHashMap<>();
            for (OnboardingEvidence e : ledger.withConnection(repository::list)) {
                fresh.put(key(e.workerBackend(), e.workerType()), e);
            }
            byStream = fresh;
            loadedAtNanos = now;
            loaded = true;
        }
    }

    /** The items' confidences are all or nothing: one per item, split as judged, each a probability. */
    private static void confidences(List<FieldViolation> violations, OnboardingEvidence e) {
        int right = e.rightConfidences().size();
        int wrong = e.wrongConfidences().size();
        if (right + wrong == 0) {
            return;
        }
        if (wrong != e.rejected()) {
            violations.add(new FieldViolation("wrong_confidences", "one per rejected item (" + e.rejected()
                    + "), got " + wrong));
        }
        if (right != e.items() - e.rejected()) {
            violations.add(new FieldViolation("right_confidences", "one per item judged right ("
                    + (e.items() - e.rejected()) + "), got " + right));
        }
        probabilities(violations, "right_confidences", e.rightConfidences());
        probabilities(violations, "wrong_confidences", e.wrongConfidences());
    }

    private static void probabilities(List<FieldViolation> violations, String field, List<Double> values) {
        for (int i = 0; i < values.size(); i++) {
            Double v = values.get(i);
            if (v == null || !(v >= 0 && v <= 1)) {
                violations.add(new FieldViolation(field + "[" + i + "]", "must be a confidence in [0, 1], was " + v));
                return;
            }
        }
    }

    private static void text(List<FieldViolation> violations, String field, String value) {
        if (value == null || value.isBlank()) {
            violations.add(new FieldViolation(field, "is required"));
        } else if (value.length() > MAX_TEXT) {
            violations.add(new FieldViolation(field, "at most " + MAX_TEXT + " characters"));
        } else {
            RequestValidation.text(violations, field, value);
        }
    }

    private static String key(String backend, String type) {
        return backend + "\u0000" + type;
    }
}
