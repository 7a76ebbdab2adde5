-- Submitted tasks (OracleService.SubmitTask), in the oracle's own schema (quarkus.flyway.schemas=oracle) so that
-- it can share a database with the audit ledger. Protobuf messages are stored as their binary encoding: the proto
-- is the one source of truth for their shape, and compatible proto changes need no migration.

CREATE TABLE oracle.tasks (
    task_id         text PRIMARY KEY,
    -- queue order (FIFO over every tenant) and the ListTasks page order
    queue_seq       bigserial NOT NULL UNIQUE,
    tenant          text NOT NULL,
    idempotency_key text,
    -- SHA-256 of the request's deterministic encoding: a key re-used for another request is refused
    request_digest  text NOT NULL,
    request         bytea NOT NULL,
    task            text NOT NULL,
    state           text NOT NULL CHECK (state IN ('QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED')),
    -- the validated plan (dev.tandem.proto.oracle.v1.Plan) and what planning cost, stored before any step runs
    plan            bytea,
    planning_usd    double precision NOT NULL DEFAULT 0,
    response        bytea,
    error_code      text,
    error_message   text,
    -- the replica running it and until when its lease holds; an expired lease lets another replica resume it
    lease_owner     text,
    lease_until     timestamptz,
    attempts        integer NOT NULL DEFAULT 0,
    submitted_at    timestamptz NOT NULL DEFAULT now(),
    started_at      timestamptz,
    finished_at     timestamptz
);

CREATE UNIQUE INDEX tasks_idempotency ON oracle.tasks (tenant, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX tasks_claimable ON oracle.tasks (queue_seq) WHERE state IN ('QUEUED', 'RUNNING');
CREATE INDEX tasks_by_tenant ON oracle.tasks (tenant, queue_seq DESC);

-- Every completed step (dev.tandem.proto.oracle.v1.StepResult with its output, provenance and cost): a resumed
-- task runs only the steps not here, so a completed step is never executed or paid twice.
CREATE TABLE oracle.task_steps (
    task_id             text NOT NULL REFERENCES oracle.tasks (task_id) ON DELETE CASCADE,
    step_id             text NOT NULL,
    result              bytea NOT NULL,
    oracle_baseline_usd double precision NOT NULL,
    exploration_usd     double precision NOT NULL,
    completed_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (task_id, step_id)
);

-- The task's events (dev.tandem.proto.oracle.v1.TaskEvent) in sequence order, for WatchTask to resume from.
CREATE TABLE oracle.task_events (
    task_id  text NOT NULL REFERENCES oracle.tasks (task_id) ON DELETE CASCADE,
    sequence bigint NOT NULL,
    event    bytea NOT NULL,
    PRIMARY KEY (task_id, sequence)
);
