package dev.tandem.audit.simulation;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import dev.tandem.audit.StreamRecord;
import dev.tandem.audit.TrustState;
import dev.tandem.audit.WindowEntry;
import dev.tandem.audit.config.AuditConfig;
import dev.tandem.audit.service.TrustPolicy;
import dev.tandem.calibration.CalibrationMap;

/**
 * Whether γ̂, the outcome CUSUM's reference shift (and the confirming SPRT's H₀), is biased on a stationary stream
 * (issue 18, docs/benchmarks.md): at every refit of a trusted stream, the γ̂ the fit stored against the γ̂ the same
 * estimator (posterior mode under its N(0, 1) prior) gives when each of the window's outputs the CUSUM sees is
 * counted at its true error probability instead of its outcome, on the whole window, no cut-off. Their mean
 * difference is the bias of the cut-off γ̂ is fitted up to. Not a test:
 * {@code java -cp <bench classpath> dev.tandem.audit.simulation.ReferenceTrace family firstSeed seeds outputs [key=value...]}.
 */
public final class ReferenceTrace {

    private ReferenceTrace() {
    }

    /** Mean over a run's refits in a trusted state: {refits, γ̂, γ̂ at the truth, bias; the same while S > 0}. */
    public static double[] run(SimulatedWorker.Family family, long seed, int n, AuditConfig config) {
        SimulatedWorker w = family.worker();
        SplittableRandom rng = new SplittableRandom(seed);
        SimulatedStream st = new SimulatedStream(config, "s" + seed + "-");
        List<Double> truth = new ArrayList<>();
        double[] sums = new double[8];
        long fitted = -1;
        for (int i = 0; i < n; i++) {
            SimulatedWorker.Output o = w.next(rng);
            truth.add(o.errorProbability());
            st.accept(o);
            StreamRecord s = st.stream();
            boolean trusted = s.state() == TrustState.NORMAL || s.state() == TrustState.REDUCED;
            if (s.fittedReviews() == fitted || !trusted || s.calibration() == null
                    || TrustPolicy.confirmationPending(s)) {
                continue;
            }
            fitted = s.fittedReviews();
            double atTruth = shiftAtTruth(st.ledger(), truth, s, config);
            double estimate = s.calibration().estimatedLogOdds();
            int off = s.outcomeCusum() > 0 ? 4 : 0;
            for (int k : new int[] { 0, off }) {
                sums[k]++;
                sums[k + 1] += estimate;
                sums[k + 2] += atTruth;
                sums[k + 3] += estimate - atTruth;
                if (off == 0) {
                    break;
                }
            }
        }
        for (int k : new int[] { 0, 4 }) {
            for (int j = 1; j < 4; j++) {
                sums[k + j] = sums[k] == 0 ? Double.NaN : sums[k + j] / sums[k];
            }
        }
        return sums;
    }

    /**
     * γ̂'s estimator (posterior mode, N(0, 1) prior) with each output the CUSUM sees in a trusted state (low-confidence
     * and sampled reviews) of the fitted window counted at its true error probability.
     */
    static double shiftAtTruth(List<WindowEntry> ledger, List<Double> truth, StreamRecord s, AuditConfig config) {
        CalibrationMap c = s.calibration();
        double floor = config.drift().expectedErrorFloor();
        int from = (int) Math.max(Math.min(s.windowSinceSeq(), ledger.size()), ledger.size() - config.fit().maxWindow());
        List<double[]> seen = new ArrayList<>();
        for (int i = from; i < ledger.size(); i++) {
            WindowEntry e = ledger.get(i);
            if (e.reviewed() && e.reason() != null && switch (e.reason()) {
                case LOW_CONFIDENCE, RANDOM_SAMPLE, OUTGOING_LIMIT -> true;
                default -> false;
            }) {
                double p = Math.min(1 - floor, Math.max(floor, 1 - c.apply(e.rawConfidence())));
                seen.add(new double[] { p, truth.get(i) });
            }
        }
        double gamma = 0;
        for (int iter = 0; iter < 50; iter++) {
            double grad = -gamma;
            double info = 1;
            for (double[] pq : seen) {
                double odds = pq[0] / (1 - pq[0]) * Math.exp(gamma);
                double p = odds / (1 + odds);
                grad += pq[1] - p;
                info += p * (1 - p);
            }
            double step = grad / info;
            gamma += step;
            if (Math.abs(step) < 1e-7) {
                break;
            }
        }
        return gamma;
    }

    public static void main(String[] args) {
        String name = args[0];
        long first = Long.parseLong(args[1]);
        int seeds = Integer.parseInt(args[2]);
        int n = Integer.parseInt(args[3]);
        AuditConfig config = SimConfigs.withArgs(args, 4);
        for (long seed = first; seed < first + seeds; seed++) {
            double[] r = run(SimulatedWorker.family(name), seed, n, config);
            System.out.printf("%s seed %d: %d refits, γ̂ %.3f, at the truth %.3f, bias %+.3f; while S > 0: %d refits, "
                    + "γ̂ %.3f, at the truth %.3f, bias %+.3f%n", name, seed, (long) r[0], r[1], r[2], r[3], (long) r[4],
                    r[5], r[6], r[7]);
        }
    }
}
