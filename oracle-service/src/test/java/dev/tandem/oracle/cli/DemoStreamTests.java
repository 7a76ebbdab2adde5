package dev.tandem.oracle.cli;

import dev.tandem.oracle.cli.SampleTasks.SampleTask;
import dev.tandem.oracle.cli.StreamTally.TaskOutcome;
import dev.tandem.proto.oracle.v1.AuditOutcome;
import dev.tandem.proto.oracle.v1.Cost;
import dev.tandem.proto.oracle.v1.ExecuteResponse;
import dev.tandem.proto.oracle.v1.StepResult;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.offset;

/** The demo's stream view without the services: the bundled tasks, the per-block sums and their rendering. */
class DemoStreamTests {

    @Test
    void bundledTasksAreAtLeast200DistinctOnesWithTheDemoStreamFirst() {
        var samples = SampleTasks.bundled();

        assertThat(samples.tasks()).hasSizeGreaterThanOrEqualTo(200);
        var distinct = new HashSet<String>();
        for (SampleTask t : samples.tasks()) {
            assertThat(t.task()).isNotBlank();
            assertThat(t.inputs().get("document")).as(t.id()).isNotBlank();
            distinct.add(t.task() + "\u0000" + t.inputs());
        }
        assertThat(distinct).hasSizeGreaterThanOrEqualTo(200);
        assertThat(samples.tasks().stream().map(SampleTask::id).distinct()).hasSameSizeAs(samples.tasks());
        // the demo's default stream (above the split) is at least 100 tasks and holds every kind
        assertThat(samples.demoCount()).isGreaterThanOrEqualTo(100).isLessThan(samples.tasks().size());
        assertThat(samples.demoStream().stream().map(SampleTask::kind).collect(Collectors.toSet()))
                .containsExactlyInAnyOrder("triage", "summary", "extraction", "sentiment");
    }

    @Test
    void aFileWithoutASplitIsAllDemoStreamAndCountRepeatsPastTheEnd() throws Exception {
        var json = """
                {"tasks": [
                  {"id": "a", "task": "Summarise this", "inputs": {"document": "One."}},
                  {"id": "b", "task": "Triage this ticket", "inputs": {"document": "Two."}}
                ]}""";
        var samples = SampleTasks.parse(new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)), "t.json");

        assertThat(samples.demoStream()).extracting(SampleTask::id).containsExactly("a", "b");
        assertThat(samples.first(3)).extracting(SampleTask::id).containsExactly("a", "b", "a");
    }

    @Test
    void aFileWithoutTasksOrWithAnEmptyTaskIsRefusedByName() {
        assertThatThrownBy(() -> SampleTasks.parse(new ByteArrayInputStream("{}".getBytes()), "x.json"))
                .hasMessageContaining("x.json").hasMessageContaining("\"tasks\"");
        var json = "{\"tasks\": [{\"id\": \"a\", \"task\": \" \"}]}";
        assertThatThrownBy(() -> SampleTasks.parse(new ByteArrayInputStream(json.getBytes()), "y.json"))
                .hasMessageContaining("y.json tasks[0]");
    }

    @Test
    void anOutcomeCountsBlockingAndShadowReviewsAndEscalationsFromTheSteps() {
        var outcome = TaskOutcome.of(response(0.003, 0.004,
                step("review", "blocking", false), step("review", "blocking", true), step("review", "shadow", false),
                step("pass", "", false)));

        assertThat(outcome).isEqualTo(new TaskOutcome(4, 2, 1, 1, 0.003, 0.004, null));
    }

    @Test
    void blocksCloseEveryNTasksWithTheirOwnAndTheCumulativeSums() {
        var tally = new StreamTally(2);
        var expensive = TaskOutcome.of(response(0.006, 0.004, step("review", "blocking", true),
                step("review", "blocking", false)));
        var cheap = TaskOutcome.of(response(0.001, 0.004, step("pass", "", false), step("review", "shadow", false)));

        assertThat(tally.add(expensive)).isEmpty();
        var first = tally.add(expensive).orElseThrow();
        assertThat(tally.add(cheap)).isEmpty();
        var second = tally.add(TaskOutcome.failed("UNAVAILABLE: down")).orElseThrow();
        assertThat(tally.add(cheap)).isEmpty();
        var third = tally.finish().orElseThrow();

        assertThat(first.index()).isEqualTo(1);
        assertThat(first.block()).isEqualTo(new StreamTally.Totals(1, 2, 0, 4, 4, 0, 2, 0.012, 0.008));
        assertThat(first.block().costRatio()).isCloseTo(1.5, offset(1e-12));
        assertThat(second.block().first()).isEqualTo(3);
        assertThat(second.block().last()).isEqualTo(4);
        assertThat(second.block().failed()).isEqualTo(1);
        assertThat(second.block().steps()).isEqualTo(2);
        assertThat(second.block().blockingShare()).isEqualTo(0);
        assertThat(second.block().shadowShare()).isEqualTo(0.5);
        assertThat(second.block().costRatio()).isEqualTo(0.25);
        assertThat(second.cumulative().tasks()).isEqualTo(4);
        assertThat(second.cumulative().costRatio()).isCloseTo(0.013 / 0.012, offset(1e-12));
        assertThat(third.index()).isEqualTo(3);
        assertThat(third.block().tasks()).isEqualTo(1);
        assertThat(third.cumulative().tasks()).isEqualTo(5);
        assertThat(tally.finish()).isEmpty();
    }

    @Test
    void aPartialLastBlockIsClosedByFinish() {
        var tally = new StreamTally(20);
        for (int i = 0; i < 25; i++) {
            tally.add(TaskOutcome.of(response(0.001, 0.002, step("pass", "", false))));
        }
        var last = tally.finish().orElseThrow();

        assertThat(last.index()).isEqualTo(2);
        assertThat(last.block().first()).isEqualTo(21);
        assertThat(last.block().last()).isEqualTo(25);
        assertThat(last.cumulative().tasks()).isEqualTo(25);
        assertThat(tally.finish()).isEmpty();
    }

    @Test
    void rowsLineUpUnderTheHeaderAndShowEveryFigure() {
        var tally = new StreamTally(2);
        tally.add(TaskOutcome.of(response(0.006, 0.004, step("review", "blocking", true), step("review", "shadow", false))));
        var row = tally.add(TaskOutcome.failed("DEADLINE_EXCEEDED: slow")).orElseThrow();

        var header = StreamReport.header();
        var line = StreamReport.row(row);

        assertThat(header).hasSize(2);
        assertThat(header.get(1)).hasSameSizeAs(line);
        assertThat(header.get(0).length()).isEqualTo(line.length());
        assertThat(header.get(1).split(" +")).containsSubsequence("tasks", "failed", "steps", "blocking", "shadow",
                "escalations", "USD", "all-oracle", "USD", "block", "cumulative");
        assertThat(line.strip().split(" +")).containsExactly("1-2", "1", "2", "50.0", "%", "50.0", "%", "1",
                "0.006000", "0.004000", "150.0", "%", "150.0", "%");
    }

    @Test
    void theSummaryNamesTheWholeStreamAndTheLastBlock() {
        var tally = new StreamTally(1);
        tally.add(TaskOutcome.of(response(0.004, 0.002, step("review", "blocking", false))));
        var last = tally.add(TaskOutcome.of(response(0.001, 0.002, step("pass", "", false)))).orElseThrow();

        var summary = StreamReport.summary(tally.cumulative(), last, null, Duration.ofSeconds(75));

        assertThat(summary).isEqualTo("2 tasks (0 failed), 2 steps in 1m15s: the oracle reviewed 50.0 % of the steps "
                + "blocking and 0.0 % in the shadow, 0 escalated;" + System.lineSeparator()
                + "  cost 0.005000 USD actual vs 0.004000 USD all-oracle = 125.0 %; the last block (tasks 2-2) 50.0 %.");
    }

    @Test
    void theDearestWindowOfTwentyConsecutiveTasksIsFoundAndNamedInTheSummary() {
        var tally = new StreamTally(25);
        for (int i = 1; i <= 60; i++) {
            // tasks 31-35 cost twice the oracle, everything else half of it
            double actual = i >= 31 && i <= 35 ? 0.004 : 0.001;
            tally.add(TaskOutcome.of(response(actual, 0.002, step("pass", "", false))));
            if (i == 19) {
                assertThat(tally.dearestWindow()).as("fewer tasks than a window").isEmpty();
            }
        }
        var dearest = tally.dearestWindow().orElseThrow();

        // every window holding all five dear tasks costs (5 x 0.004 + 15 x 0.001) / (20 x 0.002); the first is 16-35
        assertThat(dearest.first()).isEqualTo(16);
        assertThat(dearest.last()).isEqualTo(35);
        assertThat(dearest.costRatio()).isCloseTo(0.035 / 0.040, offset(1e-12));
        assertThat(StreamReport.summary(tally.cumulative(), null, dearest, Duration.ofSeconds(5)))
                .endsWith("The dearest 20 consecutive tasks (16-35) cost 87.5 % of all-oracle.");
    }

    @Test
    void theProgressBarFillsWithTheTasksDoneAndEstimatesTheRest() {
        assertThat(StreamReport.progress(25, 100, Duration.ofSeconds(30), 20))
                .isEqualTo("  [#####...............]  25/100 tasks  30s, about 1m30s left");
        assertThat(StreamReport.progress(100, 100, Duration.ofSeconds(130), 20))
                .isEqualTo("  [####################] 100/100 tasks  2m10s");
        assertThat(StreamReport.percent(Double.NaN)).isEqualTo("-");
    }

    private static ExecuteResponse response(double actual, double allOracle, StepResult... steps) {
        return ExecuteResponse.newBuilder().addAllSteps(List.of(steps))
                .setCost(Cost.newBuilder().setActualUsd(actual).setAllOracleUsd(allOracle)
                        .setSavingsFraction(1 - actual / allOracle))
                .build();
    }

    private static StepResult step(String decision, String mode, boolean escalated) {
        return StepResult.newBuilder().setAudit(AuditOutcome.newBuilder().setDecision(decision).setMode(mode)
                .setVerdict(escalated ? "rejected" : decision.equals("review") ? "accepted" : ""))
                .setEscalated(escalated).build();
    }
}
