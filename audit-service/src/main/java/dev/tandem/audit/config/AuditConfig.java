package dev.tandem.audit.config;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import dev.tandem.audit.StreamKey;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/**
 * Audit policy and ledger settings ({@code tandem.audit.*}). The rules these feed are documented in
 * {@link dev.tandem.audit.service.AuditPolicy}, {@link dev.tandem.audit.service.TrustPolicy} and the README.
 * <p>
 * Long because it is the whole {@code tandem.audit} surface as one {@code @ConfigMapping}, each group documented
 * where it is declared, with its defaults (the README's settings table follows it); groups in files of their own
 * would only spread that reference over eleven files, as for {@code RouterConfig}.
 */
@ConfigMapping(prefix = "tandem.audit")
public interface AuditConfig {

    /** The outgoing-error guarantee. */
    Target target();

    /** Which outputs are sampled for review. */
    Sampling sampling();

    /** When a stream changes trust state. */
    Trust trust();

    /** Drift detectors. */
    Drift drift();

    /** Calibration, certification and estimates: the periodic refit of each stream's policy. */
    Fit fit();

    /** Which streams exist. */
    Streams streams();

    /** WatchPolicies: the published policies streamed to the oracles. */
    PolicyWatch policyWatch();

    /** Ledger queries and the decision writer. */
    Ledger ledger();

    /** The shadow reviewer and the review queues. */
    Review review();

    /** Stream gauges. */
    Metrics metrics();

    /** Evidence from onboarding (golden sets, labelled exemplars) as a discounted prior of the probation clearance. */
    Onboarding onboarding();

    interface Onboarding {
        /**
         * d: each onboarding item counts as d production reviews in the clearance's Beta posterior (a power prior):
         * a golden set is a sample of what someone expected the stream to be, not of the stream.
         */
        @WithDefault("0.5")
        double discount();

        /** At most this many pseudo-reviews from onboarding, whatever the golden set's size. */
        @WithDefault("100")
        double maxWeight();

        /**
         * The prior is dropped when the stream's own reviews contradict it: when the prior predictive probability
         * of at least as many rejections as the stream has in its state is under this.
         */
        @WithDefault("0.05")
        double conflictP();

        /** How often a replica re-reads the evidence other replicas recorded. */
        @WithDefault("PT30S")
        Duration refreshInterval();
    }

    interface Target {
        /** A: outgoing errors (passed and shadow-reviewed outputs that were wrong) per decided output. */
        @WithDefault("0.01")
        double outgoingErrorRate();

        /** δ: the certified threshold holds the outgoing error under A with probability at least 1 − δ. */
        @WithDefault("0.10")
        double delta();

        /** A per worker type, overriding {@link #outgoingErrorRate()}: {@code target.worker-types."extract"=0.02}. */
        Map<String, Double> workerTypes();

        /**
         * A per tenant, overriding the worker type's: {@code target.tenants."acme"=0.005} for every worker type of
         * the tenant, {@code target.tenants."acme/extract"} for one.
         */
        Map<String, Double> tenants();

        /** The one quality knob of a stream: the outgoing error rate its audit certifies. */
        default double forStream(StreamKey key) {
            if (!key.tenant().isEmpty()) {
                Double specific = tenants().get(key.tenant() + "/" + key.workerType());
                if (specific != null) {
                    return specific;
                }
                Double tenant = tenants().get(key.tenant());
                if (tenant != null) {
                    return tenant;
                }
            }
            return workerTypes().getOrDefault(key.workerType(), outgoingErrorRate());
        }
    }

    interface Sampling {
        /** Seed of the deterministic per-decision draw: the same decision id always draws the same number. */
        @WithDefault("tandem-audit")
        String seed();

        /** Raw-confidence threshold of a stream until one is certified from its audited history. */
        @WithDefault("0.7")
        double confidenceThreshold();

        /**
         * Until a threshold is certified, also consider passing on the gates alone (λ = 0) and keep whichever of it
         * and {@link #confidenceThreshold()} reviews less, each bounded at δ/2 (audit-service README, *Sampling
         * rule*); off: the default threshold alone, bounded at δ.
         */
        @WithDefault("true")
        boolean gatesOnlyFallback();

        /** f in NORMAL: the certification sample, reviewed in shadow mode when confident. */
        @WithDefault("0.02")
        double normalRate();

        /** f in REDUCED. */
        @WithDefault("0.01")
        double reducedRate();

        /**
         * f in NORMAL while the evidence window holds fewer than {@link #buildUpSamples()} certification samples:
         * the certificate's slack shrinks like 1/√n, so labels are worth most early in a window (no effect when
         * not above {@link #normalRate()}).
         */
        @WithDefault("0.10")
        double buildUpRate();

        /** n*: certification samples in the evidence window after which NORMAL samples at the normal rate. */
        @WithDefault("4000")
        int buildUpSamples();
    }

    interface Trust {
        /**
         * Error rate a new or tightened stream must be shown (at the credible level) not to exceed; unset, it is
         * {@link #targetErrorMultiple()} x the stream's A, so the one quality knob moves it too.
         */
        Optional<Double> targetErrorRate();

        /** The trust target as a multiple of the stream's A, when {@link #targetErrorRate()} is not set. */
        @WithDefault("2")
        double targetErrorMultiple();

        /** The trust target of a stream whose outgoing error target is {@code a}. */
        default double targetErrorRate(double a) {
            return targetErrorRate().orElse(Math.min(1, targetErrorMultiple() * a));
        }

        /** Credible level of the Beta-posterior bounds of the switching rules. */
        @WithDefault("0.95")
        double credibleLevel();

        /** Beta prior of the error rate: (prior-alpha, prior-beta); Jeffreys by default. */
        @WithDefault("0.5")
        double priorAlpha();

        @WithDefault("0.5")
        double priorBeta();

        /** Consecutive accepted sampled reviews after which a NORMAL stream with a certified threshold is REDUCED. */
        @WithDefault("300")
        int reduceAfterCleanSamples();

        /** CSP-2 k: a second sampled rejection within this many sampled reviews after one tightens. */
        @WithDefault("5")
        int tightenWithinSamples();

        /**
         * CSP-2's false-tightening budget per output: k is shortened so that a stream whose passed outputs are as
         * wrong as its policy allows tightens by CSP-2 at most this often ({@code TrustPolicy#tightenWithin});
         * 1e-5 is 0.25 per 25,000 outputs, a quarter of issue 18's false-alarm goal.
         */
        @WithDefault("1.0E-5")
        double tightenFalseAlarmRate();

        /** A certified threshold clears PROBATION/TIGHTENED only when it passes at least this share of outputs. */
        @WithDefault("0.5")
        double clearancePassShare();

        /** Consecutive accepted reviews that restore SUSPENDED to TIGHTENED. */
        @WithDefault("50")
        int restoreAfterCleanReviews();

        /** Reviews in PROBATION or TIGHTENED before the suspension rule applies. */
        @WithDefault("20")
        int suspendMinReviews();

        /**
         * A stream is suspended when the lower credible bound of its error rate exceeds this; unset, it is
         * {@link #suspendErrorMultiple()} x the stream's A (at A = 1 %: 10 %).
         */
        Optional<Double> suspendErrorRate();

        /** The suspension limit as a multiple of the stream's A, when {@link #suspendErrorRate()} is not set. */
        @WithDefault("10")
        double suspendErrorMultiple();

        /** The suspension limit of a stream whose outgoing error target is {@code a} (1: never suspended). */
        default double suspendErrorRate(double a) {
            return suspendErrorRate().orElse(Math.min(1, suspendErrorMultiple() * a));
        }
    }

    interface Drift {
        /** R: the odds ratio of the error the risk-adjusted CUSUM on audited outcomes is tuned to detect. */
        @WithDefault("2.0")
        double oddsRatio();

        /**
         * h: alarm limit of the outcome CUSUM (picked by the benchmark's tuning rule on its tuning seeds, see
         * docs/benchmarks.md: 5 in issue 17, 6 over the issue-18 worker families). With
         * {@code outcome-false-alarm-rate} set, the largest limit a stream's derived h may take.
         */
        @WithDefault("6.0")
        double outcomeLimit();

        /**
         * ν: false outcome-CUSUM alarms per stationary output that each stream's own limit is derived for (issue 18):
         * h solves Siegmund's (e^h − h − 1)/I₀ = 1/ν, I₀ the information per output of the reviews the CUSUM sees
         * under the stream's policy, clamped to [ln R, {@code outcome-limit}]. 0: every stream uses
         * {@code outcome-limit}.
         */
        @WithDefault("0.0")
        double outcomeFalseAlarmRate();

        /**
         * With {@code outcome-false-alarm-rate} set: a refit while the outcome CUSUM is above 0 keeps the limit the
         * excursion began with, and the limit derived for the new policy applies from the next refit after the CUSUM
         * is back at 0. Siegmund's run length holds for one h per excursion; re-deriving it mid-excursion lets an
         * excursion end at the lowest h any refit along it gave (issue 18).
         */
        @WithDefault("true")
        boolean outcomeLimitFrozenInExcursion();

        /**
         * With {@code outcome-false-alarm-rate} set: a stream whose reviews carry less than this information per
         * output (I₀, nats) keeps {@code outcome-limit} instead of a derived h. A false alarm costs the tightened
         * reviews the SPRT needs, about ln(1/ε)/((R − 1 − ln R)·p) at error rate p (≈ 2,000 at 0.5 %), so a stream
         * with few errors pays most for every extra false alarm a lower h buys (issue 18). 0: ν applies everywhere.
         */
        @WithDefault("0.0")
        double outcomeInformationFloor();

        /**
         * Outputs (decisions) at the end of the evidence window that γ̂ (the outcome CUSUM's reference shift and the
         * SPRT's H₀) is not fitted on; at most half the window. 0: γ̂ is fitted on the outputs decided before the
         * CUSUM's current excursion began. That cut-off keeps a drift from becoming its own reference but is
         * selective: an excursion starts with a rejection, so the history before it ends on an error-free stretch,
         * and where the CUSUM rarely returns to 0 (a 0.5 % worker) γ̂ read 35-45 % too few errors. A fixed lag
         * keeps the drift out for its first outputs without depending on the outcomes (issue 18).
         */
        @WithDefault("0")
        int referenceLag();

        /** ε of the SPRT that confirms or refutes an outcome alarm during TIGHTENED (both error rates). */
        @WithDefault("0.05")
        double confirmationError();

        /**
         * Tightened reviews after which an SPRT that reached neither bound ends undecided: the drift is not confirmed
         * and the old evidence window is kept (issue 18). Wald's test ends with probability 1, but slowly when the
         * true odds ratio lies between 1 and R.
         */
        @WithDefault("1500")
        int confirmationMaxReviews();

        /**
         * k: the confirmation also ends undecided (old window kept) once H₀ expected k errors among the tightened
         * reviews (Σ ln(1 − p + R·p)/(R − 1) ≈ Σ p over them), a cap of about k/p reviews at H₀'s error rate p.
         * Refuting a false alarm takes about ln(1/ε)/(R − 1 − ln R) ≈ 9.8 expected errors, more than 1,500 reviews
         * at p = 0.5 %, so on a stream with few errors nearly every false alarm cost the full
         * {@code confirmation-max-reviews}; the cap follows the information the reviews carry (issue 18). 0: off.
         */
        @WithDefault("0.0")
        double confirmationExpectedErrors();

        /**
         * H₀ of the SPRT that confirms an outcome alarm (issue 18). {@code calibration}: the calibration at the alarm
         * shifted by the one γ̂ fitted on the CUSUM's mix of reviews. {@code own-history}: the stream's own error
         * rate before the excursion at comparable confidence, a shift against the calibration per bin of raw
         * confidence fitted on every reviewed output of the bin ({@code confirmation-bins} bins of equal numbers
         * of decided outputs), so a misfit the stream showed all along is not confirmed as a change.
         */
        @WithDefault("calibration")
        ConfirmationReference confirmationReference();

        /** Bins of raw confidence of the {@code own-history} confirmation's H₀. */
        @WithDefault("4")
        int confirmationBins();

        /** What the confirming SPRT's H₀ rests on ({@code drift.confirmation-reference}). */
        enum ConfirmationReference {
            CALIBRATION, OWN_HISTORY
        }

        /**
         * z of the outcome CUSUM's reference: H₀ is the calibration shifted by the log-odds γ̂ + z·se(γ̂) that the
         * window's own audited outcomes show against it (issue 18): a calibration that fits the stream imperfectly,
         * or is uncertain, no longer reads as drift. 0 keeps the shift without its uncertainty.
         */
        @WithDefault("1.64")
        double referenceMargin();

        /**
         * Sampling rate f of a trusted stream while its outcome CUSUM is at least {@code alert-level} × h (issue 18):
         * more labels exactly while a change is suspected, so evidence accrues faster where it decides. The draw stays
         * u &lt; max(b, f) with f chosen from past verdicts only, so the extra reviews are part of the uniform
         * certification sample, weighted 1/f like any other. 0 (or anything at or under the policy rate) disables it.
         */
        @WithDefault("0.0")
        double alertSamplingRate();

        /** Share of h from which the outcome CUSUM counts as half-way to an alarm (see alert-sampling-rate). */
        @WithDefault("0.5")
        double alertLevel();

        /** Expected errors are clamped to [floor, 1 - floor] (a calibration value of 0 or 1 is never certain). */
        @WithDefault("0.002")
        double expectedErrorFloor();

        /** q: share of outputs under the reference raw-confidence quantile in control. */
        @WithDefault("0.2")
        double confidenceQuantile();

        /** The share under the reference quantile the confidence CUSUM is tuned to detect. */
        @WithDefault("0.3")
        double confidenceShiftedShare();

        /** Alarm limit of the confidence CUSUM. */
        @WithDefault("12.0")
        double confidenceLimit();

        /** Decisions in the evidence window before the reference quantile is set. */
        @WithDefault("1000")
        int confidenceReferenceOutputs();
    }

    interface Fit {
        /** Refit a stream's policy after this many new verdicts. */
        @WithDefault("50")
        int everyVerdicts();

        /** Largest evidence window read (most recent decisions since the window began). */
        @WithDefault("50000")
        int maxWindow();

        /** Largest certification sample read (most recent certification-sample decisions since the window began). */
        @WithDefault("20000")
        int maxCertificationSamples();

        /** Thresholds tested by Learn-then-Test, at pass shares 1/steps, 2/steps, ... of the window. */
        @WithDefault("100")
        int thresholdSteps();

        /** Reviewed outputs before a calibration map is fitted. */
        @WithDefault("50")
        int calibrationMinVerdicts();

        /** Share of reviewed outputs held out to measure ECE and Brier. */
        @WithDefault("0.3")
        double calibrationHoldout();

        /** Bins of the expected calibration error. */
        @WithDefault("10")
        int eceBins();

        /** How often the maintenance job looks for streams to refit. */
        @WithDefault("5s")
        String interval();
    }

    interface Streams {
        /** Tenants that get their own streams ("*" for every tenant); others share the stream with tenant "". */
        Optional<List<String>> tenantStreams();
    }

    interface PolicyWatch {
        /**
         * How often a watch without changes gets an empty message, so the caller can tell a quiet stream from a
         * dead one (it stops deciding locally when it heard nothing for its policy-max-age); read by the scheduler.
         */
        @WithDefault("5s")
        String heartbeat();
    }

    interface Ledger {
        /** Decisions returned when a query names no page size. */
        @WithDefault("100")
        int defaultPageSize();

        /** Largest page a query may ask for (larger requests are capped). */
        @WithDefault("1000")
        int maxPageSize();

        /**
         * Group commit: decisions written per transaction at most. Large, so that a writer that fell behind (CPU
         * starvation, a slow fsync) catches up with a few big batches instead of many small ones.
         */
        @WithDefault("1000")
        int maxBatch();

        /**
         * Group commit: ledger writer threads (each with its own connection), each writing decision and verdict
         * batches. A decision batch holds its stream rows for its last round trip only, so a second writer overlaps
         * the first's inserts instead of waiting for its lock.
         */
        @WithDefault("2")
        int writers();

        /**
         * Verdicts applied per transaction at most by the verdict writer. Smaller than {@link #maxBatch()}: each
         * verdict costs a few statements under its stream's row lock, which Decide's writer waits for.
         */
        @WithDefault("100")
        int verdictMaxBatch();

        /** Largest review payload (inputs, candidate output, instructions) accepted per decision, in bytes. */
        @WithDefault("1048576")
        int maxPayloadBytes();
    }

    interface Review {
        /** Run the shadow reviewer in this replica. */
        @WithDefault("true")
        boolean shadowEnabled();

        /** How often the shadow reviewer claims work. */
        @WithDefault("2s")
        String shadowInterval();

        /** Tasks claimed per round. */
        @WithDefault("16")
        int shadowBatch();

        /** Reviews in flight at once. */
        @WithDefault("4")
        int shadowConcurrency();

        /**
         * Batch-class shadow reviews a replica keeps waiting for their provider batch at once (each holds a Review
         * call open up to its task's batch window); a drain stops claiming at this many until some have ended.
         */
        @WithDefault("1000")
        int batchReviewsInFlight();

        /** Deadline of one RouterService.Review call. */
        @WithDefault("PT60S")
        Duration reviewTimeout();

        /**
         * A keyed (batch-class) shadow review and its repeats go to one router replica: the router client balances
         * with ring_hash on a digest of tenant and task id ({@code TaskAffinity}), so a review sent again after a
         * failed wait joins the call still waiting on the replica it started on. Off: the client's
         * {@code load-balancing-policy} spreads every review.
         */
        @WithDefault("true")
        boolean routerTaskAffinity();

        /** Lease of a claimed task; an expired lease returns it to the queue. */
        @WithDefault("PT5M")
        Duration lease();

        /** Model attempts before a shadow review moves to the human queue. */
        @WithDefault("5")
        int maxAttempts();

        /** Back-off after a failed attempt, doubled per attempt. */
        @WithDefault("PT10S")
        Duration retryBackoff();

        /** Worker types whose shadow reviews go to people instead of the model. */
        Optional<List<String>> humanWorkerTypes();
    }

    interface Metrics {
        /** How often the stream gauges are re-read from the ledger (read by the scheduler expression). */
        @WithDefault("15s")
        String refreshInterval();
    }
}
