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
 * bench.only (tune,steady,drift,new), bench.threads, bench.overrides (key=value,...), bench.aurocs (0.80,0.85,0.90),
 * bench.drift-seeds (20), bench.tune-seeds (10), bench.tune-h (4,5,6,7), bench.reasons (print each steady run's
 * reviews by reason).
 * <p>
 * Tuning and evaluation use disjoint seeds (issue 17: a setting chosen on the seeds it is reported on is
 * flattered by the choice). "tune" sweeps the outcome-CUSUM limit h on the tuning seeds only and picks one by a
 * rule fixed in advance ({@link #pickH}); every later scenario runs with that h on evaluation seeds that no
 * design decision has seen, and only those runs are results. The other defaults (build-up rate, certificate) were
 * chosen in issue 5 on the steady-state seeds {@link #TUNING_STEADY} 0–1 and the drift seeds {@link #TUNING_DRIFT}
 * 0–19, which therefore serve as tuning seeds here.
 */
public final class AuditSimulationBenchmark {

    /** Seed bases: run s of a scenario uses base + s. Tuning: where the shipped design was chosen (issue 5). */
    static final long TUNING_STEADY = 1_000;
    static final long TUNING_DRIFT = 5_000;
    /** Evaluation: never used to choose anything. */
    static final long EVAL_STEADY = 1_001_000;
    static final long EVAL_DRIFT = 1_005_000;
    static final long EVAL_NEW = 1_010_000;

    private AuditSimulationBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
        int seeds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, Integer.getInteger("bench.threads", 2)));
        if (!System.getProperty("bench.overrides", "").isEmpty()) {
            System.out.println("configuration overrides: " + System.getProperty("bench.overrides"));
        }
        double noise = SimulatedWorker.noiseForAuroc(0.02, 2.0, 0.85, 7);
        if (runs("tune")) {
            tune(pool, noise);
        }
        System.out.println("evaluation settings: outcome-CUSUM limit h = " + config().drift().outcomeLimit()
                + (System.getProperty("bench.overrides", "").isEmpty() ? " (default)" : "") + "; evaluation seeds only");
        if (runs("steady")) {
        System.out.printf(Locale.ROOT, "## Steady state: worker error 2 %%, target outgoing error 1 %%, δ = 0.1, "
                + "%,d outputs per run, %d evaluation seeds (%s)%n", n, seeds, seedRange(EVAL_STEADY, seeds));
        System.out.println("| AUROC (measured) | review, whole run | review, 2nd half | outgoing error | runs over 1 % "
                + "| tightenings per 100k |");
        System.out.println("|---|---|---|---|---|---|");
        double[] aurocs = Arrays.stream(System.getProperty("bench.aurocs", "0.80,0.85,0.90").split(","))
                .mapToDouble(Double::parseDouble).toArray();
        for (double auroc : aurocs) {
            double steadyNoise = SimulatedWorker.noiseForAuroc(0.02, 2.0, auroc, 7);
            double measured = SimulatedWorker.measureAuroc(new SimulatedWorker(0.02, 2.0, steadyNoise), 200_000, 99);
            List<Future<double[]>> runs = new ArrayList<>();
            for (int s = 0; s < seeds; s++) {
                int seed = s;
                runs.add(pool.submit(() -> steady(0.02, steadyNoise, n, EVAL_STEADY + seed)));
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
        if (runs("drift")) {

        System.out.println();
        int driftSeeds = Integer.getInteger("bench.drift-seeds", 20);
        System.out.printf(Locale.ROOT, "## Drift: error odds doubled after 30,000 outputs (2 %% worker, AUROC 0.85), "
                + "%d evaluation seeds (%s)%n", driftSeeds, seedRange(EVAL_DRIFT, driftSeeds));
        DriftSummary d = driftRuns(pool, noise, config(), EVAL_DRIFT, driftSeeds);
        System.out.printf(Locale.ROOT, "detection delay in outputs: median %d, p95 %d, max %d, missed within 10,000: "
                + "%d; already under full review at the change: %d; delays: %s; false alarms (any tightening) "
                + "before the change, after the first 5,000 outputs: %d in %,d outputs = %.2f per 25,000%n",
                d.median(), d.p95(), d.max(), d.missed(), d.covered(), Arrays.toString(d.delays()), d.falseAlarms(),
                d.inControl(), d.falseAlarmsPer25k());
        }
        if (runs("new")) {

        System.out.println();
        System.out.printf(Locale.ROOT, "## New streams: outputs until the stream leaves full review (200 evaluation "
                + "seeds each: %s)%n", seedRange(EVAL_NEW, 200));
        for (double e : new double[] { 0.002, 0.005, 0.01, 0.05 }) {
            long[] exits = new long[200];
            for (int s = 0; s < 200; s++) {
                SimulatedWorker w = new SimulatedWorker(e, 2.0, noise);
                SplittableRandom rng = new SplittableRandom(EVAL_NEW + s);
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

    /**
     * Sweeps the outcome-CUSUM limit h on the tuning drift seeds and picks one by {@link #pickH}; installs it as an
     * override for the evaluation scenarios. Its numbers are printed as tuning, never as results.
     */
    static void tune(ExecutorService pool, double noise) throws Exception {
        int tuneSeeds = Integer.getInteger("bench.tune-seeds", 10);
        double[] candidates = Arrays.stream(System.getProperty("bench.tune-h", "4,5,6,7").split(","))
                .mapToDouble(Double::parseDouble).toArray();
        System.out.printf(Locale.ROOT, "## Tuning (not a result): outcome-CUSUM limit h on %d tuning drift seeds (%s)%n",
                tuneSeeds, seedRange(TUNING_DRIFT, tuneSeeds));
        System.out.println("| h | median delay | p95 delay | missed within 10,000 | false alarms per 25,000 |");
        System.out.println("|---|---|---|---|---|");
        List<DriftSummary> results = new ArrayList<>();
        for (double h : candidates) {
            Map<String, String> o = overrides();
            o.put("tandem.audit.drift.outcome-limit", Double.toString(h));
            DriftSummary d = driftRuns(pool, noise, SimConfigs.with(o), TUNING_DRIFT, tuneSeeds);
            results.add(d);
            System.out.printf(Locale.ROOT, "| %s | %d | %d | %d / %d | %.2f |%n", h, d.median(), d.p95(), d.missed(),
                    tuneSeeds, d.falseAlarmsPer25k());
        }
        double h = pickH(candidates, results);
        System.out.println("picked h = " + h + " (rule: the smallest h with at most 0.75 false alarms per 25,000 and "
                + "no miss on the tuning seeds; the largest candidate if none qualifies)");
        String prior = System.getProperty("bench.overrides", "");
        System.setProperty("bench.overrides", (prior.isEmpty() ? "" : prior + ",")
                + "tandem.audit.drift.outcome-limit=" + h);
    }

    /**
     * The selection rule, fixed before any evaluation run: at most 0.75 false alarms per 25,000 and no missed drift
     * on the tuning seeds, then the fastest detection, i.e. the smallest qualifying h (delay grows with h). The
     * margin under issue 5's limit (1 per 25,000) is there because the candidate picked for the fewest alarms on
     * these seeds will, on fresh seeds, tend to show more. Returns the largest candidate when none qualifies.
     */
    static double pickH(double[] candidates, List<DriftSummary> results) {
        double best = Double.NaN;
        for (int i = 0; i < candidates.length; i++) {
            DriftSummary d = results.get(i);
            if (d.falseAlarmsPer25k() <= 0.75 && d.missed() == 0 && (Double.isNaN(best) || candidates[i] < best)) {
                best = candidates[i];
            }
        }
        return Double.isNaN(best) ? Arrays.stream(candidates).max().orElseThrow() : best;
    }

    record DriftSummary(long[] delays, int missed, int covered, long falseAlarms, long inControl) {
        long median() {
            return quantile(delays, 0.5);
        }

        long p95() {
            return quantile(delays, 0.95);
        }

        long max() {
            return delays.length == 0 ? -1 : delays[delays.length - 1];
        }

        double falseAlarmsPer25k() {
            return 25_000.0 * falseAlarms / inControl;
        }
    }

    static DriftSummary driftRuns(ExecutorService pool, double noise, dev.tandem.audit.config.AuditConfig config,
            long base, int seeds) throws Exception {
        List<Future<long[]>> drifts = new ArrayList<>();
        for (int s = 0; s < seeds; s++) {
            long seed = base + s;
            drifts.add(pool.submit(() -> drift(noise, seed, config)));
        }
        long[] delays = new long[seeds];
        long falseAlarms = 0;
        long inControl = 0;
        int missed = 0;
        int covered = 0;
        for (int i = 0; i < seeds; i++) {
            long[] r = drifts.get(i).get();
            delays[i] = r[0];
            missed += r[0] == -1 ? 1 : 0;
            covered += r[0] == -2 ? 1 : 0;
            falseAlarms += r[1];
            inControl += r[2];
        }
        long[] found = Arrays.stream(delays).filter(x -> x >= 0).sorted().toArray();
        return new DriftSummary(found, missed, covered, falseAlarms, inControl);
    }

    static String seedRange(long base, int count) {
        return count == 1 ? Long.toString(base) : base + "–" + (base + count - 1);
    }

    /** {review share, review share 2nd half, outgoing error, tightenings}. */
    static double[] steady(double error, double noise, int n, long seed) {
        SimulatedWorker w = new SimulatedWorker(error, 2.0, noise);
        SplittableRandom rng = new SplittableRandom(seed);
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
    static long[] drift(double noise, long seed, dev.tandem.audit.config.AuditConfig config) {
        SimulatedWorker w = new SimulatedWorker(0.02, 2.0, noise);
        SplittableRandom rng = new SplittableRandom(seed);
        SimulatedStream st = new SimulatedStream(config, "d" + seed + "-");
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

    /** Defaults plus -Dbench.overrides=key=value,key=value (later keys win). */
    static dev.tandem.audit.config.AuditConfig config() {
        return SimConfigs.with(overrides());
    }

    static Map<String, String> overrides() {
        Map<String, String> o = new java.util.HashMap<>();
        for (String kv : System.getProperty("bench.overrides", "").split(",")) {
            if (kv.contains("=")) {
                o.put(kv.substring(0, kv.indexOf('=')).trim(), kv.substring(kv.indexOf('=') + 1).trim());
            }
        }
        return o;
    }

    static boolean runs(String scenario) {
        String only = System.getProperty("bench.only", "");
        return only.isEmpty() || java.util.Arrays.asList(only.split(",")).contains(scenario);
    }

    static boolean trusted(TrustState s) {
        return s == TrustState.NORMAL || s == TrustState.REDUCED;
    }
}
