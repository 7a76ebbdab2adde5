package dev.tandem.audit.simulation;

import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import org.HdrHistogram.Recorder;
import org.HdrHistogram.Histogram;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.stub.StreamObserver;

import dev.tandem.proto.audit.v1.AuditAction;
import dev.tandem.proto.audit.v1.AuditServiceGrpc;
import dev.tandem.proto.audit.v1.GetStreamRequest;
import dev.tandem.proto.audit.v1.RecordVerdictRequest;
import dev.tandem.proto.audit.v1.RecordVerdictResponse;
import dev.tandem.proto.audit.v1.TrustState;
import dev.tandem.proto.audit.v1.Verdict;
import dev.tandem.proto.audit.v1.DecideRequest;
import dev.tandem.proto.audit.v1.DecideResponse;

/**
 * Open-loop load generator for Decide (bin/bench-audit-load): sends requests at a fixed rate on a schedule that
 * does not wait for answers, over several gRPC connections, and records each latency from the request's
 * scheduled start (so a stall counts against every request it delays: no coordinated omission) in an
 * HdrHistogram. Decisions spread over a few streams of one backend, mostly on the first (the hot row).
 * <p>
 * As in production, every decision answered REVIEW gets its verdict (RecordVerdict, sent when the answer arrives,
 * not timed): the output is wrong with probability {@value #ERROR_SCALE}·(1 − confidence), 0.5 % on average, so
 * confidence ranks errors. First a trust warm-up sends decisions with verdicts until every stream is NORMAL (a new
 * stream is in probation, where every decision is a forced review: without verdicts a benchmark measures only that
 * path). {@code -Dbench.verdicts=false} is the old method (no verdicts, the streams stay in probation), for a
 * baseline. Requests still unanswered when a phase ends count as failed.
 * Arguments: host port rate-per-second seconds [connections] [warm-up round seconds]. The warm-up runs in rounds
 * until the service's JIT has settled ({@link #jitWarmUp}). With {@code -Dbench.mark=FILE} it writes FILE when the
 * warm-up ends and the measured phase starts.
 */
public final class DecideLoadGenerator {

    static final double ERROR_SCALE = 0.01;
    static final String BACKEND = "bench-model";
    static final String[] TYPES = { "classify", "extract", "summarize" };

    private DecideLoadGenerator() {
    }

    public static void main(String[] args) throws Exception {
        String host = args[0];
        int port = Integer.parseInt(args[1]);
        int rate = Integer.parseInt(args[2]);
        int seconds = Integer.parseInt(args[3]);
        int connections = args.length > 4 ? Integer.parseInt(args[4]) : 4;
        int warmup = args.length > 5 ? Integer.parseInt(args[5]) : 10;
        ManagedChannel[] channels = new ManagedChannel[connections];
        AuditServiceGrpc.AuditServiceStub[] stubs = new AuditServiceGrpc.AuditServiceStub[connections];
        for (int i = 0; i < connections; i++) {
            channels[i] = ManagedChannelBuilder.forAddress(host, port).usePlaintext().build();
            stubs[i] = AuditServiceGrpc.newStub(channels[i]);
        }
        String run = Long.toString(System.currentTimeMillis(), 36);
        boolean verdicts = !"false".equals(System.getProperty("bench.verdicts"));
        if (verdicts) {
            trustWarmUp(stubs[0], run + "t");
        }
        jitWarmUp(stubs, rate, warmup, run, verdicts);
        // bin/bench-audit-load waits for this file to start its CPU counters at the measured phase.
        String mark = System.getProperty("bench.mark");
        if (mark != null) {
            java.nio.file.Files.writeString(java.nio.file.Path.of(mark), "measuring\n");
        }
        Recorder recorder = new Recorder(3);
        Map<String, AtomicLong> mix = new ConcurrentHashMap<>();
        long ownCpu = ownCpuNanos();
        long[] outcome = run(stubs, rate, seconds, run + "m", recorder, verdicts, mix);
        ownCpu = ownCpuNanos() - ownCpu;
        Histogram h = recorder.getIntervalHistogram();
        System.out.printf(Locale.ROOT, "Decide at %d/s offered for %d s over %d connections (%s): %d answered, %d "
                + "failed (unanswered included), throughput %.0f/s; latency p50 %.3f ms, p90 %.3f ms, p99 %.3f ms, "
                + "p99.9 %.3f ms, max %.3f ms; verdicts sent %d (%d failed)%n", rate, seconds, connections,
                verdicts ? "verdicts for reviewed decisions" : "no verdicts: old method", outcome[0], outcome[1],
                outcome[0] / (outcome[2] / 1e9), h.getValueAtPercentile(50) / 1e6, h.getValueAtPercentile(90) / 1e6,
                h.getValueAtPercentile(99) / 1e6, h.getValueAtPercentile(99.9) / 1e6, h.getMaxValue() / 1e6,
                outcome[3], outcome[4]);
        System.out.println("measured decisions by stream state / action / reason, failures by status: " + new TreeMap<>(mix));
        System.out.printf(Locale.ROOT, "load generator CPU during the measured run: %d ms%n", ownCpu / 1_000_000);
        System.out.println("streams after the run: " + states(AuditServiceGrpc.newBlockingStub(channels[0])));
        for (ManagedChannel c : channels) {
            c.shutdownNow();
        }
    }

    /**
     * Warm-up at the measured rate, in rounds of {@code roundSeconds}, until the service's JIT compiler threads
     * ("C1 CompilerThre…", "C2 CompilerThre…" in /proc/PID/task of {@code -Dbench.service-pid}) took less than
     * {@code bench.jit-settled-share} (default 10 %) of its CPU in a round, at least {@code bench.jit-warmup-min-rounds}
     * (default 2) and at most {@code bench.jit-warmup-rounds} (default 12) rounds: on 2 CPUs shared with PostgreSQL and
     * this generator the C2 queue drains for minutes, and a phase measured before that measures the compiler (a third
     * of the service's CPU after a fixed 40 s warm-up). Without a pid, one round (the old fixed warm-up).
     */
    static void jitWarmUp(AuditServiceGrpc.AuditServiceStub[] stubs, int rate, int roundSeconds, String run,
            boolean verdicts) throws InterruptedException {
        long pid = Long.getLong("bench.service-pid", -1);
        int maxRounds = pid > 0 ? Integer.getInteger("bench.jit-warmup-rounds", 12) : 1;
        int minRounds = Math.min(maxRounds, Integer.getInteger("bench.jit-warmup-min-rounds", 2));
        double settled = Double.parseDouble(System.getProperty("bench.jit-settled-share", "0.10"));
        int round = 1;
        for (; round <= maxRounds; round++) {
            long[] before = serviceCpuTicks(pid);
            long[] warmed = run(stubs, rate, roundSeconds, run + "w" + round, null, verdicts, null);
            long[] after = serviceCpuTicks(pid);
            long total = after[0] - before[0];
            double share = pid > 0 && total > 0 ? (after[1] - before[1]) / (double) total : 1;
            System.out.printf(Locale.ROOT, "warm-up round %d (of at most %d): %d s at %d/s, %d answered, %d failed "
                    + "(unanswered included)%s%n", round, maxRounds, roundSeconds, rate, warmed[0], warmed[1],
                    pid > 0 ? String.format(Locale.ROOT, "; service CPU %d ms, of it the JIT compilers' %.0f %%",
                            total * 10, share * 100) : "");
            if (round >= minRounds && share < settled) {
                System.out.printf(Locale.ROOT, "JIT warm-up done after %d rounds (the compilers' share of the "
                        + "service's CPU under %.0f %%)%n", round, settled * 100);
                return;
            }
        }
        if (pid > 0) {
            System.out.printf(Locale.ROOT, "JIT warm-up NOT done after %d rounds: the measured phase includes the "
                    + "compilers' work%n", maxRounds);
        }
    }

    /** {the process's CPU, its JIT compiler threads' CPU} in clock ticks (10 ms), from /proc; zeros without a pid. */
    static long[] serviceCpuTicks(long pid) {
        if (pid <= 0) {
            return new long[2];
        }
        long total = 0;
        long compilers = 0;
        try (var tasks = java.nio.file.Files.list(java.nio.file.Path.of("/proc", Long.toString(pid), "task"))) {
            for (var task : tasks.toList()) {
                try {
                    String stat = java.nio.file.Files.readString(task.resolve("stat"));
                    String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
                    // utime and stime: the 14th and 15th fields, the 12th and 13th after the name's closing ')'
                    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                    long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]);
                    total += ticks;
                    if (name.startsWith("C1 Compiler") || name.startsWith("C2 Compiler")) {
                        compilers += ticks;
                    }
                } catch (java.io.IOException | RuntimeException ended) {
                    // the thread ended between the listing and the read
                }
            }
        } catch (java.io.IOException | RuntimeException e) {
            return new long[2];
        }
        return new long[] { total, compilers };
    }

    static long ownCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getProcessCpuTime();
    }

    /**
     * Decisions (16 in flight) with verdicts until every stream is NORMAL or at most 20,000 decisions: what a new
     * stream goes through before its production path is the trusted one.
     */
    static void trustWarmUp(AuditServiceGrpc.AuditServiceStub stub, String prefix) throws InterruptedException {
        AuditServiceGrpc.AuditServiceBlockingStub blocking = AuditServiceGrpc.newBlockingStub(stub.getChannel());
        SplittableRandom rng = new SplittableRandom(2);
        AtomicLong failed = new AtomicLong();
        java.util.concurrent.Semaphore inFlight = new java.util.concurrent.Semaphore(16);
        long sent = 0;
        long t0 = System.nanoTime();
        while (sent < 20_000 && !allNormal(blocking)) {
            for (int k = 0; k < 500; k++, sent++) {
                inFlight.acquire();
                double raw = rng.nextDouble();
                boolean wrong = rng.nextDouble() < ERROR_SCALE * (1 - raw);
                decide(stub, request(prefix, sent, raw), new StreamObserver<>() {
                    @Override
                    public void onNext(DecideResponse r) {
                        if (r.getAction() == AuditAction.AUDIT_ACTION_REVIEW) {
                            verdict(stub, r.getDecisionId(), wrong, null);
                        }
                    }

                    @Override
                    public void onError(Throwable t) {
                        failed.incrementAndGet();
                        inFlight.release();
                    }

                    @Override
                    public void onCompleted() {
                        inFlight.release();
                    }
                });
            }
            inFlight.acquire(16);
            inFlight.release(16);
        }
        System.out.printf(Locale.ROOT, "trust warm-up: %d decisions with verdicts in %.0f s (%d failed); streams: %s%n",
                sent, (System.nanoTime() - t0) / 1e9, failed.get(), states(blocking));
    }

    static boolean allNormal(AuditServiceGrpc.AuditServiceBlockingStub stub) {
        for (String type : TYPES) {
            try {
                if (stub.getStream(GetStreamRequest.newBuilder().setWorkerBackend(BACKEND).setWorkerType(type).build())
                        .getStream().getState() != TrustState.TRUST_STATE_NORMAL) {
                    return false;
                }
            } catch (RuntimeException notYet) {
                return false;
            }
        }
        return true;
    }

    static String states(AuditServiceGrpc.AuditServiceBlockingStub stub) {
        StringBuilder b = new StringBuilder();
        for (String type : TYPES) {
            try {
                b.append(type).append(' ').append(stub.getStream(GetStreamRequest.newBuilder()
                        .setWorkerBackend(BACKEND).setWorkerType(type).build()).getStream().getState()).append("; ");
            } catch (RuntimeException e) {
                b.append(type).append(" unknown; ");
            }
        }
        return b.toString();
    }

    static DecideRequest request(String prefix, long i, double raw) {
        return DecideRequest.newBuilder().setDecisionId(prefix + "-" + i).setTaskId(prefix)
                .setStepId("s" + (i % 5)).setWorkerBackend(BACKEND)
                .setWorkerType(i % 10 < 7 ? TYPES[0] : (i % 10 < 9 ? TYPES[1] : TYPES[2]))
                .setConfidence(raw).setRawConfidence(raw).setValidationPassed(true).build();
    }

    static void decide(AuditServiceGrpc.AuditServiceStub stub, DecideRequest request,
            StreamObserver<DecideResponse> observer) {
        stub.withDeadlineAfter(30, TimeUnit.SECONDS).decide(request, observer);
    }

    static void verdict(AuditServiceGrpc.AuditServiceStub stub, String decisionId, boolean wrong, AtomicLong failed) {
        stub.withDeadlineAfter(30, TimeUnit.SECONDS).recordVerdict(RecordVerdictRequest.newBuilder()
                .setDecisionId(decisionId).setVerdict(wrong ? Verdict.VERDICT_REJECTED : Verdict.VERDICT_ACCEPTED)
                .setReviewer("bench").setReason("simulated").build(), new StreamObserver<>() {
                    @Override
                    public void onNext(RecordVerdictResponse value) {
                    }

                    @Override
                    public void onError(Throwable t) {
                        if (failed != null) {
                            failed.incrementAndGet();
                        }
                    }

                    @Override
                    public void onCompleted() {
                    }
                });
    }

    /** {answered, failed (unanswered at the end included), elapsed nanos, verdicts sent, verdicts failed}. */
    static long[] run(AuditServiceGrpc.AuditServiceStub[] stubs, int rate, int seconds, String prefix,
            Recorder recorder, boolean verdicts, Map<String, AtomicLong> mix) throws InterruptedException {
        long total = (long) rate * seconds;
        long interval = 1_000_000_000L / rate;
        AtomicLong answered = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        AtomicLong verdictsSent = new AtomicLong();
        AtomicLong verdictsFailed = new AtomicLong();
        CountDownLatch done = new CountDownLatch((int) total);
        SplittableRandom rng = new SplittableRandom(1);
        long start = System.nanoTime();
        for (long i = 0; i < total; i++) {
            long scheduled = start + i * interval;
            // Parked, not spun: the spin of the last 20-50 us before each send cost the generator about a third of
            // a CPU at 5,000/s on the 2 CPUs it shares with the service and PostgreSQL. Waking up to ~0.1 ms late
            // is counted in the latency (it runs from the scheduled time).
            long wait = scheduled - System.nanoTime();
            if (wait > 0) {
                LockSupport.parkNanos(wait);
            }
            double raw = rng.nextDouble();
            boolean wrong = rng.nextDouble() < ERROR_SCALE * (1 - raw);
            AuditServiceGrpc.AuditServiceStub stub = stubs[(int) (i % stubs.length)];
            decide(stub, request(prefix, i, raw), new StreamObserver<>() {
                @Override
                public void onNext(DecideResponse r) {
                    if (mix != null) {
                        mix.computeIfAbsent(r.getState() + " " + r.getAction() + " " + r.getReason(),
                                k -> new AtomicLong()).incrementAndGet();
                    }
                    if (verdicts && r.getAction() == AuditAction.AUDIT_ACTION_REVIEW) {
                        verdictsSent.incrementAndGet();
                        verdict(stub, r.getDecisionId(), wrong, verdictsFailed);
                    }
                }

                @Override
                public void onError(Throwable t) {
                    failed.incrementAndGet();
                    if (mix != null) {
                        mix.computeIfAbsent("failed " + io.grpc.Status.fromThrowable(t).getCode(),
                                k -> new AtomicLong()).incrementAndGet();
                    }
                    done.countDown();
                }

                @Override
                public void onCompleted() {
                    if (recorder != null) {
                        recorder.recordValue(System.nanoTime() - scheduled);
                    }
                    answered.incrementAndGet();
                    done.countDown();
                }
            });
        }
        done.await(60, TimeUnit.SECONDS);
        // a request still unanswered here would otherwise vanish from both the percentiles and the failures
        return new long[] { answered.get(), failed.get() + done.getCount(), System.nanoTime() - start,
                verdictsSent.get(), verdictsFailed.get() };
    }
}
