-- Selective auditing (issue 5): certified thresholds, drift detectors, calibration, estimates, the review work
-- queue, stored review payloads. Additive only: V1 stays as it was.

-- Decisions: what the policy needs to reweight and certify later.
ALTER TABLE decisions
    -- Tenant that sent the output (the stream's tenant is '' unless the tenant has its own streams).
    ADD COLUMN request_tenant        text             NOT NULL DEFAULT '',
    -- The audit service's calibration of raw_confidence at decision time.
    ADD COLUMN calibrated_confidence double precision,
    -- Raw-confidence threshold in force, and whether it was certified (Learn-then-Test) or the default.
    ADD COLUMN raw_threshold         double precision NOT NULL DEFAULT 0,
    ADD COLUMN threshold_certified   boolean          NOT NULL DEFAULT false,
    -- Probability that a confident output was reviewed blocking (the outgoing-error sample), 1 for forced reviews.
    ADD COLUMN blocking_probability  double precision NOT NULL DEFAULT 0,
    -- The uniform draw u < state sampling rate, independent of confidence and outcome: these outputs form the
    -- certification sample (reviewed whatever their confidence).
    ADD COLUMN certification_sample  boolean          NOT NULL DEFAULT false;

-- Review payloads, kept only for outputs sent to review (shadow reviewer, human queue, trace export).
CREATE TABLE decision_payloads (
    decision_id      text  PRIMARY KEY REFERENCES decisions (decision_id),
    inputs           jsonb NOT NULL DEFAULT '{}'::jsonb,
    candidate_output text  NOT NULL DEFAULT '',
    instructions     text  NOT NULL DEFAULT ''
);

-- The reviewer's own answer when it rejected (the exported eval case's reference).
ALTER TABLE verdicts ADD COLUMN reviewer_output text NOT NULL DEFAULT '';
CREATE INDEX verdicts_by_time ON verdicts (recorded_at);

-- Durable work queue of reviews waiting for a verdict. A task is claimed with FOR UPDATE SKIP LOCKED under a
-- lease; an expired lease returns it to the queue; the verdict deletes it in the verdict's transaction.
CREATE TABLE review_tasks (
    decision_id  text        PRIMARY KEY REFERENCES decisions (decision_id),
    seq          bigint      GENERATED ALWAYS AS IDENTITY UNIQUE,
    queue        text        NOT NULL CHECK (queue IN ('MODEL', 'HUMAN')),
    enqueued_at  timestamptz NOT NULL DEFAULT now(),
    -- Not claimable before this (back-off after a failed attempt).
    available_at timestamptz NOT NULL DEFAULT now(),
    claimed_by   text,
    claim_token  text,
    lease_until  timestamptz,
    attempts     integer     NOT NULL DEFAULT 0,
    last_error   text        NOT NULL DEFAULT ''
);
CREATE INDEX review_tasks_claimable ON review_tasks (queue, seq);

-- Streams: the policy in force and the evidence behind it.
ALTER TABLE streams
    -- Bumped whenever the decision policy changes (state, threshold, rates, calibration): replicas that cached the
    -- previous version reload.
    ADD COLUMN policy_version           bigint           NOT NULL DEFAULT 0,
    -- Evidence window: decisions with seq >= this (reset by a drift alarm, when old evidence stops applying).
    ADD COLUMN window_since_seq         bigint           NOT NULL DEFAULT 0,
    ADD COLUMN window_since             timestamptz      NOT NULL DEFAULT now(),
    -- Certified raw-confidence threshold (the configured default while uncertified) and its certificate.
    ADD COLUMN raw_threshold            double precision NOT NULL DEFAULT 0.7,
    ADD COLUMN threshold_certified      boolean          NOT NULL DEFAULT false,
    ADD COLUMN certified_pass_share     double precision NOT NULL DEFAULT 0,
    ADD COLUMN certification            text             NOT NULL DEFAULT '',
    ADD COLUMN blocking_rate            double precision NOT NULL DEFAULT 0,
    -- Calibration map and its held-out metrics (JSON of dev.tandem.audit.CalibrationMap).
    ADD COLUMN calibration              jsonb,
    -- Verdicts counted when the policy was last refitted (calibration, certification, estimates).
    ADD COLUMN fitted_reviews           bigint           NOT NULL DEFAULT -1,
    -- Sampled (certification-sample) reviews: consecutive accepted, and since the last sampled rejection.
    ADD COLUMN sample_consecutive_accepted bigint        NOT NULL DEFAULT 0,
    ADD COLUMN samples_since_rejection  bigint           NOT NULL DEFAULT -1,
    -- Drift detectors.
    ADD COLUMN outcome_cusum            double precision NOT NULL DEFAULT 0,
    ADD COLUMN confidence_cusum         double precision NOT NULL DEFAULT 0,
    ADD COLUMN confidence_reference     double precision,
    ADD COLUMN drift_alarms             bigint           NOT NULL DEFAULT 0,
    -- After an outcome alarm: the window it replaced, kept until an SPRT on the tightened reviews confirms the
    -- drift (then dropped) or refutes it (then restored: a false alarm does not discard the evidence).
    ADD COLUMN previous_window_since_seq bigint,
    ADD COLUMN confirmation_llr         double precision NOT NULL DEFAULT 0,
    -- Estimates (inverse-probability weighted, over the evidence window).
    ADD COLUMN window_decided           bigint           NOT NULL DEFAULT 0,
    ADD COLUMN error_rate               double precision NOT NULL DEFAULT 0,
    ADD COLUMN outgoing_error_rate      double precision NOT NULL DEFAULT 0,
    ADD COLUMN outgoing_error_lower     double precision NOT NULL DEFAULT 0,
    ADD COLUMN outgoing_error_upper     double precision NOT NULL DEFAULT 1;

CREATE INDEX decisions_by_time ON decisions (decided_at);
-- The certification sample of a stream, newest first (a few per cent of its decisions).
CREATE INDEX decisions_certification ON decisions (worker_backend, worker_type, tenant, seq DESC)
    WHERE certification_sample;
