package dev.tandem.audit.simulation;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import dev.tandem.audit.StreamRecord;
import dev.tandem.audit.TrustState;
import dev.tandem.audit.config.AuditConfig;
import dev.tandem.calibration.CalibrationMap;

/**
 * What the confirming SPRT of each outcome alarm of a stationary stream saw (issue 18, docs/benchmarks.md): per
 * alarm, the tightened outputs' errors against H₀'s expected errors (the calibration at the alarm shifted by γ̂, and
 * by the own-history bins when fitted), the calibration's own expectation and the simulated worker's true error
 * probabilities, below and above the threshold λ; and the same for the 5,000 outputs before the alarm. Not a test:
 * {@code java -cp <bench classpath> dev.tandem.audit.simulation.ConfirmationTrace family seed outputs [key=value...]}.
 */
public final class ConfirmationTrace {

    private ConfirmationTrace() {
    }

    public static void main(String[] args) {
        String name = args[0];
        long seed = Long.parseLong(args[1]);
        int n = Integer.parseInt(args[2]);
        AuditConfig config = SimConfigs.withArgs(args, 3);
        SimulatedWorker w = SimulatedWorker.family(name).worker();
        SplittableRandom rng = new SplittableRandom(seed);
        SimulatedStream st = new SimulatedStream(config, "s" + seed + "-");
        List<SimulatedWorker.Output> outputs = new ArrayList<>();
        double floor = config.drift().expectedErrorFloor();
        CalibrationMap frozen = null;
        double lambda = 0;
        int alarmAt = -1;
        double[][] sums = null; // [below λ, above λ] × {outputs, errors, H₀ γ̂, H₀ bins, calibration, true}
        for (int i = 0; i < n; i++) {
            SimulatedWorker.Output o = w.next(rng);
            outputs.add(o);
            boolean pendingBefore = frozen != null;
            st.accept(o);
            StreamRecord s = st.stream();
            boolean pending = s.state() == TrustState.TIGHTENED && s.previousWindowSinceSeq() != null;
            if (!pendingBefore && pending) {
                frozen = s.calibration();
                lambda = s.rawThreshold();
                alarmAt = i;
                sums = new double[2][6];
                print("before", name, seed, i, frozen, window(outputs, i - 5000, i, frozen, lambda, floor));
            } else if (pendingBefore) {
                add(sums, o, frozen, lambda, floor);
                if (!pending) {
                    print("tightened " + (i - alarmAt) + " outputs, " + (s.windowSinceSeq() > alarmAt ? "confirmed"
                            : "window kept"), name, seed, alarmAt, frozen, sums);
                    frozen = null;
                }
            }
        }
    }

    private static double[][] window(List<SimulatedWorker.Output> outputs, int from, int to, CalibrationMap c,
            double lambda, double floor) {
        double[][] sums = new double[2][6];
        for (int i = Math.max(0, from); i < to; i++) {
            add(sums, outputs.get(i), c, lambda, floor);
        }
        return sums;
    }

    private static void add(double[][] sums, SimulatedWorker.Output o, CalibrationMap c, double lambda,
            double floor) {
        double p = Math.min(1 - floor, Math.max(floor, 1 - c.apply(o.raw())));
        double[] row = sums[o.raw() < lambda ? 0 : 1];
        row[0]++;
        row[1] += o.wrong() ? 1 : 0;
        row[2] += shifted(p, c.estimatedLogOdds());
        row[3] += shifted(p, c.historyLogOdds(o.raw()));
        row[4] += p;
        row[5] += o.errorProbability();
    }

    private static double shifted(double p, double gamma) {
        double odds = p / (1 - p) * Math.exp(gamma);
        return odds / (1 + odds);
    }

    private static void print(String what, String name, long seed, int at, CalibrationMap c, double[][] sums) {
        System.out.printf("%s seed %d alarm at %d, %s: γ̂ %.3f, γ %.3f, bins %s%n", name, seed, at, what,
                c.estimatedLogOdds(), c.referenceLogOdds(), c.hasHistoryShifts()
                        ? java.util.Arrays.toString(c.historyLogOdds()) + " edges "
                                + java.util.Arrays.toString(c.historyEdges()) : "-");
        String[] side = { "below λ", "above λ" };
        for (int k = 0; k < 2; k++) {
            double[] r = sums[k];
            System.out.printf("   %s: outputs %.0f, errors %.0f; expected: H₀ γ̂ %.1f, H₀ bins %.1f, calibration %.1f, "
                    + "true %.1f%n", side[k], r[0], r[1], r[2], r[3], r[4], r[5]);
        }
    }
}
