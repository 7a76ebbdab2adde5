package dev.tandem.audit.simulation;

import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;

import dev.tandem.audit.StreamRecord;
import dev.tandem.audit.TrustState;
import dev.tandem.audit.config.AuditConfig;

/**
 * Where the audit's drift delay goes (issue 18, docs/benchmarks.md): one drift run per seed exactly as the benchmark's
 * ({@link AuditSimulationBenchmark#drift}: 30,000 stationary outputs, then the error odds doubled), and beside the
 * audit's outcome CUSUM an exact-likelihood-ratio CUSUM ({@link DetectionFloor#llr}, the true p₀ of each output) fed
 * the very reviews the audit's CUSUM sees (trusted state, from output 25,000), with its crossing time after the change
 * at several limits h. If the audit's statistic lost much to its estimated reference (calibration, γ̂, margin), the
 * exact one would cross the same h much earlier; where they cross together, what is left of the gap to the floor is
 * h itself and what is reviewed. Prints one line per seed. Not a test; run it as the benchmark's java command:
 * {@code java -cp <bench classpath> dev.tandem.audit.simulation.PairedCusumCheck family firstSeed seeds [key=value...]}.
 */
public final class PairedCusumCheck {

    private PairedCusumCheck() {
    }

    public static void main(String[] args) {
        String name = args[0];
        long first = Long.parseLong(args[1]);
        int seeds = Integer.parseInt(args[2]);
        AuditConfig config = SimConfigs.withArgs(args, 3);
        SimulatedWorker.Family family = SimulatedWorker.family(name);
        double[] limits = { 3, 4, 5, 6 };
        for (long seed = first; seed < first + seeds; seed++) {
            SimulatedWorker w = family.worker();
            SplittableRandom rng = new SplittableRandom(seed);
            SimulatedStream st = new SimulatedStream(config, "d" + seed + "-");
            double[] s = new double[limits.length];
            long[] crossed = new long[limits.length];
            Arrays.fill(crossed, -1);
            int before = 0;
            long ours = -1;
            String atChange = "";
            for (int i = 0; i < 40_000; i++) {
                if (i == 30_000) {
                    w.multiplyErrorOdds(DetectionFloor.ODDS);
                    before = st.tightenings().size();
                    StreamRecord r = st.stream();
                    atChange = String.format(Locale.ROOT, "%s λ=%.3f f=%.3f γ=%.3f γ̂=%.3f S=%.2f", r.state(),
                            r.rawThreshold(), r.samplingRate(), r.calibration().referenceLogOdds(),
                            r.calibration().estimatedLogOdds(), r.outcomeCusum());
                    if (r.state() != TrustState.NORMAL && r.state() != TrustState.REDUCED) {
                        break;
                    }
                }
                SimulatedWorker.Output o = w.next(rng);
                long reviewsBefore = st.reviews();
                TrustState state = st.stream().state();
                st.accept(o);
                boolean seen = st.reviews() > reviewsBefore
                        && (state == TrustState.NORMAL || state == TrustState.REDUCED);
                if (i >= 25_000 && seen) {
                    double p0 = DetectionFloor.baseline(o.errorProbability(), i >= 30_000 ? DetectionFloor.ODDS : 1);
                    double x = DetectionFloor.llr(o.wrong(), p0);
                    for (int k = 0; k < limits.length; k++) {
                        s[k] = Math.max(0, s[k] + x);
                        if (s[k] >= limits[k]) {
                            if (i >= 30_000 && crossed[k] < 0) {
                                crossed[k] = i - 29_999;
                            }
                            s[k] = 0;
                        }
                    }
                }
                if (i >= 30_000 && st.tightenings().size() > before) {
                    ours = i - 29_999; // after our alarm the stream is fully reviewed: the comparison ends here
                    break;
                }
            }
            System.out.printf(Locale.ROOT, "%s %d: ours %d; exact LLR on the same reviews crossed h = %s at %s "
                    + "(-1: not before ours); at the change %s%n", name, seed, ours, Arrays.toString(limits),
                    Arrays.toString(crossed), atChange);
        }
    }
}
