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
import dev.tandem.audit.service.TrustPolicy;

/**
 * The issue-5 simulation benchmark (bin/bench-audit), per worker family since issue 18: seeded streams with known
 * error behaviour through the real policy classes. Prints, per family ({@link SimulatedWorker#FAMILIES}: logistic and
 * non-logistic error curves, unimodal and mixed confidence, error rates 0.5–10 %), the review share (whole run and
 * second half, per seed), the outgoing error, the no-uncertainty frontier at the realised outgoing error, false
 * alarms by detector and drift detection delays; plus the confidence-blind CSP-1 baseline and the outputs a new
 * stream needs to leave full review. Not a test: it takes minutes. Arguments: [outputs per steady-state run]
 * [seeds]. Options (system properties): bench.only (tune,steady,drift,new), bench.seeds (held-out, the default, or
 * tuning), bench.families (name,...), bench.threads, bench.overrides (key=value,...), bench.drift-seeds (20),
 * bench.tune-seeds (10), bench.tune-h (4,5,6,7), bench.reasons (print each steady run's reviews by reason and each
 * family's drift delays), bench.floor (true: after the drift table, the floor beside ours, {@link #floorTable}),
 * bench.floor-rates (a,...: the floor again with the uniform review share raised to each a), bench.floor-budget (1
 * false alarm per 25,000 outputs), bench.floor-outputs (2,500,000), bench.floor-replicates (20).
 * <p>
 * Tuning and evaluation use disjoint seeds (issue 17: a setting chosen on the seeds it is reported on is
 * flattered by the choice). "tune" sweeps the outcome-CUSUM limit h on the tuning drift seeds {@link #TUNING_DRIFT}
 * 5000–5009 of every family and picks one by a rule fixed in advance ({@link #pickH}); the steady and drift
 * scenarios then run on the held-out seeds {@link #EVAL_STEADY} and {@link #EVAL_DRIFT} (issue 18's, which no
 * design decision has seen), or with -Dbench.seeds=tuning on the tuning seeds {@link #TUNING_STEADY} 1000+ and
 * 5000+, where the design was chosen (those numbers are printed as tuning, never as results).
 */
public final class AuditSimulationBenchmark {

    /** Seed bases: run s of a scenario uses base + s. Tuning: where the shipped design was chosen (issue 5). */
    static final long TUNING_STEADY = 1_000;
    static final long TUNING_DRIFT = 5_000;
    /**
     * Held-out (issue 18): never used to choose anything. New bases: issue 17's evaluation seeds (1,001,000 and
     * 1,005,000) had been looked at while the issue-18 detector was designed, so they are not held out any more.
     */
    static final long EVAL_STEADY = 2_001_000;
    static final long EVAL_DRIFT = 2_005_000;
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
        List<SimulatedWorker.Family> families = families();
        double noise = SimulatedWorker.noiseForAuroc(0.02, 2.0, 0.85, 7);
        if (runs("tune")) {
            tune(pool, families);
        }
        boolean tuningSeeds = "tuning".equals(System.getProperty("bench.seeds", "held-out"));
        long steadyBase = tuningSeeds ? TUNING_STEADY : EVAL_STEADY;
        long driftBase = tuningSeeds ? TUNING_DRIFT : EVAL_DRIFT;
        String which = tuningSeeds ? "TUNING seeds (not results)" : "held-out seeds";
        System.out.println("settings: outcome-CUSUM limit h = " + config().drift().outcomeLimit()
                + (config().drift().outcomeFalseAlarmRate() > 0 ? " at most, derived per stream for "
                        + config().drift().outcomeFalseAlarmRate() + " false alarms per output" : "")
                + ", reference margin "
                + "z = " + config().drift().referenceMargin() + (System.getProperty("bench.overrides", "").isEmpty()
                        ? " (defaults)" : " (overrides)") + "; " + which);
        if (runs("steady")) {
            System.out.printf(Locale.ROOT, "## Steady state per family: target outgoing error %.1f %%, δ = 0.1, %,d "
                    + "outputs per run, %d %s (%s)%n", 100 * config().target().outgoingErrorRate(), n, seeds, which,
                    seedRange(steadyBase, seeds));
            System.out.println("| family | AUROC | review, whole run | review, 2nd half (per seed) | spread | outgoing, "
                    + "whole (max) | outgoing, 2nd half | frontier at it | ratio | runs over A | false alarms per "
                    + "25,000 |");
            System.out.println("|---|---|---|---|---|---|---|---|---|---|---|");
            for (SimulatedWorker.Family family : families) {
                steadyRow(pool, family, n, seeds, steadyBase);
            }
            csp1Baseline(n);
        }
        if (runs("drift")) {
            System.out.println();
            int driftSeeds = Integer.getInteger("bench.drift-seeds", 20);
            System.out.printf(Locale.ROOT, "## Drift per family: error odds doubled after 30,000 outputs, %d %s (%s)%n",
                    driftSeeds, which, seedRange(driftBase, driftSeeds));
            System.out.println("| family | median delay | p95 delay | max | missed within 10,000 | under full review at "
                    + "the change | false alarms per 25,000 (5,000-30,000) | true outcome alarms: confirmed / refuted / "
                    + "undecided / open |");
            System.out.println("|---|---|---|---|---|---|---|---|");
            Map<SimulatedWorker.Family, DriftSummary> summaries = new java.util.LinkedHashMap<>();
            for (SimulatedWorker.Family family : families) {
                DriftSummary d = driftRuns(pool, family, config(), driftBase, driftSeeds);
                summaries.put(family, d);
                System.out.printf(Locale.ROOT, "| %s | %d | %d | %d | %d | %d | %.2f (%d in %,d: %d outcome, %d "
                        + "confidence, %d CSP-2) | %d / %d / %d / %d |%n", family.name(), d.median(), d.p95(), d.max(),
                        d.missed(), d.covered(), d.falseAlarmsPer25k(), d.falseAlarms(), d.inControl(),
                        d.byDetector()[0], d.byDetector()[1], d.byDetector()[2], d.endings()[0], d.endings()[1],
                        d.endings()[2], d.endings()[3]);
                if (Boolean.getBoolean("bench.reasons")) {
                    System.out.println("delays " + family.name() + ": " + Arrays.toString(d.delays()));
                    System.out.printf(Locale.ROOT, "outcome-CUSUM limit at the change %s: %s%n", family.name(),
                            Arrays.stream(d.limits()).mapToObj(h -> String.format(Locale.ROOT, "%.2f", h)).toList());
                }
            }
            if (!"false".equals(System.getProperty("bench.floor"))) {
                floorTable(pool, summaries);
            }
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
     * The floor beside ours ({@link #floor}): per family, at each run's review pattern at the change, and, with
     * -Dbench.floor-rates=a,a,..., with the uniform share raised to each a (what review would make a goal reachable).
     */
    static void floorTable(ExecutorService pool, Map<SimulatedWorker.Family, DriftSummary> summaries)
            throws Exception {
        System.out.println();
        System.out.printf(Locale.ROOT, "## Floor: the best detector on the same reviews (exact p₀ and p₁, CUSUM of the "
                + "exact log-likelihood ratio, h* for %s false alarm per 25,000 outputs on %,d stationary outputs, "
                + "%d delays per run after a 5,000-output warm-up)%n", System.getProperty("bench.floor-budget", "1"),
                Long.getLong("bench.floor-outputs", 2_500_000L), Integer.getInteger("bench.floor-replicates", 20));
        System.out.println("| family | uniform share at least | review share at the change | λ (mean) | a (mean) | h* "
                + "| floor median | floor p95 | floor mean (Siegmund's, at its h) | floor missed within 10,000 "
                + "| floor on the runs' own outputs: median / p95 (missed) | ours median / p95 (missed) | runs where "
                + "ours is within 1.5x the paired floor |");
        System.out.println("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        List<Double> rates = new ArrayList<>(List.of(0.0));
        for (String r : System.getProperty("bench.floor-rates", "").split(",")) {
            if (!r.isBlank()) {
                rates.add(Double.parseDouble(r.trim()));
            }
        }
        for (Map.Entry<SimulatedWorker.Family, DriftSummary> e : summaries.entrySet()) {
            DriftSummary d = e.getValue();
            if (d.atChange().isEmpty()) {
                System.out.printf(Locale.ROOT, "| %s | – | every run under full review at the change | | | | | | | | "
                        + "|%n", e.getKey().name());
                continue;
            }
            double lambda = d.atChange().stream().mapToDouble(DetectionFloor.Pattern::rawThreshold).average()
                    .orElseThrow();
            double a = d.atChange().stream().mapToDouble(DetectionFloor.Pattern::sampleRate).average().orElseThrow();
            for (double rate : rates) {
                Floor f = floor(pool, e.getKey(), d, rate);
                long[] pf = f.pairedFound();
                int close = 0;
                for (int i = 0; i < f.paired().length; i++) {
                    long o = d.ours().get(i);
                    long q = f.paired()[i];
                    close += o >= 0 && (q < 0 || o <= 1.5 * q) ? 1 : 0;
                }
                System.out.printf(Locale.ROOT, "| %s | %s | %.1f %% | %.3f | %.3f | %.2f | %d | %d | %.0f (%.0f at h "
                        + "%.2f) | %d / %d | %d / %d (%d) | %d / %d (%d) | %s |%n", e.getKey().name(),
                        rate == 0 ? "as realised" : String.format(Locale.ROOT, "%.0f %%", 100 * rate),
                        100 * f.reviewShare(), lambda, a, f.h(), f.median(), f.p95(), f.mean(), f.siegmundDelay(),
                        f.siegmundH(), f.missed(), f.missed() + f.delays().length, quantile(pf, 0.5),
                        quantile(pf, 0.95), f.paired().length - pf.length, d.median(), d.p95(), d.missed(),
                        rate == 0 ? close + " / " + f.paired().length : "–");
            }
        }
    }

    /** The families to run: all, or -Dbench.families=name,name. */
    static List<SimulatedWorker.Family> families() {
        String only = System.getProperty("bench.families", "");
        return SimulatedWorker.FAMILIES.stream()
                .filter(f -> only.isEmpty() || Arrays.asList(only.split(",")).contains(f.name())).toList();
    }

    static void steadyRow(ExecutorService pool, SimulatedWorker.Family family, int n, int seeds, long base)
            throws Exception {
        List<Future<double[]>> runs = new ArrayList<>();
        for (int s = 0; s < seeds; s++) {
            long seed = base + s;
            runs.add(pool.submit(() -> steady(family, n, seed)));
        }
        double a = config().target().outgoingErrorRate();
        double[] sum = new double[6];
        double maxOutgoing = 0;
        double lo = 1;
        double hi = 0;
        int over = 0;
        StringBuilder perSeed = new StringBuilder();
        for (Future<double[]> f : runs) {
            double[] r = f.get();
            for (int i = 0; i < sum.length; i++) {
                sum[i] += r[i];
            }
            maxOutgoing = Math.max(maxOutgoing, r[2]);
            over += r[2] > a ? 1 : 0;
            lo = Math.min(lo, r[1]);
            hi = Math.max(hi, r[1]);
            perSeed.append(perSeed.isEmpty() ? "" : ", ").append(String.format(Locale.ROOT, "%.1f", 100 * r[1]));
        }
        double review2 = sum[1] / seeds;
        double out2 = sum[3] / seeds;
        double frontier = frontier(family).reviewAt(out2);
        double spread = 100 * Math.max(hi - review2, review2 - lo);
        System.out.printf(Locale.ROOT, "| %s | %.3f | %.1f %% | %.1f %% (%s) | ±%.1f | %.2f %% (%.2f %%) | %.2f %% | "
                + "%.1f %% | %s | %d / %d | %.2f |%n", family.name(), frontier(family).auroc(), 100 * sum[0] / seeds,
                100 * review2, perSeed, spread, 100 * sum[2] / seeds, 100 * maxOutgoing, 100 * out2, 100 * frontier,
                frontier > 0 ? String.format(Locale.ROOT, "%.2f", review2 / frontier) : "n/a (frontier 0)", over, seeds,
                25_000.0 * sum[4] / sum[5]);
    }

    /**
     * The no-uncertainty frontier of a family: the least review share of a threshold rule (pass the most confident
     * outputs) whose outgoing error, with every output's true error probability known, is x. Computed on 400,000
     * draws of the family (seed 99), not on any benchmark run.
     */
    record Frontier(double[] cumulativeErrors, double auroc) {
        double reviewAt(double outgoing) {
            int n = cumulativeErrors.length - 1;
            int k = 0;
            while (k < n && cumulativeErrors[k + 1] / n <= outgoing) {
                k++;
            }
            return 1 - (double) k / n;
        }
    }

    private static final Map<SimulatedWorker.Family, Frontier> FRONTIERS = new java.util.concurrent.ConcurrentHashMap<>();

    static Frontier frontier(SimulatedWorker.Family family) {
        return FRONTIERS.computeIfAbsent(family, f -> {
            int n = 400_000;
            SimulatedWorker w = f.worker();
            SplittableRandom rng = new SplittableRandom(99);
            double[][] draws = new double[n][];
            for (int i = 0; i < n; i++) {
                SimulatedWorker.Output o = w.next(rng);
                draws[i] = new double[] { o.raw(), o.errorProbability() };
            }
            Arrays.sort(draws, (x, y) -> Double.compare(y[0], x[0]));
            double[] cum = new double[n + 1];
            for (int i = 0; i < n; i++) {
                cum[i + 1] = cum[i] + draws[i][1];
            }
            return new Frontier(cum, SimulatedWorker.measureAuroc(f.worker(), 200_000, 99));
        });
    }

    /**
     * Sweeps the outcome-CUSUM limit h on the tuning drift seeds of every family and picks one by {@link #pickH};
     * installs it as an override for the later scenarios. Its numbers are printed as tuning, never as results.
     */
    static void tune(ExecutorService pool, List<SimulatedWorker.Family> families) throws Exception {
        int tuneSeeds = Integer.getInteger("bench.tune-seeds", 10);
        double[] candidates = Arrays.stream(System.getProperty("bench.tune-h", "4,5,6,7").split(","))
                .mapToDouble(Double::parseDouble).toArray();
        System.out.printf(Locale.ROOT, "## Tuning (not a result): outcome-CUSUM limit h on %d tuning drift seeds (%s) "
                + "per family%n", tuneSeeds, seedRange(TUNING_DRIFT, tuneSeeds));
        System.out.println("| h | family | median delay | p95 delay | missed within 10,000 | false alarms per 25,000 |");
        System.out.println("|---|---|---|---|---|---|");
        List<List<DriftSummary>> results = new ArrayList<>();
        for (double h : candidates) {
            Map<String, String> o = overrides();
            o.put("tandem.audit.drift.outcome-limit", Double.toString(h));
            List<DriftSummary> perFamily = new ArrayList<>();
            for (SimulatedWorker.Family family : families) {
                DriftSummary d = driftRuns(pool, family, SimConfigs.with(o), TUNING_DRIFT, tuneSeeds);
                perFamily.add(d);
                System.out.printf(Locale.ROOT, "| %s | %s | %d | %d | %d / %d | %.2f (%d outcome, %d confidence, %d "
                        + "CSP-2) |%n", h, family.name(), d.median(), d.p95(), d.missed(), tuneSeeds,
                        d.falseAlarmsPer25k(), d.byDetector()[0], d.byDetector()[1], d.byDetector()[2]);
            }
            results.add(perFamily);
        }
        double h = pickH(candidates, results);
        System.out.println("picked h = " + h + " (rule: the smallest h with at most 0.75 false alarms per 25,000 in "
                + "every family on the tuning seeds; the largest candidate if none qualifies)");
        String prior = System.getProperty("bench.overrides", "");
        System.setProperty("bench.overrides", (prior.isEmpty() ? "" : prior + ",")
                + "tandem.audit.drift.outcome-limit=" + h);
    }

    /**
     * The selection rule, fixed before any held-out run: at most 0.75 false alarms per 25,000 in every family on the
     * tuning seeds, then the fastest detection, i.e. the smallest qualifying h (delay grows with h). The margin under
     * the goal's 1 per 25,000 is there because the candidate picked for the fewest alarms on these seeds will, on
     * fresh seeds, tend to show more. Misses no longer disqualify: a 0.5 % worker's doubling can take more than
     * 10,000 outputs at any h. Returns the largest candidate when none qualifies.
     */
    static double pickH(double[] candidates, List<List<DriftSummary>> results) {
        double best = Double.NaN;
        for (int i = 0; i < candidates.length; i++) {
            boolean ok = results.get(i).stream().allMatch(d -> d.falseAlarmsPer25k() <= 0.75);
            if (ok && (Double.isNaN(best) || candidates[i] < best)) {
                best = candidates[i];
            }
        }
        return Double.isNaN(best) ? Arrays.stream(candidates).max().orElseThrow() : best;
    }

    /** byDetector: false alarms of the outcome CUSUM, the confidence CUSUM, CSP-2. */
    /** {@code endings}: how the true outcome alarms ended: confirmed, refuted, undecided, still open 5,000 later. */
    record DriftSummary(long[] delays, int missed, int covered, long falseAlarms, long inControl, long[] byDetector,
            long[] endings, List<DetectionFloor.Pattern> atChange, List<DetectionFloor.Path> paths, List<Long> ours,
            double[] limits) {
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

    static DriftSummary driftRuns(ExecutorService pool, SimulatedWorker.Family family,
            dev.tandem.audit.config.AuditConfig config, long base, int seeds) throws Exception {
        List<Future<DriftRun>> drifts = new ArrayList<>();
        for (int s = 0; s < seeds; s++) {
            long seed = base + s;
            drifts.add(pool.submit(() -> drift(family, seed, config)));
        }
        List<DetectionFloor.Pattern> patterns = new ArrayList<>();
        List<DetectionFloor.Path> paths = new ArrayList<>();
        List<Long> ours = new ArrayList<>();
        List<Double> limits = new ArrayList<>();
        long[] delays = new long[seeds];
        long falseAlarms = 0;
        long inControl = 0;
        int missed = 0;
        int covered = 0;
        long[] byDetector = new long[3];
        long[] endings = new long[4];
        for (int i = 0; i < seeds; i++) {
            DriftRun run = drifts.get(i).get();
            long[] r = run.r();
            if (run.atChange() != null) {
                patterns.add(run.atChange());
                paths.add(run.path());
                ours.add(r[0]);
                limits.add(run.limit());
            }
            for (int k = 0; k < 3; k++) {
                byDetector[k] += r[3 + k];
            }
            if (r[6] > 0) {
                endings[(int) r[6] - 1]++;
            }
            delays[i] = r[0];
            missed += r[0] == -1 ? 1 : 0;
            covered += r[0] == -2 ? 1 : 0;
            falseAlarms += r[1];
            inControl += r[2];
        }
        long[] found = Arrays.stream(delays).filter(x -> x >= 0).sorted().toArray();
        return new DriftSummary(found, missed, covered, falseAlarms, inControl, byDetector, endings, patterns, paths,
                ours, limits.stream().mapToDouble(Double::doubleValue).toArray());
    }

    /**
     * The floor of a family's delays ({@link DetectionFloor}): for each drift run's pattern at the change (raised to
     * a uniform share of at least {@code minRate}), the oracle CUSUM's limit for {@code bench.floor-budget} [1]
     * false alarms per 25,000 outputs on {@code bench.floor-outputs} [2,500,000] stationary outputs, then
     * {@code bench.floor-replicates} [20] delays after a 5,000-output warm-up, within 10,000 outputs like ours.
     * Seeds: the run's pattern index i gives limit seed 70,000,000 + 1,000·i and delay seeds after it (draws of their
     * own: the oracle's outputs are not the stream's).
     */
    static Floor floor(ExecutorService pool, SimulatedWorker.Family family, DriftSummary d, double minRate)
            throws Exception {
        List<DetectionFloor.Pattern> atChange = d.atChange();
        double budget = Double.parseDouble(System.getProperty("bench.floor-budget", "1"));
        long outputs = Long.getLong("bench.floor-outputs", 2_500_000L);
        int replicates = Integer.getInteger("bench.floor-replicates", 20);
        List<Future<double[]>> perRun = new ArrayList<>();
        for (int i = 0; i < atChange.size(); i++) {
            DetectionFloor.Pattern p = atChange.get(i).sampledAtLeast(minRate);
            DetectionFloor.Path path = d.paths().get(i);
            long seed = 70_000_000L + 1_000L * i;
            perRun.add(pool.submit(() -> {
                double h = DetectionFloor.limit(family, p, budget, outputs, seed);
                double[] info = DetectionFloor.information(family, p, 200_000, seed + 999);
                double arl0 = 25_000 / budget;
                double hs = DetectionFloor.siegmundLimit(info[1], arl0);
                double[] r = new double[5 + replicates];
                r[0] = h;
                r[1] = info[0];
                r[2] = DetectionFloor.siegmundDelay(info[2], hs);
                r[3] = hs;
                r[4] = DetectionFloor.replay(path, p, h, seed + 500);
                for (int k = 0; k < replicates; k++) {
                    r[5 + k] = DetectionFloor.delay(family, p, h, seed + 1 + k, 5_000, 10_000);
                }
                return r;
            }));
        }
        List<Long> found = new ArrayList<>();
        int missed = 0;
        double sumH = 0;
        double sumShare = 0;
        double sumSiegmund = 0;
        double sumHs = 0;
        for (Future<double[]> f : perRun) {
            double[] r = f.get();
            sumH += r[0];
            sumShare += r[1];
            sumSiegmund += r[2];
            sumHs += r[3];
            for (int k = 5; k < r.length; k++) {
                if (r[k] < 0) {
                    missed++;
                } else {
                    found.add((long) r[k]);
                }
            }
        }
        int n = Math.max(1, perRun.size());
        long[] paired = new long[perRun.size()];
        for (int i = 0; i < paired.length; i++) {
            paired[i] = (long) perRun.get(i).get()[4];
        }
        return new Floor(found.stream().mapToLong(Long::longValue).sorted().toArray(), missed, sumH / n,
                sumShare / n, sumSiegmund / n, sumHs / n, minRate, paired);
    }

    /**
     * A family's floor: the oracle's delays over every run and replicate (sorted), misses within 10,000, and means
     * over the runs of h*, the review share, Siegmund's mean delay and h; {@code minRate} the uniform share it was
     * raised to (0: the realised pattern); {@code paired} its delay on each run's own outputs (-1: none within
     * 10,000), in the order of the runs.
     */
    record Floor(long[] delays, int missed, double h, double reviewShare, double siegmundDelay, double siegmundH,
            double minRate, long[] paired) {
        /** The oracle's delays on the runs' own outputs, detected ones sorted. */
        long[] pairedFound() {
            return Arrays.stream(paired).filter(x -> x >= 0).sorted().toArray();
        }

        long median() {
            return quantile(delays, 0.5);
        }

        long p95() {
            return quantile(delays, 0.95);
        }

        double mean() {
            return Arrays.stream(delays).average().orElse(Double.NaN);
        }
    }

    static String seedRange(long base, int count) {
        return count == 1 ? Long.toString(base) : base + "–" + (base + count - 1);
    }

    /**
     * {review share, review share 2nd half, outgoing error, outgoing error 2nd half, tightenings after the first
     * 5,000 outputs (none is a true alarm: the stream is stationary), outputs they were counted in}.
     */
    static double[] steady(SimulatedWorker.Family family, int n, long seed) {
        SimulatedWorker w = family.worker();
        SplittableRandom rng = new SplittableRandom(seed);
        SimulatedStream st = new SimulatedStream(config(), "s" + seed + "-");
        long halfReviews = 0;
        long halfOutgoing = 0;
        java.util.Map<String, Long> byReason = new java.util.TreeMap<>();
        for (int i = 0; i < n; i++) {
            dev.tandem.audit.Decision d = st.accept(w.next(rng));
            if (i == n / 2 - 1) {
                halfReviews = st.reviews();
                halfOutgoing = st.outgoingErrors();
            }
            if (i >= n / 2 && d.action() == dev.tandem.audit.AuditAction.REVIEW) {
                byReason.merge(d.reason().name(), 1L, Long::sum);
            }
        }
        if (Boolean.getBoolean("bench.reasons")) {
            System.out.printf(Locale.ROOT, "%s seed %d: 2nd-half reviews by reason %s, tightenings at %s, "
                    + "outcome-CUSUM limit at the end %.2f, final %s%n", family.name(), seed, byReason,
                    st.tightenings().stream().map(t -> t[0] + "/" + t[1]).toList(),
                    TrustPolicy.outcomeLimit(config().drift(), st.stream()), st.stream().certification());
        }
        long alarms = st.tightenings().stream().filter(t -> t[0] > 5000).count();
        return new double[] { (double) st.reviews() / n, (double) (st.reviews() - halfReviews) / (n - n / 2),
                (double) st.outgoingErrors() / n, (double) (st.outgoingErrors() - halfOutgoing) / (n - n / 2), alarms,
                n - 5000 };
    }

    /**
     * One drift run: {@code r} = {delay (-1 missed, -2 under full review at the change), false alarms 5,000–30,000,
     * in-control outputs, false alarms by detector (3), how the true outcome alarm ended}; {@code atChange} what the
     * trusted stream reviewed when the odds doubled (λ and a = max(b, f)), null when it was under full review;
     * {@code path} its outputs from 5,000 before the change to 10,000 after it.
     */
    record DriftRun(long[] r, DetectionFloor.Pattern atChange, DetectionFloor.Path path, double limit) {
    }

    static DriftRun drift(SimulatedWorker.Family family, long seed, dev.tandem.audit.config.AuditConfig config) {
        SimulatedWorker w = family.worker();
        SplittableRandom rng = new SplittableRandom(seed);
        SimulatedStream st = new SimulatedStream(config, "d" + seed + "-");
        int change = 30_000;
        // the outputs around the change, for the floor on the same outputs (DetectionFloor.replay)
        DetectionFloor.Path path = new DetectionFloor.Path(5_000, 10_000);
        for (int i = 0; i < change; i++) {
            SimulatedWorker.Output o = w.next(rng);
            if (i >= change - 5_000) {
                path.add(o, 1);
            }
            st.accept(o);
        }
        long falseAlarms = st.tightenings().stream().filter(t -> t[0] > 5000).count();
        long[] byDetector = new long[3];
        st.tightenings().stream().filter(t -> t[0] > 5000).forEach(t -> byDetector[(int) t[1]]++);
        int before = st.tightenings().size();
        long delay = -1;
        long resolution = 0;
        DetectionFloor.Pattern atChange = null;
        double limit = TrustPolicy.outcomeLimit(config.drift(), st.stream());
        if (!trusted(st.stream().state())) {
            // already under full review (a bad worker, or after a false alarm): the drift meets 100 % review at once
            delay = -2;
        } else {
            atChange = new DetectionFloor.Pattern(st.stream().rawThreshold(),
                    Math.max(st.stream().blockingRate(), st.stream().samplingRate()));
            w.multiplyErrorOdds(2.0);
            for (int i = 0; i < 10_000 && delay < 0; i++) {
                SimulatedWorker.Output o = w.next(rng);
                path.add(o, 2.0);
                st.accept(o);
                if (st.tightenings().size() > before) {
                    delay = i + 1;
                }
            }
            if (delay > 0 && st.tightenings().get(before)[1] == 0) {
                // a true outcome alarm: how did its SPRT end (the drift is real, so only "confirmed" is right)?
                int resolved = st.resolutions().size();
                for (int i = 0; i < 5_000 && st.resolutions().size() == resolved; i++) {
                    SimulatedWorker.Output o = w.next(rng);
                    path.add(o, 2.0);
                    st.accept(o);
                }
                resolution = st.resolutions().size() == resolved ? 4
                        : resolutionCode(st.resolutions().get(resolved).why());
            }
            while (!path.full()) {
                path.add(w.next(rng), 2.0); // the same stream's later outputs, which ours no longer needed
            }
        }
        return new DriftRun(new long[] { delay, falseAlarms, change - 5000, byDetector[0], byDetector[1],
                byDetector[2], resolution }, atChange, atChange == null ? null : path, limit);
    }

    /** 1 confirmed (by the SPRT or a suspension), 2 refuted, 3 neither within the review limit. */
    static long resolutionCode(String why) {
        if (why.startsWith("confirmed")) {
            return 1;
        }
        return why.startsWith("drift not confirmed") ? 2 : 3;
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
