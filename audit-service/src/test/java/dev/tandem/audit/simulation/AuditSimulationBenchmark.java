package dev.tandem.audit.simulation;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import dev.tandem.audit.TrustState;

/**
 * The issue-5 simulation benchmark (bin/bench-audit): seeded streams with known error rates through the real
 * policy classes. Prints, per scenario, the review share, the outgoing error rate, drift detection delays, false
 * alarms and the outputs a new stream needs to leave full review, plus the confidence-blind CSP-1 baseline.
 * Not a test: it takes minutes. Arguments: [outputs per steady-state run] [seeds]. Options (system properties):
 * bench.only (steady,drift,new), bench.threads, bench.overrides (key=value,...), bench.aurocs (0.80,0.85,0.90),
 * bench.drift-seeds (20), bench.reasons (print each steady run's reviews by reason).
 */
public final class AuditSimulationBenchmark {

    private AuditSimulationBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
        int seeds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, Integer.getInteger("bench.threads", 2)));
        if (!System.getProperty("bench.overrides", "").isEmpty()) {
            System.out.println("configuration overrides: " + System.getProperty("bench.overrides"));
        }
        if (runs("steady")) {
        System.out.printf(Locale.ROOT, "## Steady state: worker error 2 %%, target outgoing error 1 %%, δ = 0.1, "
                + "%,d outputs per run, %d seeds%n", n, seeds);
        System.out.println("| AUROC (measured) | review, whole run | review, 2nd half | outgoing error | runs over 1 % "
                + "| tightenings per 100k |");
        System.out.println("|---|---|---|---|---|---|");
        double[] aurocs = Arrays.stream(System.getProperty("bench.aurocs", "0.80,0.85,0.90").split(","))
                .mapToDouble(Double::parseDouble).toArray();
        for (double auroc : aurocs) {
            double noise = SimulatedWorker.noiseForAuroc(0.02, 2.0, auroc, 7);
            double measured = SimulatedWorker.measureAuroc(new SimulatedWorker(0.02, 2.0, noise), 200_000, 99);
            List<Future<double[]>> runs = new ArrayList<>();
            for (int s = 0; s < seeds; s++) {
                int seed = s;
                runs.add(pool.submit(() -> steady(0.02, noise, n, seed)));
            }
            double[] sum = new double[4];
            int over = 0;
            for (Future<double[]> f : runs) {
                double[] r = f.get();
                for (int i = 0; i < 4; i++) {
                    sum[i] += r[i];
                }
                over += r[2] > 0.01 ? 1 : 0;
            }
            System.out.printf(Locale.ROOT, "| %.2f (%.3f) | %.1f %% | %.1f %% | %.2f %% | %d / %d | %.1f |%n", auroc,
                    measured, 100 * sum[0] / seeds, 100 * sum[1] / seeds, 100 * sum[2] / seeds, over, seeds,
                    sum[3] / seeds * 100_000.0 / n);
        }
        csp1Baseline(n);
        }
        double noise = SimulatedWorker.noiseForAuroc(0.02, 2.0, 0.85, 7);
        if (runs("drift")) {

        System.out.println();
        int driftSeeds = Integer.getInteger("bench.drift-seeds", 20);
        System.out.printf(Locale.ROOT, "## Drift: error odds doubled after 30,000 outputs (2 %% worker, AUROC 0.85), "
                + "%d seeds%n", driftSeeds);
        List<Future<long[]>> drifts = new ArrayList<>();
        for (int s = 0; s < driftSeeds; s++) {
            int seed = s;
            drifts.add(pool.submit(() -> drift(noise, seed)));
        }
        long[] delays = new long[driftSeeds];
        long falseAlarms = 0;
        long inControl = 0;
        int missed = 0;
        int covered = 0;
        for (int i = 0; i < driftSeeds; i++) {
            long[] r = drifts.get(i).get();
            delays[i] = r[0];
            missed += r[0] == -1 ? 1 : 0;
            covered += r[0] == -2 ? 1 : 0;
            falseAlarms += r[1];
            inControl += r[2];
        }
        long[] found = Arrays.stream(delays).filter(d -> d >= 0).sorted().toArray();
        System.out.printf(Locale.ROOT, "detection delay in outputs: median %d, p95 %d, max %d, missed within 10,000: "
                + "%d; already under full review at the change: %d; delays: %s; false alarms (any tightening) "
                + "before the change, after the first 5,000 outputs: %d in %,d outputs = %.2f per 25,000%n",
                quantile(found, 0.5), quantile(found, 0.95), found.length == 0 ? -1 : found[found.length - 1],
                missed, covered, Arrays.toString(found), falseAlarms, inControl,
                25_000.0 * falseAlarms / inControl);
        }
        if (runs("new")) {

        System.out.println();
        System.out.println("## New streams: outputs until the stream leaves full review (200 seeds each)");
        for (double e : new double[] { 0.002, 0.005, 0.01, 0.05 }) {
            long[] exits = new long[200];
            for (int s = 0; s < 200; s++) {
                SimulatedWorker w = new SimulatedWorker(e, 2.0, noise);
                SplittableRandom rng = new SplittableRandom(10_000 + s);
                SimulatedStream st = new SimulatedStream(config(), "n" + s + "-");
                for (int i = 0; i < 2000 && st.firstTrustedAt() < 0; i++) {
                    st.accept(w.next(rng));
                }
                exits[s] = st.firstTrustedAt() < 0 ? Long.MAX_VALUE : st.firstTrustedAt();
            }
            Arrays.sort(exits);
            long within300 = Arrays.stream(exits).filter(x -> x <= 300).count();
            long never = Arrays.stream(exits).filter(x -> x == Long.MAX_VALUE).count();
            System.out.printf(Locale.ROOT, "worker error %.1f %%: median %s, p95 %s outputs; left within 300: %d / 200; "
                    + "still fully reviewed after 2,000: %d / 200%n", 100 * e, show(exits[100]), show(exits[189]),
                    within300, never);
        }
        }
        pool.shutdown();
    }

    /** {review share, review share 2nd half, outgoing error, tightenings}. */
    static double[] steady(double error, double noise, int n, int seed) {
        SimulatedWorker w = new SimulatedWorker(error, 2.0, noise);
        SplittableRandom rng = new SplittableRandom(1000 + seed);
        SimulatedStream st = new SimulatedStream(config(), "s" + seed + "-");
        long halfReviews = 0;
        java.util.Map<String, Long> byReason = new java.util.TreeMap<>();
        for (int i = 0; i < n; i++) {
            dev.tandem.audit.Decision d = st.accept(w.next(rng));
            if (i == n / 2 - 1) {
                halfReviews = st.reviews();
            }
            if (i >= n / 2 && d.action() == dev.tandem.audit.AuditAction.REVIEW) {
                byReason.merge(d.reason().name(), 1L, Long::sum);
            }
        }
        if (Boolean.getBoolean("bench.reasons")) {
            System.out.printf(Locale.ROOT, "seed %d noise %.3f: 2nd-half reviews by reason %s, tightenings at %s, "
                    + "final %s%n", seed, noise, byReason, st.tightenings().stream().map(t -> t[0] + "/" + t[1])
                    .toList(), st.stream().certification());
        }
        return new double[] { (double) st.reviews() / n, (double) (st.reviews() - halfReviews) / (n - n / 2),
                (double) st.outgoingErrors() / n, st.tightenings().size() };
    }

    /** {delay (-1 missed), false alarms before the change after 5,000 outputs, in-control outputs counted}. */
    static long[] drift(double noise, int seed) {
        SimulatedWorker w = new SimulatedWorker(0.02, 2.0, noise);
        SplittableRandom rng = new SplittableRandom(5000 + seed);
        SimulatedStream st = new SimulatedStream(config(), "d" + seed + "-");
        int change = 30_000;
        for (int i = 0; i < change; i++) {
            st.accept(w.next(rng));
        }
        long falseAlarms = st.tightenings().stream().filter(t -> t[0] > 5000).count();
        int before = st.tightenings().size();
        if (!trusted(st.stream().state())) {
            // already under full review (after a false alarm): the drift meets 100 % review at once
            return new long[] { -2, falseAlarms, change - 5000 };
        }
        w.multiplyErrorOdds(2.0);
        for (int i = 0; i < 10_000; i++) {
            st.accept(w.next(rng));
            if (st.tightenings().size() > before) {
                return new long[] { i + 1, falseAlarms, change - 5000 };
            }
        }
        return new long[] { -1, falseAlarms, change - 5000 };
    }

    /** Confidence-blind CSP-1 (blocking review in both phases) at A = 1 %, f = 1/10, with i from Dodge's formula. */
    static void csp1Baseline(int n) {
        double a = 0.01;
        double f = 0.1;
        int i = 1;
        while (true) {
            double x = i * (1 - a) / (i + 1);
            double fi = Math.pow(x, i + 1) / (Math.pow(x, i + 1) + i * a);
            if (fi <= f) {
                break;
            }
            i++;
        }
        for (double p : new double[] { 0.01, 0.02 }) {
            SplittableRandom rng = new SplittableRandom(77);
            int run = 0;
            boolean screening = true;
            long reviewed = 0;
            long outgoing = 0;
            for (int k = 0; k < n * 5; k++) {
                boolean wrong = rng.nextDouble() < p;
                boolean review = screening || rng.nextDouble() < f;
                if (review) {
                    reviewed++;
                    if (wrong) {
                        screening = true;
                        run = 0;
                    } else if (screening && ++run >= i) {
                        screening = false;
                    }
                } else if (wrong) {
                    outgoing++;
                }
            }
            double q = 1 - p;
            double afi = f / (f + (1 - f) * Math.pow(q, i));
            System.out.printf(Locale.ROOT, "CSP-1 baseline (confidence-blind, i = %d, f = 0.1) at worker error %.0f %%: "
                    + "review %.1f %% (formula AFI %.1f %%), outgoing error %.2f %%%n", i, 100 * p,
                    100.0 * reviewed / (n * 5), 100 * afi, 100.0 * outgoing / (n * 5));
        }
    }

    private static long quantile(long[] sorted, double q) {
        // nearest rank: the smallest value with at least q of the values at or below it
        return sorted.length == 0 ? -1 : sorted[(int) Math.max(0, Math.ceil(q * sorted.length) - 1)];
    }

    private static String show(long x) {
        return x == Long.MAX_VALUE ? "> 2000" : Long.toString(x);
    }

    /** Defaults plus -Dbench.overrides=key=value,key=value. */
    static dev.tandem.audit.config.AuditConfig config() {
        Map<String, String> o = new java.util.HashMap<>();
        for (String kv : System.getProperty("bench.overrides", "").split(",")) {
            if (kv.contains("=")) {
                o.put(kv.substring(0, kv.indexOf('=')).trim(), kv.substring(kv.indexOf('=') + 1).trim());
            }
        }
        return SimConfigs.with(o);
    }

    static boolean runs(String scenario) {
        String only = System.getProperty("bench.only", "");
        return only.isEmpty() || java.util.Arrays.asList(only.split(",")).contains(scenario);
    }

    static boolean trusted(TrustState s) {
        return s == TrustState.NORMAL || s == TrustState.REDUCED;
    }
}
