-- Evidence about a worker backend on a worker type gathered off the production stream, when the model was
-- onboarded: a golden set or the worker type's labelled exemplars, judged against references. It is a discounted
-- prior for the probation clearance of that backend's streams (every tenant's), never evidence for the
-- outgoing-error certificate, which rests on audited production outputs only.
CREATE TABLE onboarding_evidence (
    worker_backend text NOT NULL CHECK (worker_backend <> ''),
    worker_type    text NOT NULL CHECK (worker_type <> ''),
    source         text NOT NULL CHECK (source <> ''),
    items          bigint NOT NULL CHECK (items > 0),
    rejected       bigint NOT NULL CHECK (rejected >= 0 AND rejected <= items),
    detail         text NOT NULL DEFAULT '',
    recorded_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (worker_backend, worker_type)
);

-- The pass share of the threshold in force, certified or not (it was kept only for a certified one): the review
-- probability of a trusted stream that has no certificate yet depends on it.
ALTER TABLE streams RENAME COLUMN certified_pass_share TO threshold_pass_share;
