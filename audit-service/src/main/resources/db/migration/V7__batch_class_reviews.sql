-- Shadow reviews of BATCH-class steps go out as batch-class reviews (issue 21): the payload keeps the step's latency
-- class and its task's batch window, which the shadow reviewer sends with RouterService.Review. Additive only.
ALTER TABLE decision_payloads
    ADD COLUMN batch          boolean     NOT NULL DEFAULT false,
    ADD COLUMN batch_deadline timestamptz;
