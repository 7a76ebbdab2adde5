package dev.tandem.audit.simulation;

import java.util.Locale;
import java.util.SplittableRandom;

import dev.tandem.audit.StreamRecord;
import dev.tandem.audit.TrustState;
import dev.tandem.audit.config.AuditConfig;
import dev.tandem.audit.service.TrustPolicy;

/**
 * What the outcome CUSUM sees around a drift (issue 18, docs/benchmarks.md): one drift run per seed exactly as the
 * benchmark's (30,000 stationary outputs, then the error odds doubled), printing every {@code step} outputs from
 * 2,000 before the change until the first tightening after it: the CUSUM S and its limit h, f, λ, γ and γ̂, the
 * window's start and the excursion's start, and the reviews and errors the trusted stream saw in the step. Not a
 * test; run it as the benchmark's java command:
 * {@code java -cp <bench classpath> dev.tandem.audit.simulation.DriftTrace family firstSeed seeds step [key=value...]}.
 */
public final class DriftTrace {

    private DriftTrace() {
    }

    public static void main(String[] args) {
        String name = args[0];
        long first = Long.parseLong(args[1]);
        int seeds = Integer.parseInt(args[2]);
        int step = Integer.parseInt(args[3]);
        AuditConfig config = SimConfigs.withArgs(args, 4);
        SimulatedWorker.Family family = SimulatedWorker.family(name);
        for (long seed = first; seed < first + seeds; seed++) {
            SimulatedWorker w = family.worker();
            SplittableRandom rng = new SplittableRandom(seed);
            SimulatedStream st = new SimulatedStream(config, "d" + seed + "-");
            int before = 0;
            long reviews = 0;
            long errors = 0;
            System.out.printf(Locale.ROOT, "## %s seed %d%n", name, seed);
            for (int i = 0; i < 40_000; i++) {
                if (i == 30_000) {
                    w.multiplyErrorOdds(DetectionFloor.ODDS);
                    before = st.tightenings().size();
                    if (st.stream().state() != TrustState.NORMAL && st.stream().state() != TrustState.REDUCED) {
                        System.out.println("not trusted at the change");
                        break;
                    }
                }
                TrustState state = st.stream().state();
                long r0 = st.reviews();
                SimulatedWorker.Output out = w.next(rng);
                st.accept(out);
                if (i >= 28_000 && st.reviews() > r0 && (state == TrustState.NORMAL || state == TrustState.REDUCED)) {
                    reviews++;
                    errors += out.wrong() ? 1 : 0;
                }
                if (i >= 28_000 && (i + 1) % step == 0) {
                    StreamRecord r = st.stream();
                    System.out.printf(Locale.ROOT, "%6d %-9s S=%5.2f h=%4.2f f=%.3f λ=%.3f pass=%.3f γ=%+.3f γ̂=%+.3f "
                            + "win=%d base=%d reviews=%d errors=%d%n", i + 1 - 30_000, r.state(), r.outcomeCusum(),
                            TrustPolicy.outcomeLimit(config.drift(), r), r.samplingRate(), r.rawThreshold(),
                            r.thresholdPassShare(), r.calibration() == null ? 0 : r.calibration().referenceLogOdds(),
                            r.calibration() == null ? 0 : r.calibration().estimatedLogOdds(), r.windowSinceSeq(),
                            r.cusumBaseSeq(), reviews, errors);
                    reviews = 0;
                    errors = 0;
                }
                if (i >= 30_000 && st.tightenings().size() > before) {
                    System.out.printf(Locale.ROOT, "alarm at %d (detector %d)%n", i - 29_999,
                            st.tightenings().get(before)[1]);
                    break;
                }
            }
        }
    }
}
