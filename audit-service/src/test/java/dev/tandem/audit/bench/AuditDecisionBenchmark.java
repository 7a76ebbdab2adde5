package dev.tandem.audit.bench;

import java.time.Instant;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import dev.tandem.audit.Decision;
import dev.tandem.audit.DecisionRequest;
import dev.tandem.audit.StreamKey;
import dev.tandem.audit.StreamRecord;
import dev.tandem.audit.TrustState;
import dev.tandem.audit.config.AuditConfig;
import dev.tandem.audit.service.AuditPolicy;
import dev.tandem.audit.service.TrustPolicy;
import dev.tandem.audit.simulation.SimConfigs;
import dev.tandem.calibration.CalibrationMap;

/**
 * One audit decision of the shipped policy ({@link AuditPolicy#decide}), the CPU part of every {@code Decide}
 * (the ledger write is measured by {@code bin/bench-audit-load}): a trusted stream with a certified threshold and
 * an isotonic calibration map, the sampling draw (SHA-256 of seed and decision id), and the explanation text.
 * Decision ids differ per call so the draw is real; confidences cycle over both sides of the threshold so every
 * branch the NORMAL state takes (pass, low confidence, sampled) runs. Sample mode: JMH reports percentiles of
 * single decisions.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 3)
@Fork(value = 1, jvmArgsAppend = {"-Xmx512m"})
public class AuditDecisionBenchmark {

    private static final int REQUESTS = 4096;

    private AuditPolicy policy;
    private StreamRecord stream;
    private DecisionRequest[] requests;
    private int next;

    @Setup
    public void setUp() {
        AuditConfig config = SimConfigs.defaults();
        policy = new AuditPolicy(config);
        TrustPolicy trust = new TrustPolicy(config);
        Instant now = Instant.parse("2026-12-01T00:00:00Z");
        StreamKey key = new StreamKey("qwen-7b@l4", "classify", "");
        StreamRecord.Builder b = trust.newStream(key, now).toBuilder();
        b.state = TrustState.NORMAL;
        b.samplingRate = trust.samplingRate(TrustState.NORMAL);
        b.thresholdCertified = true;
        b.rawThreshold = 0.62;
        b.blockingRate = 0.01;
        double[] raw = new double[32];
        double[] calibrated = new double[32];
        for (int i = 0; i < raw.length; i++) {
            raw[i] = i / 31.0;
            calibrated[i] = Math.pow(raw[i], 1.4);
        }
        b.calibration = new CalibrationMap("ISOTONIC", raw, calibrated, 4000, 0.02, 0.01, 0.05, 0.04, 30, now);
        stream = b.build();
        requests = new DecisionRequest[REQUESTS];
        for (int i = 0; i < REQUESTS; i++) {
            double confidence = (i * 37 % 100) / 100.0;
            requests[i] = new DecisionRequest("task-" + i + "/step-1/1", "task-" + i, "step-1", key, confidence,
                    confidence, i % 50 != 0);
        }
    }

    @Benchmark
    public Decision decide() {
        DecisionRequest request = requests[next++ & (REQUESTS - 1)];
        return policy.decide(request, stream);
    }
}
