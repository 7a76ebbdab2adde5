package dev.tandem.audit.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.time.Instant;

import org.junit.jupiter.api.Test;

import dev.tandem.audit.StreamKey;
import dev.tandem.audit.StreamRecord;
import dev.tandem.audit.TrustState;
import dev.tandem.audit.Verdict;

class TrustPolicyTests {

    private final TrustPolicy policy = new TrustPolicy(TestConfigs.defaults());
    private final Instant now = Instant.parse("2026-01-01T00:00:00Z");

    @Test
    void upperBoundWithoutRejectionsHasTheClosedForm() {
        for (int n : new int[] { 0, 10, 148, 1000 }) {
            assertThat(ErrorRateBounds.upper(0, n, 0.95)).isCloseTo(1 - Math.pow(0.05, 1.0 / (n + 1)), within(1e-6));
        }
        assertThat(ErrorRateBounds.lower(5, 10, 0.95)).isLessThan(0.5).isGreaterThan(0.2);
    }

    @Test
    void aCleanStreamLeavesProbationOnEvidenceAfter148Reviews() {
        StreamRecord s = policy.newStream(key(), now);
        TrustUpdate last = null;
        for (int i = 1; i <= 147; i++) {
            last = policy.apply(s, Verdict.ACCEPTED, now);
            s = last.stream();
            assertThat(s.state()).as("after %d clean reviews", i).isEqualTo(TrustState.PROBATION);
        }
        assertThat(s.errorRateUpperBound()).isGreaterThan(0.02);
        last = policy.apply(s, Verdict.ACCEPTED, now);
        assertThat(last.stream().state()).isEqualTo(TrustState.NORMAL);
        assertThat(last.stream().samplingRate()).isEqualTo(0.10);
        assertThat(last.stream().errorRateUpperBound()).isLessThanOrEqualTo(0.02);
        assertThat(last.changeReason()).contains("trust earned").contains("148 reviews");
    }

    @Test
    void aRejectionInProbationDelaysTrust() {
        StreamRecord s = policy.newStream(key(), now);
        s = policy.apply(s, Verdict.REJECTED, now).stream();
        for (int i = 0; i < 148; i++) {
            s = policy.apply(s, Verdict.ACCEPTED, now).stream();
        }
        assertThat(s.state()).isEqualTo(TrustState.PROBATION);
        assertThat(s.rejected()).isEqualTo(1);
        assertThat(s.consecutiveAccepted()).isEqualTo(148);
    }

    @Test
    void twoRejectionsAmongTheLastFiveTighten() {
        StreamRecord s = stream(TrustState.NORMAL, 1000, 5, 400);
        TrustUpdate first = policy.apply(s, Verdict.REJECTED, now);
        assertThat(first.stream().state()).isEqualTo(TrustState.NORMAL);
        s = policy.apply(first.stream(), Verdict.ACCEPTED, now).stream();
        s = policy.apply(s, Verdict.ACCEPTED, now).stream();
        TrustUpdate second = policy.apply(s, Verdict.REJECTED, now);
        assertThat(second.stream().state()).isEqualTo(TrustState.TIGHTENED);
        assertThat(second.stream().samplingRate()).isEqualTo(1.0);
        assertThat(second.stream().stateSince()).isEqualTo(now);
        assertThat(second.changeReason()).contains("2 of the last 5 reviews rejected");
    }

    @Test
    void rejectionsTightenAProbationStreamToo() {
        StreamRecord s = policy.newStream(key(), now);
        s = policy.apply(s, Verdict.REJECTED, now).stream();
        assertThat(policy.apply(s, Verdict.REJECTED, now).stream().state()).isEqualTo(TrustState.TIGHTENED);
    }

    @Test
    void rejectionsSpreadWiderThanTheWindowDoNotTighten() {
        StreamRecord s = stream(TrustState.NORMAL, 1000, 5, 400);
        s = policy.apply(s, Verdict.REJECTED, now).stream();
        for (int i = 0; i < 4; i++) {
            s = policy.apply(s, Verdict.ACCEPTED, now).stream();
        }
        assertThat(policy.apply(s, Verdict.REJECTED, now).stream().state()).isEqualTo(TrustState.NORMAL);
    }

    @Test
    void aLongCleanRunReducesInspectionAndARejectionRestoresNormal() {
        StreamRecord s = stream(TrustState.NORMAL, 2000, 10, 299);
        TrustUpdate reduced = policy.apply(s, Verdict.ACCEPTED, now);
        assertThat(reduced.stream().state()).isEqualTo(TrustState.REDUCED);
        assertThat(reduced.stream().samplingRate()).isEqualTo(0.03);

        TrustUpdate back = policy.apply(reduced.stream(), Verdict.REJECTED, now);
        assertThat(back.stream().state()).isEqualTo(TrustState.NORMAL);
        assertThat(back.changeReason()).contains("reduced inspection");
    }

    @Test
    void aTightenedStreamWithAGoodRecordReturnsToNormalAfterACleanRun() {
        StreamRecord s = stream(TrustState.TIGHTENED, 3000, 12, 0);
        for (int i = 1; i < 50; i++) {
            s = policy.apply(s, Verdict.ACCEPTED, now).stream();
            assertThat(s.state()).isEqualTo(TrustState.TIGHTENED);
        }
        assertThat(policy.apply(s, Verdict.ACCEPTED, now).stream().state()).isEqualTo(TrustState.NORMAL);
    }

    @Test
    void aTightenedStreamThatNeverEarnedTrustStaysFullyReviewed() {
        StreamRecord s = policy.newStream(key(), now);
        s = policy.apply(s, Verdict.REJECTED, now).stream();
        s = policy.apply(s, Verdict.REJECTED, now).stream();
        for (int i = 0; i < 60; i++) {
            s = policy.apply(s, Verdict.ACCEPTED, now).stream();
        }
        assertThat(s.state()).isEqualTo(TrustState.TIGHTENED);
    }

    @Test
    void aTightenedStreamShownBadIsSuspendedAndRecoversOnlyToTightened() {
        StreamRecord s = stream(TrustState.TIGHTENED, 100, 10, 0);
        TrustUpdate update = null;
        for (int i = 0; i < 20 && (update == null || !update.stateChanged()); i++) {
            update = policy.apply(s, i % 3 == 0 ? Verdict.REJECTED : Verdict.ACCEPTED, now);
            s = update.stream();
        }
        assertThat(s.state()).isEqualTo(TrustState.SUSPENDED);
        assertThat(update.changeReason()).contains("lower bound");

        for (int i = 0; i < 50; i++) {
            s = policy.apply(s, Verdict.ACCEPTED, now).stream();
        }
        assertThat(s.state()).isEqualTo(TrustState.TIGHTENED);
    }

    private StreamKey key() {
        return new StreamKey("embedded-minilm", "classify", "");
    }

    private StreamRecord stream(TrustState state, long reviewed, long rejected, long consecutive) {
        return new StreamRecord(key(), state, reviewed, reviewed, reviewed, rejected, consecutive, 0, 0, "AAAAA",
                policy.samplingRate(state), 0.7, ErrorRateBounds.upper(rejected, reviewed, 0.95), now, 1);
    }
}
