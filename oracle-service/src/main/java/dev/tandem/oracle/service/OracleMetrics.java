package dev.tandem.oracle.service;

import io.micrometer.core.instrument.Counter;
import dev.tandem.proto.oracle.v1.TaskState;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import jakarta.annotation.PostConstruct;
import jakarta.enterprise.context.ApplicationScoped;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The oracle's meters (Prometheus names in brackets): tasks by outcome and pipeline
 * [tandem_oracle_tasks_seconds], steps by worker type and escalation [tandem_oracle_steps_seconds], escalations
 * [tandem_oracle_escalations_total], reviews [tandem_oracle_reviews_total], cost in USD
 * [tandem_oracle_cost_actual_total, tandem_oracle_cost_all_oracle_total] and tasks in flight
 * [tandem_oracle_tasks_in_flight]; submitted tasks by state, all replicas together as the store counts them
 * [tandem_oracle_submitted_tasks{state}]; tasks ended by latency class and outcome
 * [tandem_oracle_tasks_by_class_total{latency_class,outcome}] and what batching saved in USD
 * [tandem_oracle_batch_saved_usd_total]. Tags are low-cardinality: never a task id.
 */
@ApplicationScoped
public class OracleMetrics {

    private final MeterRegistry registry;

    /**
     * Every meter of a task or step, registered once per tag combination and kept: building one again per call
     * (its tags copied, sorted and deduplicated, then a registry look-up) cost more than recording it, several
     * times per task.
     */
    private final Map<Series, Meter> meters = new ConcurrentHashMap<>();

    private final AtomicInteger inFlight = new AtomicInteger();
    private final Map<TaskState, AtomicLong> submitted = new ConcurrentHashMap<>();

    public OracleMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    @PostConstruct
    void gauges() {
        registry.gauge("tandem.oracle.tasks.in_flight", inFlight);
        batchSaved(); // at 0 from the start, so the dashboard's panel has a series before the first batch task
    }

    /** The store's count of submitted tasks by state. */
    public void submittedTasks(Map<TaskState, Long> byState) {
        byState.forEach((state, count) -> submitted.computeIfAbsent(state, s -> registry.gauge(
                "tandem.oracle.submitted_tasks", Tags.of("state", s.name().substring("TASK_STATE_".length())
                        .toLowerCase(Locale.ROOT)), new AtomicLong())).set(count));
    }

    public void taskStarted() {
        inFlight.incrementAndGet();
    }

    public void taskEnded(String outcome, String pipeline, Duration duration) {
        inFlight.decrementAndGet();
        timer("tandem.oracle.tasks", "Tasks, from request to answer", "outcome", outcome, "pipeline", pipeline)
                .record(duration);
    }

    public void step(String workerType, boolean escalated, Duration duration) {
        timer("tandem.oracle.steps", "Steps, including review and escalation", "worker_type", workerType,
                "escalated", Boolean.toString(escalated)).record(duration);
    }

    public void escalation(String workerType, String cause) {
        counter("tandem.oracle.escalations", "Steps redone on the oracle tier", "worker_type", workerType,
                "cause", cause).increment();
    }

    public void review(String workerType, String mode, String verdict) {
        counter("tandem.oracle.reviews", "Worker outputs reviewed by the oracle model", "worker_type", workerType,
                "mode", mode, "verdict", verdict).increment();
    }

    /** A locally taken audit decision the audit service stored differently (its policy had changed). */
    public void redecided(String workerType) {
        counter("tandem.oracle.audit.redecided",
                "Local audit decisions the audit service re-decided under a newer policy", "worker_type", workerType)
                .increment();
    }

    /** A step ran again because an output it had read was rejected after it used it. */
    public void rerun(String workerType) {
        counter("tandem.oracle.steps.rerun",
                "Steps run again because an output they had read was rejected after they used it", "worker_type",
                workerType).increment();
    }

    /** A task ended: counted by its latency class and outcome (ok, failed, cancelled, ...). */
    public void taskByClass(String latencyClass, String outcome) {
        counter("tandem.oracle.tasks_by_class", "Tasks ended, by latency class and outcome", "latency_class",
                latencyClass, "outcome", outcome).increment();
    }

    /** What batching saved on a task, in USD: its batch calls at interactive prices minus what they cost. */
    public void batchSaved(double usd) {
        if (usd > 0) {
            batchSaved().increment(usd);
        }
    }

    private Counter batchSaved() {
        return counter("tandem.oracle.batch_saved_usd",
                "What batch-class tasks saved through the providers' batch prices, in USD");
    }

    public void cost(String pipeline, double actualUsd, double allOracleUsd) {
        counter("tandem.oracle.cost.actual", "What tasks cost, in USD", "pipeline", pipeline).increment(actualUsd);
        counter("tandem.oracle.cost.all_oracle",
                "What the same tasks would have cost on the oracle model alone, in USD", "pipeline", pipeline)
                .increment(allOracleUsd);
    }

    /** The counter {@code name} with these tag keys and values, registered on first use and kept. */
    Counter counter(String name, String description, String... tags) {
        var series = new Series(name, List.of(tags));
        Meter meter = meters.get(series);
        return (Counter) (meter != null ? meter : meters.computeIfAbsent(series,
                s -> Counter.builder(name).description(description).tags(tags).register(registry)));
    }

    /** The timer {@code name} with these tag keys and values, registered on first use and kept. */
    Timer timer(String name, String description, String... tags) {
        var series = new Series(name, List.of(tags));
        Meter meter = meters.get(series);
        return (Timer) (meter != null ? meter : meters.computeIfAbsent(series,
                s -> Timer.builder(name).description(description).tags(tags).register(registry)));
    }

    /** A meter's name and its tag keys and values, in the order given. */
    private record Series(String name, List<String> tags) {
    }
}
