package dev.tandem.oracle.service;

import io.micrometer.core.instrument.Counter;
import dev.tandem.proto.oracle.v1.TaskState;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import jakarta.annotation.PostConstruct;
import jakarta.enterprise.context.ApplicationScoped;

import java.time.Duration;
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
        Timer.builder("tandem.oracle.tasks").description("Tasks, from request to answer")
                .tag("outcome", outcome).tag("pipeline", pipeline).register(registry).record(duration);
    }

    public void step(String workerType, boolean escalated, Duration duration) {
        Timer.builder("tandem.oracle.steps").description("Steps, including review and escalation")
                .tag("worker_type", workerType).tag("escalated", Boolean.toString(escalated))
                .register(registry).record(duration);
    }

    public void escalation(String workerType, String cause) {
        Counter.builder("tandem.oracle.escalations").description("Steps redone on the oracle tier")
                .tag("worker_type", workerType).tag("cause", cause).register(registry).increment();
    }

    public void review(String workerType, String mode, String verdict) {
        Counter.builder("tandem.oracle.reviews").description("Worker outputs reviewed by the oracle model")
                .tag("worker_type", workerType).tag("mode", mode).tag("verdict", verdict)
                .register(registry).increment();
    }

    /** A locally taken audit decision the audit service stored differently (its policy had changed). */
    public void redecided(String workerType) {
        Counter.builder("tandem.oracle.audit.redecided")
                .description("Local audit decisions the audit service re-decided under a newer policy")
                .tag("worker_type", workerType).register(registry).increment();
    }

    /** A step ran again because an output it had read was rejected after it used it. */
    public void rerun(String workerType) {
        Counter.builder("tandem.oracle.steps.rerun")
                .description("Steps run again because an output they had read was rejected after they used it")
                .tag("worker_type", workerType).register(registry).increment();
    }

    /** A task ended: counted by its latency class and outcome (ok, failed, cancelled, ...). */
    public void taskByClass(String latencyClass, String outcome) {
        Counter.builder("tandem.oracle.tasks_by_class").description("Tasks ended, by latency class and outcome")
                .tag("latency_class", latencyClass).tag("outcome", outcome).register(registry).increment();
    }

    /** What batching saved on a task, in USD: its batch calls at interactive prices minus what they cost. */
    public void batchSaved(double usd) {
        if (usd > 0) {
            batchSaved().increment(usd);
        }
    }

    private Counter batchSaved() {
        return Counter.builder("tandem.oracle.batch_saved_usd")
                .description("What batch-class tasks saved through the providers' batch prices, in USD")
                .register(registry);
    }

    public void cost(String pipeline, double actualUsd, double allOracleUsd) {
        Counter.builder("tandem.oracle.cost.actual").description("What tasks cost, in USD")
                .tag("pipeline", pipeline).register(registry).increment(actualUsd);
        Counter.builder("tandem.oracle.cost.all_oracle")
                .description("What the same tasks would have cost on the oracle model alone, in USD")
                .tag("pipeline", pipeline).register(registry).increment(allOracleUsd);
    }
}
