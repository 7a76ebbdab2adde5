package dev.tandem.system.bench;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class StreamOptionsTests {

    static final Path ROOT = Path.of("/work/checkout");

    static StreamBenchmark.Options parse(String... args) {
        return StreamBenchmark.Options.parse(args, Map.of(), ROOT);
    }

    @Test
    void defaultsAreTheIssuesProtocol() {
        StreamBenchmark.Options o = parse();

        assertThat(o.targets()).containsExactly(0.05, 0.10, 0.15, 0.25, 0.35);
        assertThat(o.window()).isEqualTo(20);
        assertThat(o.windowLimit()).isEqualTo(1.05);
        assertThat(o.heldOut()).isTrue();
        assertThat(o.limit()).isZero();
        assertThat(o.file()).isNull();
        assertThat(o.data()).isEqualTo(Path.of("/work/shared/data/routellm-gsm8k"));
        assertThat(o.database()).isEqualTo("tandem_bench");
        assertThat(o.workerType()).isEqualTo("solve");
        assertThat(o.onboard()).as("no onboarding unless asked").isZero();
    }

    @Test
    void onboardingTakesTheGoldenSetsSize() {
        assertThat(parse("--onboard", "200").onboard()).isEqualTo(200);
        assertThatThrownBy(() -> parse("--onboard", "-1")).hasMessageContaining("--onboard must be >= 0");
    }

    @Test
    void aFileOfShortAnswersOrMultipleChoiceRunsAsTheAnswerWorkerType() {
        assertThat(parse("--worker-type", "answer", "quiz.jsonl").workerType()).isEqualTo("answer");
        assertThatThrownBy(() -> parse("--worker-type", "classify")).hasMessageContaining("[answer, solve]");
        assertThatThrownBy(() -> parse("--audit", "tandem.audit.target.worker-types.\"answer\"=0.2"))
                .hasMessageContaining("not A itself");
    }

    @Test
    void optionsAndTheReplayFileAreRead() {
        StreamBenchmark.Options o = parse("--targets", "0.1, 0.35", "--seed", "7", "--limit", "40", "--window", "10",
                "--no-held-out", "--db", "tandem_bench_gsm8k", "my.jsonl");

        assertThat(o.targets()).containsExactly(0.1, 0.35);
        assertThat(o.seed()).isEqualTo(7);
        assertThat(o.limit()).isEqualTo(40);
        assertThat(o.window()).isEqualTo(10);
        assertThat(o.heldOut()).isFalse();
        assertThat(o.database()).isEqualTo("tandem_bench_gsm8k");
        assertThat(o.file().getFileName()).isEqualTo(Path.of("my.jsonl"));
    }

    @Test
    void theEnvironmentNamesTheDatabaseAndTheData() {
        StreamBenchmark.Options o = StreamBenchmark.Options.parse(new String[0],
                Map.of("TANDEM_BENCH_DB", "tandem_bench_mine", "TANDEM_REPLAY_DATA", "/data/gsm8k"), ROOT);

        assertThat(o.database()).isEqualTo("tandem_bench_mine");
        assertThat(o.data()).isEqualTo(Path.of("/data/gsm8k"));
    }

    @Test
    void badTargetsAreRefusedWithWhatATargetIs() {
        assertThatThrownBy(() -> parse("--targets", "5,10")).hasMessageContaining("share in (0, 1)");
        assertThatThrownBy(() -> parse("--targets", "0.05,lenient")).hasMessageContaining("'lenient' is no number");
        assertThatThrownBy(() -> parse("--targets", "0.05,0.05")).hasMessageContaining("listed twice");
        assertThatThrownBy(() -> parse("--targets", "0")).hasMessageContaining("share in (0, 1)");
    }

    @Test
    void unknownOptionsMissingValuesAndBadNumbersAreRefused() {
        assertThatThrownBy(() -> parse("--system-points", "0:0:lenient")).hasMessageContaining("unknown option");
        assertThatThrownBy(() -> parse("--targets")).hasMessageContaining("--targets needs a value");
        assertThatThrownBy(() -> parse("--window", "0")).hasMessageContaining("--window must be >= 1");
        assertThatThrownBy(() -> parse("--limit", "-1")).hasMessageContaining("--limit must be >= 0");
        assertThatThrownBy(() -> parse("a.jsonl", "b.jsonl")).hasMessageContaining("one replay file only");
        assertThatThrownBy(() -> parse("--db", "Bench-DB")).hasMessageContaining("[a-z0-9_]+");
        assertThatThrownBy(() -> parse("--audit", "tandem.audit.target.worker-types.\"solve\"=0.2"))
                .hasMessageContaining("that is --targets");
        assertThatThrownBy(() -> parse("--audit", "quarkus.log.level=DEBUG")).hasMessageContaining("tandem.audit.KEY");
    }

    @Test
    void auditSettingsBesidesAAreDiagnosticsKeptApart() {
        assertThat(parse().auditOverrides()).isEmpty();
        assertThat(parse("--audit", "tandem.audit.trust.suspend-error-rate=0.5").auditOverrides())
                .containsExactlyEntriesOf(Map.of("tandem.audit.trust.suspend-error-rate", "0.5"));
    }

    @Test
    void theReplayModeSendsTheWholeSystemToTheStreamMode() {
        assertThatThrownBy(() -> ReplayBenchmark.Options.parse(new String[] {"--system-points", "0:0:lenient"}))
                .hasMessageContaining("bin/bench-routing stream");
    }

    @Test
    void aTargetIsChosenByTheRuleOnTheTuningSplit() {
        var cheap = run(0.35, 0.80, 3);
        var atGoal = run(0.15, 0.86, 6);
        var dearAtGoal = run(0.05, 0.88, 9);

        assertThat(StreamBenchmark.choose(List.of(cheap, atGoal, dearAtGoal), 0.85)).isSameAs(atGoal);
        assertThat(StreamBenchmark.choose(List.of(cheap, atGoal, dearAtGoal), 0.95)).isSameAs(dearAtGoal);
    }

    static StreamBenchmark.Run run(double a, double accuracy, double cost) {
        return new StreamBenchmark.Run("tuning, A = " + a, a, "tuning", 100, accuracy, accuracy, cost, 10, cost / 10,
                cost / 10, 0, CostWindows.of(new double[] {cost}, new double[] {10}, 20, 1.05), 0, 0, 0, 0, 0,
                List.of(), Map.of(), List.of(), Map.of(), Map.of(), 1);
    }

    @Test
    void aCounterIsSummedPerLabelValue() {
        String exposition = """
                # TYPE tandem_router_trust_routing_total counter
                tandem_router_trust_routing_total{choice="oracle_direct",worker_type="solve"} 12.0
                tandem_router_trust_routing_total{choice="earning_trust",worker_type="solve"} 3.0
                tandem_router_trust_routing_total{choice="oracle_direct",worker_type="classify"} 2.0
                tandem_router_trust_routing_totally{choice="x"} 9.0
                """;

        assertThat(StreamBenchmark.metric(exposition, "tandem_router_trust_routing_total", "choice"))
                .containsExactlyInAnyOrderEntriesOf(Map.of("oracle_direct", 14.0, "earning_trust", 3.0));
    }
}
