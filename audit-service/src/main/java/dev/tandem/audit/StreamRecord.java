package dev.tandem.audit;

import java.time.Instant;

import dev.tandem.calibration.CalibrationMap;

/**
 * The trust record of one stream, as stored in {@code streams}: its state, the decision policy in force, the drift
 * detectors and the latest estimates.
 *
 * @param reviewRequested decisions whose action was REVIEW
 * @param stateReviewed reviews since the current state began
 * @param stateRejected rejections since the current state began
 * @param recentOutcomes the latest review outcomes, oldest first ('A' accepted, 'R' rejected), for the record
 * @param samplingRate the state's sampling rate f: the certification-sample draw, shadow reviews of confident outputs
 * @param confidenceThreshold calibrated value of {@code rawThreshold}
 * @param errorRateUpperBound the trust bound the state's switching rules weigh (see TrustPolicy)
 * @param version bumped on every verdict
 * @param policyVersion bumped whenever what Decide uses changes
 * @param windowSinceSeq evidence window: decisions with seq at least this
 * @param thresholdPassShare share of the window's outputs the threshold in force passes, certified or not (0 until
 *        the first refit)
 * @param blockingRate b, share of confident outputs reviewed blocking to hold the outgoing error
 * @param fittedReviews {@code reviewed} when the policy was last refitted (-1: never)
 * @param samplesSinceRejection sampled reviews since the last sampled rejection in this state (-1: none yet)
 * @param previousWindowSinceSeq after an outcome alarm, the window it replaced (null when no confirmation runs)
 * @param confidenceReference raw-confidence quantile of the unlabelled drift detector (null until set)
 * @param projectedPassShare share of the window's outputs a threshold holding the outgoing error under the target
 *        would pass, a point estimate from the calibration (0 while there is too little evidence to project)
 * @param cusumBaseSeq first decision sequence number after the outcome CUSUM was last at 0: while the CUSUM is above
 *        0, the outputs from here on are its current excursion, which the CUSUM's reference is never fitted on (so a
 *        drift under test cannot become its own reference)
 * @param outcomeLimit the outcome CUSUM's limit h derived for this stream by its last refit from its information rate
 *        and {@code drift.outcome-false-alarm-rate} (0: none derived, the configured {@code drift.outcome-limit})
 */
public record StreamRecord(
        StreamKey key,
        TrustState state,
        long decided,
        long reviewRequested,
        long reviewed,
        long rejected,
        long consecutiveAccepted,
        long stateReviewed,
        long stateRejected,
        String recentOutcomes,
        double samplingRate,
        double confidenceThreshold,
        double errorRateUpperBound,
        Instant stateSince,
        long version,
        long policyVersion,
        long windowSinceSeq,
        Instant windowSince,
        double rawThreshold,
        boolean thresholdCertified,
        double thresholdPassShare,
        String certification,
        double blockingRate,
        CalibrationMap calibration,
        long fittedReviews,
        long sampleConsecutiveAccepted,
        long samplesSinceRejection,
        double outcomeCusum,
        double confidenceCusum,
        Double confidenceReference,
        long driftAlarms,
        Long previousWindowSinceSeq,
        double confirmationLlr,
        long windowDecided,
        double errorRate,
        double outgoingErrorRate,
        double outgoingErrorLower,
        double outgoingErrorUpper,
        double projectedPassShare,
        long cusumBaseSeq,
        double outcomeLimit) {

    public long accepted() {
        return reviewed - rejected;
    }

    /** Share of decided outputs sent to review; 1 before the first decision (a new stream reviews everything). */
    public double reviewRate() {
        return decided == 0 ? 1.0 : (double) reviewRequested / decided;
    }

    public Builder toBuilder() {
        return new Builder(this);
    }

    /** Copy-and-change for the many fields a verdict or a refit touches. */
    public static final class Builder {
        public StreamKey key;
        public TrustState state;
        public long decided;
        public long reviewRequested;
        public long reviewed;
        public long rejected;
        public long consecutiveAccepted;
        public long stateReviewed;
        public long stateRejected;
        public String recentOutcomes;
        public double samplingRate;
        public double confidenceThreshold;
        public double errorRateUpperBound;
        public Instant stateSince;
        public long version;
        public long policyVersion;
        public long windowSinceSeq;
        public Instant windowSince;
        public double rawThreshold;
        public boolean thresholdCertified;
        public double thresholdPassShare;
        public String certification;
        public double blockingRate;
        public CalibrationMap calibration;
        public long fittedReviews;
        public long sampleConsecutiveAccepted;
        public long samplesSinceRejection;
        public double outcomeCusum;
        public double confidenceCusum;
        public Double confidenceReference;
        public long driftAlarms;
        public Long previousWindowSinceSeq;
        public double confirmationLlr;
        public long windowDecided;
        public double errorRate;
        public double outgoingErrorRate;
        public double outgoingErrorLower;
        public double outgoingErrorUpper;
        public double projectedPassShare;
        public long cusumBaseSeq;
        public double outcomeLimit;

        Builder(StreamRecord s) {
            key = s.key;
            state = s.state;
            decided = s.decided;
            reviewRequested = s.reviewRequested;
            reviewed = s.reviewed;
            rejected = s.rejected;
            consecutiveAccepted = s.consecutiveAccepted;
            stateReviewed = s.stateReviewed;
            stateRejected = s.stateRejected;
            recentOutcomes = s.recentOutcomes;
            samplingRate = s.samplingRate;
            confidenceThreshold = s.confidenceThreshold;
            errorRateUpperBound = s.errorRateUpperBound;
            stateSince = s.stateSince;
            version = s.version;
            policyVersion = s.policyVersion;
            windowSinceSeq = s.windowSinceSeq;
            windowSince = s.windowSince;
            rawThreshold = s.rawThreshold;
            thresholdCertified = s.thresholdCertified;
            thresholdPassShare = s.thresholdPassShare;
            certification = s.certification;
            blockingRate = s.blockingRate;
            calibration = s.calibration;
            fittedReviews = s.fittedReviews;
            sampleConsecutiveAccepted = s.sampleConsecutiveAccepted;
            samplesSinceRejection = s.samplesSinceRejection;
            outcomeCusum = s.outcomeCusum;
            confidenceCusum = s.confidenceCusum;
            confidenceReference = s.confidenceReference;
            driftAlarms = s.driftAlarms;
            previousWindowSinceSeq = s.previousWindowSinceSeq;
            confirmationLlr = s.confirmationLlr;
            windowDecided = s.windowDecided;
            errorRate = s.errorRate;
            outgoingErrorRate = s.outgoingErrorRate;
            outgoingErrorLower = s.outgoingErrorLower;
            outgoingErrorUpper = s.outgoingErrorUpper;
            projectedPassShare = s.projectedPassShare;
            cusumBaseSeq = s.cusumBaseSeq;
            outcomeLimit = s.outcomeLimit;
        }

        public StreamRecord build() {
            return new StreamRecord(key, state, decided, reviewRequested, reviewed, rejected, consecutiveAccepted,
                    stateReviewed, stateRejected, recentOutcomes, samplingRate, confidenceThreshold,
                    errorRateUpperBound, stateSince, version, policyVersion, windowSinceSeq, windowSince,
                    rawThreshold, thresholdCertified, thresholdPassShare, certification, blockingRate, calibration, fittedReviews,
                    sampleConsecutiveAccepted, samplesSinceRejection, outcomeCusum, confidenceCusum,
                    confidenceReference, driftAlarms, previousWindowSinceSeq, confirmationLlr, windowDecided, errorRate, outgoingErrorRate,
                    outgoingErrorLower, outgoingErrorUpper, projectedPassShare, cusumBaseSeq,
                    outcomeLimit);
        }
    }
}
