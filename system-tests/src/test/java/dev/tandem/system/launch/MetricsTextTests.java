package dev.tandem.system.launch;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The metrics pages the suites read: with tracing on (the end-to-end stack), a counter's line ends with an exemplar
 * whose timestamp is not the counter's value. Reading the last field as the value turned the worker's step count
 * over the restart suite into a difference of exemplar timestamps (75 and 83 against 80 step runs).
 */
class MetricsTextTests {

    /** Lines as the worker wrote them in the end-to-end suite (tracing on), and one without an exemplar. */
    static final String PAGE = """
            # TYPE tandem_worker_steps_seconds summary
            # HELP tandem_worker_steps_seconds Steps executed by the worker
            tandem_worker_steps_seconds_count{model="embedded-minilm",outcome="passed",worker_type="summarize"} 42.0 \
            # {span_id="aa3bb6488598c28b",trace_id="294ea1419dd1f4617bbe5fca68c11dd0"} 1.0 1796615392.935
            tandem_worker_steps_seconds_count{model="embedded-bge-oracle",outcome="passed",worker_type="classify"} \
            198.0 # {span_id="33b9cfd102889644",trace_id="543f0b11ee74428f963c6029bf14e86c"} 1.0 1796615389.755
            tandem_worker_steps_seconds_count{model="embedded-minilm",outcome="checkpoint",worker_type="classify"} 3.0
            tandem_worker_steps_seconds_sum{model="embedded-minilm",outcome="passed",worker_type="summarize"} 9.5
            process_uptime_seconds 12.5 1796615392935
            """;

    @Test
    void theValueIsTheFieldAfterTheLabelsNotTheExemplarsTimestamp() {
        assertThat(MetricsText.sum(PAGE, "tandem_worker_steps_seconds_count", "outcome=\"passed\""))
                .isEqualTo(240.0);
        assertThat(MetricsText.sum(PAGE, "tandem_worker_steps_seconds_count", "")).isEqualTo(243.0);
        assertThat(MetricsText.sum(PAGE, "process_uptime_seconds", "")).as("a sample with its own timestamp")
                .isEqualTo(12.5);
    }

    @Test
    void onlyTheNamedMetricIsSummed() {
        assertThat(MetricsText.sum(PAGE, "tandem_worker_steps_seconds", "")).isZero();
        assertThat(MetricsText.sum(PAGE, "tandem_worker_steps_seconds_sum", "")).isEqualTo(9.5);
    }

    @Test
    void aBraceOrSpaceInsideALabelValueDoesNotEndTheLabelSet() {
        var sample = MetricsText.sample("grpc_server_calls_total{reason=\"a } b # c\",method=\"X\"} 7 # {t=\"1\"} 1 2");
        assertThat(sample.name()).isEqualTo("grpc_server_calls_total");
        assertThat(sample.labels()).isEqualTo("reason=\"a } b # c\",method=\"X\"");
        assertThat(sample.value()).isEqualTo(7.0);
    }
}
