package dev.tandem.audit.simulation;

import java.util.SplittableRandom;

import dev.tandem.audit.config.AuditConfig;

/**
 * How each outcome alarm of a stationary stream ended (issue 18, docs/benchmarks.md): one steady run per seed
 * exactly as the benchmark's ({@code AuditSimulationBenchmark#steady}), printing every tightening and every ended
 * outcome alarm with the window before and after it. Not a test; run it as the benchmark's java command:
 * {@code java -cp <bench classpath> dev.tandem.audit.simulation.AlarmEndings family firstSeed seeds outputs [key=value...]}.
 */
public final class AlarmEndings {

    private AlarmEndings() {
    }

    public static void main(String[] args) {
        String name = args[0];
        long first = Long.parseLong(args[1]);
        int seeds = Integer.parseInt(args[2]);
        int n = Integer.parseInt(args[3]);
        AuditConfig config = SimConfigs.withArgs(args, 4);
        SimulatedWorker.Family family = SimulatedWorker.family(name);
        for (long seed = first; seed < first + seeds; seed++) {
            SimulatedWorker w = family.worker();
            SplittableRandom rng = new SplittableRandom(seed);
            SimulatedStream st = new SimulatedStream(config, "s" + seed + "-");
            for (int i = 0; i < n; i++) {
                st.accept(w.next(rng));
            }
            System.out.printf("%s seed %d: tightenings %s%n", name, seed,
                    st.tightenings().stream().map(t -> t[0] + "/" + t[1]).toList());
            for (SimulatedStream.Resolution r : st.resolutions()) {
                System.out.printf("  alarm at %d (window from %d) ended at %d, window from %d: %s%n", r.alarmAt(),
                        r.windowBefore(), r.endedAt(), r.windowAfter(), r.why());
            }
        }
    }
}
