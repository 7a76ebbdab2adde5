package dev.tandem.audit.simulation;

import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;

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
        Map<String, String> overrides = new HashMap<>();
        for (int i = 4; i < args.length; i++) {
            overrides.put(args[i].substring(0, args[i].indexOf('=')), args[i].substring(args[i].indexOf('=') + 1));
        }
        SimulatedWorker.Family family = SimulatedWorker.FAMILIES.stream().filter(f -> f.name().equals(name))
                .findFirst().orElseThrow();
        for (long seed = first; seed < first + seeds; seed++) {
            SimulatedWorker w = family.worker();
            SplittableRandom rng = new SplittableRandom(seed);
            SimulatedStream st = new SimulatedStream(SimConfigs.with(overrides), "s" + seed + "-");
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
