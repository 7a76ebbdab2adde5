package dev.tandem.audit.simulation;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import dev.tandem.audit.AuditAction;
import dev.tandem.audit.Decision;
import dev.tandem.audit.DecisionRequest;
import dev.tandem.audit.ReviewMode;
import dev.tandem.audit.StreamKey;
import dev.tandem.audit.StreamRecord;
import dev.tandem.audit.TrustState;
import dev.tandem.audit.Verdict;
import dev.tandem.audit.WindowEntry;
import dev.tandem.audit.config.AuditConfig;
import dev.tandem.audit.service.AuditPolicy;
import dev.tandem.audit.service.DriftDetectors;
import dev.tandem.audit.service.PolicyFitter;
import dev.tandem.audit.service.TrustPolicy;
import dev.tandem.audit.service.TrustUpdate;

/**
 * One stream driven through the real policy classes ({@link AuditPolicy}, {@link TrustPolicy}, {@link PolicyFitter},
 * {@link DriftDetectors}) with an in-memory ledger, exactly as {@code DecisionService} and {@code VerdictService}
 * sequence them: decide, count, feed the confidence CUSUM, record the verdict of every reviewed output (the oracle
 * is taken as right and verdicts arrive at once), refit when the new state needs it and every
 * {@code fit.every-verdicts} verdicts.
 */
public final class SimulatedStream {

    private final AuditConfig config;
    private final AuditPolicy auditPolicy;
    private final TrustPolicy trustPolicy;
    private final PolicyFitter fitter;
    private final String prefix;
    private final List<WindowEntry> ledger = new ArrayList<>();
    private final List<Integer> certificationIndex = new ArrayList<>();
    private StreamRecord stream;

    private long outputs;
    private long reviews;
    private long outgoingErrors;
    private long errors;
    private long firstTrustedAt = -1;
    private final List<long[]> alarms = new ArrayList<>(); // {output index, detector 0 outcome / 1 confidence / 2 other tightening}
    private final List<Resolution> resolutions = new ArrayList<>();
    private long alarmAt = -1;
    private long windowAtAlarm = -1;

    /**
     * How an outcome alarm ended: the output it was raised at, the evidence window's start before it, the output
     * it ended at, the window's start after, and why ("drift not confirmed", "neither confirmed nor refuted",
     * "confirmed" by the SPRT, or "confirmed by suspension": the suspension rule showed the error rate above its
     * limit, which also ends the confirmation with the new window).
     */
    public record Resolution(long alarmAt, long windowBefore, long endedAt, long windowAfter, String why) {
    }

    public SimulatedStream(AuditConfig config, String prefix) {
        this.config = config;
        this.auditPolicy = new AuditPolicy(config);
        this.trustPolicy = new TrustPolicy(config);
        this.fitter = new PolicyFitter(config);
        this.prefix = prefix;
        this.stream = trustPolicy.newStream(new StreamKey("sim", "classify", ""), Instant.EPOCH);
    }

    /** Decides on one output and, when it is reviewed, records its verdict; returns the decision. */
    public Decision accept(SimulatedWorker.Output o) {
        long seq = ledger.size();
        String id = prefix + seq;
        DecisionRequest request = new DecisionRequest(id, "", "", stream.key(), o.raw(), o.raw(), true);
        Decision d = auditPolicy.decide(request, stream);
        outputs++;
        errors += o.wrong() ? 1 : 0;
        StreamRecord.Builder counted = stream.toBuilder();
        counted.decided++;
        if (d.action() == AuditAction.REVIEW) {
            counted.reviewRequested++;
        }
        stream = counted.build();
        boolean trusted = stream.state() == TrustState.NORMAL || stream.state() == TrustState.REDUCED;
        if (trusted && stream.confidenceReference() != null) {
            AuditConfig.Drift drift = config.drift();
            double w = DriftDetectors.confidenceIncrement(o.raw(), stream.confidenceReference(),
                    drift.confidenceQuantile(), drift.confidenceShiftedShare());
            double s = Math.max(0, stream.confidenceCusum() + w);
            StreamRecord.Builder b = stream.toBuilder();
            b.confidenceCusum = s;
            stream = b.build();
            if (s >= drift.confidenceLimit()) {
                TrustUpdate alarm = trustPolicy.confidenceAlarm(stream, s, seq + 1, Instant.EPOCH);
                stream = alarm.stream();
                alarms.add(new long[] { outputs, 1 });
            }
        }
        boolean reviewed = d.action() == AuditAction.REVIEW;
        if (reviewed) {
            reviews++;
        }
        if (o.wrong() && d.mode() != ReviewMode.BLOCKING) {
            outgoingErrors++;
        }
        ledger.add(new WindowEntry(id, seq, o.raw(), true, d.action(), d.mode(), d.reason(), d.samplingProbability(),
                d.blockingProbability(), d.certificationSample(), null));
        if (d.certificationSample()) {
            certificationIndex.add((int) seq);
        }
        if (reviewed) {
            Verdict v = o.wrong() ? Verdict.REJECTED : Verdict.ACCEPTED;
            ledger.set((int) seq, withVerdict(ledger.get((int) seq), v));
            long windowBefore = stream.windowSinceSeq();
            boolean pending = TrustPolicy.confirmationPending(stream);
            TrustUpdate u = trustPolicy.apply(stream, v, d.reason(), o.raw(), seq + 1, Instant.EPOCH);
            stream = u.stream();
            if ("outcome".equals(u.driftAlarm())) {
                alarmAt = outputs;
                windowAtAlarm = windowBefore;
            } else if (pending && !TrustPolicy.confirmationPending(stream)) {
                String why = !u.stateChanged() ? "confirmed"
                        : stream.state() == TrustState.SUSPENDED ? "confirmed by suspension: " + u.changeReason()
                        : u.changeReason();
                resolutions.add(new Resolution(alarmAt, windowAtAlarm, outputs, stream.windowSinceSeq(), why));
            }
            // a trusted stream tightening; SUSPENDED -> TIGHTENED (restoration after clean reviews) loosens and is
            // no alarm: counting it as one put a suspended 10 % worker's restorations among CSP-2's false alarms
            if (u.stateChanged() && u.stream().state() == TrustState.TIGHTENED
                    && (u.previousState() == TrustState.NORMAL || u.previousState() == TrustState.REDUCED)) {
                alarms.add(new long[] { outputs, u.driftAlarm() == null ? 2 : 0 });
            }
            if (u.stateChanged() && u.stream().state() == TrustState.NORMAL && firstTrustedAt < 0) {
                firstTrustedAt = outputs;
            }
            if (u.needsFit() || stream.reviewed() - stream.fittedReviews() >= config.fit().everyVerdicts()) {
                refit();
            }
        }
        return d;
    }

    public void refit() {
        int from = (int) Math.min(stream.windowSinceSeq(), ledger.size());
        int start = Math.max(from, ledger.size() - config.fit().maxWindow());
        List<WindowEntry> certification = new ArrayList<>();
        for (int i = certificationIndex.size() - 1; i >= 0 && certification.size() < config.fit().maxCertificationSamples(); i--) {
            int idx = certificationIndex.get(i);
            if (idx < from) {
                break;
            }
            certification.add(ledger.get(idx));
        }
        java.util.Collections.reverse(certification);
        stream = fitter.fit(stream, ledger.subList(start, ledger.size()), certification, Instant.EPOCH);
        TrustUpdate promoted = trustPolicy.afterFit(stream, Instant.EPOCH);
        if (promoted != null) {
            stream = promoted.stream();
            if (firstTrustedAt < 0) {
                firstTrustedAt = outputs;
            }
        }
    }

    private static WindowEntry withVerdict(WindowEntry e, Verdict v) {
        return new WindowEntry(e.decisionId(), e.seq(), e.rawConfidence(), e.validationPassed(), e.action(), e.mode(),
                e.reason(), e.samplingProbability(), e.blockingProbability(), e.certificationSample(), v);
    }

    public StreamRecord stream() {
        return stream;
    }

    public long outputs() {
        return outputs;
    }

    public long reviews() {
        return reviews;
    }

    public long outgoingErrors() {
        return outgoingErrors;
    }

    public long errors() {
        return errors;
    }

    /** Output index at which the stream first earned NORMAL, -1 if never. */
    public long firstTrustedAt() {
        return firstTrustedAt;
    }

    /** Tightenings of a trusted stream, {output index, detector}: 0 outcome CUSUM, 1 confidence CUSUM, 2 CSP-2. */
    public List<long[]> tightenings() {
        return alarms;
    }

    /** Every outcome alarm that has ended, in order. */
    public List<Resolution> resolutions() {
        return resolutions;
    }

    public List<WindowEntry> ledger() {
        return ledger;
    }
}
