package dev.tandem.audit.simulation;

import java.util.Locale;
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

import dev.tandem.proto.audit.v1.AuditServiceGrpc;
import dev.tandem.proto.audit.v1.DecideRequest;
import dev.tandem.proto.audit.v1.DecideResponse;

/**
 * Open-loop load generator for Decide (bin/bench-audit-load): sends requests at a fixed rate on a schedule that
 * does not wait for answers, over several gRPC connections, and records each latency from the request's
 * scheduled start (so a stall counts against every request it delays: no coordinated omission) in an
 * HdrHistogram. Decisions spread over a few streams of one backend, mostly on the first (the hot row).
 * Arguments: host port rate-per-second seconds [connections] [warm-up seconds]. With {@code -Dbench.mark=FILE} it
 * writes FILE when the warm-up ends and the measured phase starts.
 */
public final class DecideLoadGenerator {

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
        long[] warmed = run(stubs, rate, warmup, run + "w", null);
        System.out.printf(Locale.ROOT, "warm-up: %d s at %d/s, %d answered, %d failed%n", warmup, rate, warmed[0],
                warmed[1]);
        // bin/bench-audit-load waits for this file to start its CPU counters at the measured phase.
        String mark = System.getProperty("bench.mark");
        if (mark != null) {
            java.nio.file.Files.writeString(java.nio.file.Path.of(mark), "measuring\n");
        }
        Recorder recorder = new Recorder(3);
        long[] outcome = run(stubs, rate, seconds, run + "m", recorder);
        Histogram h = recorder.getIntervalHistogram();
        System.out.printf(Locale.ROOT, "Decide at %d/s offered for %d s over %d connections: %d answered, %d failed, "
                + "throughput %.0f/s; latency p50 %.3f ms, p90 %.3f ms, p99 %.3f ms, p99.9 %.3f ms, max %.3f ms%n",
                rate, seconds, connections, outcome[0], outcome[1], outcome[0] / (outcome[2] / 1e9),
                h.getValueAtPercentile(50) / 1e6, h.getValueAtPercentile(90) / 1e6, h.getValueAtPercentile(99) / 1e6,
                h.getValueAtPercentile(99.9) / 1e6, h.getMaxValue() / 1e6);
        for (ManagedChannel c : channels) {
            c.shutdownNow();
        }
    }

    /** {answered, failed, elapsed nanos}. */
    static long[] run(AuditServiceGrpc.AuditServiceStub[] stubs, int rate, int seconds, String prefix,
            Recorder recorder) throws InterruptedException {
        long total = (long) rate * seconds;
        long interval = 1_000_000_000L / rate;
        AtomicLong answered = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        CountDownLatch done = new CountDownLatch((int) total);
        SplittableRandom rng = new SplittableRandom(1);
        long start = System.nanoTime();
        for (long i = 0; i < total; i++) {
            long scheduled = start + i * interval;
            long wait;
            while ((wait = scheduled - System.nanoTime()) > 0) {
                if (wait > 50_000) {
                    LockSupport.parkNanos(wait - 20_000);
                }
            }
            double raw = rng.nextDouble();
            DecideRequest request = DecideRequest.newBuilder().setDecisionId(prefix + "-" + i).setTaskId(prefix)
                    .setStepId("s" + (i % 5)).setWorkerBackend("bench-model")
                    .setWorkerType(i % 10 < 7 ? "classify" : (i % 10 < 9 ? "extract" : "summarize"))
                    .setConfidence(raw).setRawConfidence(raw).setValidationPassed(true).build();
            stubs[(int) (i % stubs.length)].decide(request, new StreamObserver<>() {
                @Override
                public void onNext(DecideResponse value) {
                }

                @Override
                public void onError(Throwable t) {
                    failed.incrementAndGet();
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
        return new long[] { answered.get(), failed.get(), System.nanoTime() - start };
    }
}
