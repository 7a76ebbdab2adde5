-- Tandem audit ledger: trust per stream, every decision, every verdict, every trust-state change.
-- States, actions, reasons, modes and verdicts are stored as the names of the Java enums (readable in psql).

-- One row per stream (worker backend x worker type x tenant; '' is the shared stream). Updated under a row lock
-- by RecordVerdict; Decide only increments its counters atomically.
CREATE TABLE streams (
    worker_backend         text             NOT NULL,
    worker_type            text             NOT NULL,
    tenant                 text             NOT NULL DEFAULT '',
    state                  text             NOT NULL
        CHECK (state IN ('PROBATION', 'NORMAL', 'REDUCED', 'TIGHTENED', 'SUSPENDED')),
    decided                bigint           NOT NULL DEFAULT 0,
    -- Decisions whose action was REVIEW (blocking or shadow): decided / review_requested is the review rate.
    review_requested       bigint           NOT NULL DEFAULT 0,
    reviewed               bigint           NOT NULL DEFAULT 0,
    rejected               bigint           NOT NULL DEFAULT 0,
    consecutive_accepted   bigint           NOT NULL DEFAULT 0,
    -- Reviews since the current state began (the evidence the state's exit rules weigh).
    state_reviewed         bigint           NOT NULL DEFAULT 0,
    state_rejected         bigint           NOT NULL DEFAULT 0,
    -- Outcomes of the most recent reviews, oldest first: 'A' accepted, 'R' rejected (the tightening window).
    recent_outcomes        text             NOT NULL DEFAULT '',
    sampling_rate          double precision NOT NULL CHECK (sampling_rate BETWEEN 0 AND 1),
    confidence_threshold   double precision NOT NULL CHECK (confidence_threshold BETWEEN 0 AND 1),
    error_rate_upper_bound double precision NOT NULL DEFAULT 1,
    state_since            timestamptz      NOT NULL DEFAULT now(),
    created_at             timestamptz      NOT NULL DEFAULT now(),
    updated_at             timestamptz      NOT NULL DEFAULT now(),
    -- Bumped on every verdict: lets a reader detect a concurrent change (optimistic checks, caches).
    version                bigint           NOT NULL DEFAULT 0,
    PRIMARY KEY (worker_backend, worker_type, tenant)
);

-- One row per worker output, written before Decide answers. decision_id is the idempotency key.
CREATE TABLE decisions (
    decision_id          text             PRIMARY KEY,
    seq                  bigint           GENERATED ALWAYS AS IDENTITY UNIQUE,
    task_id              text             NOT NULL DEFAULT '',
    step_id              text             NOT NULL DEFAULT '',
    worker_backend       text             NOT NULL,
    worker_type          text             NOT NULL,
    tenant               text             NOT NULL DEFAULT '',
    confidence           double precision NOT NULL,
    raw_confidence       double precision NOT NULL,
    validation_passed    boolean          NOT NULL,
    action               text             NOT NULL CHECK (action IN ('PASS', 'REVIEW')),
    reason               text             NOT NULL,
    mode                 text             NOT NULL CHECK (mode IN ('NONE', 'BLOCKING', 'SHADOW')),
    sampling_probability double precision NOT NULL,
    confidence_threshold double precision NOT NULL,
    state                text             NOT NULL,
    explanation          text             NOT NULL,
    decided_at           timestamptz      NOT NULL DEFAULT now(),
    FOREIGN KEY (worker_backend, worker_type, tenant) REFERENCES streams (worker_backend, worker_type, tenant)
);
CREATE INDEX decisions_by_task ON decisions (task_id, seq DESC);
CREATE INDEX decisions_by_stream ON decisions (worker_backend, worker_type, tenant, seq DESC);
-- The review queue (shadow reviews waiting for a verdict) scans reviewed decisions oldest first.
CREATE INDEX decisions_to_review ON decisions (seq) WHERE action = 'REVIEW';

-- At most one verdict per decision; a retry with the same verdict is a duplicate, a different one a conflict.
CREATE TABLE verdicts (
    decision_id text        PRIMARY KEY REFERENCES decisions (decision_id),
    verdict     text        NOT NULL CHECK (verdict IN ('ACCEPTED', 'REJECTED')),
    reviewer    text        NOT NULL DEFAULT '',
    reason      text        NOT NULL DEFAULT '',
    recorded_at timestamptz NOT NULL DEFAULT now()
);

-- Every trust-state change with its reason (from_state is NULL when the stream was created).
CREATE TABLE state_changes (
    id             bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    worker_backend text        NOT NULL,
    worker_type    text        NOT NULL,
    tenant         text        NOT NULL DEFAULT '',
    from_state     text,
    to_state       text        NOT NULL,
    reason         text        NOT NULL,
    -- The verdict's decision that triggered the change, when one did.
    decision_id    text,
    changed_at     timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (worker_backend, worker_type, tenant) REFERENCES streams (worker_backend, worker_type, tenant)
);
CREATE INDEX state_changes_by_stream ON state_changes (worker_backend, worker_type, tenant, id DESC);
