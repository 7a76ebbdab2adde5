package dev.tandem.audit.simulation;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import dev.tandem.proto.audit.v1.AuditAction;
import dev.tandem.proto.audit.v1.AuditServiceGrpc;
import dev.tandem.proto.audit.v1.DecideRequest;
import dev.tandem.proto.audit.v1.DecideResponse;
import dev.tandem.proto.audit.v1.GetStreamRequest;
import dev.tandem.proto.audit.v1.RecordVerdictRequest;
import dev.tandem.proto.audit.v1.ReviewMode;
import dev.tandem.proto.audit.v1.StreamStatus;
import dev.tandem.proto.audit.v1.TrustState;
import dev.tandem.proto.audit.v1.Verdict;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;

/**
 * Issue 18's measurement from outside, on the running audit service (bin/bench-audit-stream): streams of one
 * simulated worker family driven over gRPC, one output at a time per stream (Decide, then RecordVerdict for every
 * REVIEW, the oracle taken as right), a stationary part and then a doubling of the error odds. The simulation
 * benchmark runs the policy classes in memory; this checks that the service, with its ledger, asynchronous refits
 * and policy cache, behaves the same. Per stream it prints the tightenings seen in the stationary part after output
 * 5,000 (false alarms), the outputs from the doubling to the first tightening, the review share of the second half
 * of the stationary part, the outgoing error (wrong outputs not held by a blocking review) and the stream's drift
 * alarms. Arguments: host port family stationary-outputs drifted-outputs seeds [first-seed].
 */
public final class ServiceStreamCheck {

    private ServiceStreamCheck() {
    }

    record Result(long seed, List<Long> tightenings, long stationary, long drifted, long reviewsSecondHalf,
            long outgoingErrors, long outputs, StreamStatus end) {
    }

    public static void main(String[] args) throws Exception {
        String host = args[0];
        int port = Integer.parseInt(args[1]);
        SimulatedWorker.Family family = SimulatedWorker.family(args[2]);
        long stationary = Long.parseLong(args[3]);
        long drifted = Long.parseLong(args[4]);
        int seeds = Integer.parseInt(args[5]);
        long firstSeed = args.length > 6 ? Long.parseLong(args[6]) : 2_018_000;
        ManagedChannel channel = ManagedChannelBuilder.forAddress(host, port).usePlaintext().build();
        String run = Long.toString(System.currentTimeMillis(), 36);
        ExecutorService pool = Executors.newFixedThreadPool(seeds);
        List<Future<Result>> futures = new ArrayList<>();
        for (int i = 0; i < seeds; i++) {
            long seed = firstSeed + i;
            futures.add(pool.submit(() -> drive(channel, run, family, seed, stationary, drifted)));
        }
        System.out.printf(Locale.ROOT, "## %s through the service: %,d stationary outputs, then the error odds doubled "
                + "for %,d; one stream per seed%n", family.describe(), stationary, drifted);
        System.out.println("| seed | false alarms after 5,000 (per 25,000) | delay to the first tightening after the "
                + "doubling | review, 2nd half of the stationary part | outgoing error, stationary | drift alarms | "
                + "state at the end |");
        System.out.println("|---|---|---|---|---|---|---|");
        long falseAlarms = 0;
        for (Future<Result> f : futures) {
            Result r = f.get();
            long before = r.tightenings().stream().filter(t -> t > 5_000 && t <= r.stationary()).count();
            falseAlarms += before;
            long delay = r.tightenings().stream().filter(t -> t > r.stationary()).findFirst()
                    .map(t -> t - r.stationary()).orElse(-1L);
            System.out.printf(Locale.ROOT, "| %d | %d (%.2f) | %s | %.1f %% | %.2f %% | %d | %s |%n", r.seed(), before,
                    25_000.0 * before / (r.stationary() - 5_000), delay < 0 ? "not within " + r.drifted() : delay,
                    100.0 * r.reviewsSecondHalf() / (r.stationary() / 2), 100.0 * r.outgoingErrors() / r.stationary(),
                    r.end().getDriftAlarms(), r.end().getState());
        }
        System.out.printf(Locale.ROOT, "false alarms per 25,000 stationary outputs, all seeds: %.2f%n",
                25_000.0 * falseAlarms / (seeds * (stationary - 5_000)));
        pool.shutdown();
        channel.shutdown().awaitTermination(10, TimeUnit.SECONDS);
    }

    static Result drive(ManagedChannel channel, String run, SimulatedWorker.Family family, long seed, long stationary,
            long drifted) {
        AuditServiceGrpc.AuditServiceBlockingStub stub = AuditServiceGrpc.newBlockingStub(channel);
        SimulatedWorker worker = family.worker();
        SplittableRandom rng = new SplittableRandom(seed);
        String type = family.name() + "-" + seed;
        List<Long> tightenings = new ArrayList<>();
        TrustState last = TrustState.TRUST_STATE_PROBATION;
        long reviewsSecondHalf = 0;
        long outgoing = 0;
        long total = stationary + drifted;
        for (long i = 1; i <= total; i++) {
            if (i == stationary + 1) {
                worker.multiplyErrorOdds(2.0);
            }
            SimulatedWorker.Output o = worker.next(rng);
            DecideResponse d = stub.withDeadlineAfter(30, TimeUnit.SECONDS).decide(DecideRequest.newBuilder()
                    .setDecisionId(run + "-" + type + "-" + i).setTaskId(run).setStepId("s")
                    .setWorkerBackend("stream-check").setWorkerType(type).setConfidence(o.raw())
                    .setRawConfidence(o.raw()).setValidationPassed(true).build());
            // a tightening shows on the first decision made in TIGHTENED after a trusted one
            if (d.getState() == TrustState.TRUST_STATE_TIGHTENED && (last == TrustState.TRUST_STATE_NORMAL
                    || last == TrustState.TRUST_STATE_REDUCED)) {
                tightenings.add(i);
            }
            last = d.getState();
            boolean review = d.getAction() == AuditAction.AUDIT_ACTION_REVIEW;
            if (i > stationary / 2 && i <= stationary && review) {
                reviewsSecondHalf++;
            }
            if (i <= stationary && o.wrong() && d.getMode() != ReviewMode.REVIEW_MODE_BLOCKING) {
                outgoing++;
            }
            if (review) {
                stub.withDeadlineAfter(30, TimeUnit.SECONDS).recordVerdict(RecordVerdictRequest.newBuilder()
                        .setDecisionId(d.getDecisionId())
                        .setVerdict(o.wrong() ? Verdict.VERDICT_REJECTED : Verdict.VERDICT_ACCEPTED)
                        .setReviewer("stream-check").setReason("simulated oracle").build());
            }
        }
        StreamStatus end = stub.getStream(GetStreamRequest.newBuilder().setWorkerBackend("stream-check")
                .setWorkerType(type).build()).getStream();
        return new Result(seed, tightenings, stationary, drifted, reviewsSecondHalf, outgoing, total, end);
    }
}
