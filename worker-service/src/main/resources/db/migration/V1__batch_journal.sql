-- The batch journal: the provider batches this worker submitted, written before they are first polled, so a
-- restarted worker (or another replica, once the owner's claim lapsed) polls them on instead of paying twice.
CREATE TABLE worker.provider_batches (
    provider      text        NOT NULL,
    batch_id      text        NOT NULL,
    model         text        NOT NULL,
    state         text        NOT NULL CHECK (state IN ('OPEN', 'ENDED', 'CANCELLED')),
    submitted_at  timestamptz NOT NULL,
    ended_at      timestamptz,
    -- the replica polling it, and until when its claim holds without renewal
    owner         text        NOT NULL,
    claimed_until timestamptz NOT NULL,
    PRIMARY KEY (provider, batch_id)
);
CREATE INDEX provider_batches_open ON worker.provider_batches (claimed_until) WHERE state = 'OPEN';
CREATE INDEX provider_batches_ended ON worker.provider_batches (ended_at) WHERE state <> 'OPEN';

-- Its items: custom_id (the SHA-256 of the call key for a keyed item), the digest of the request (a repeat joins or
-- gets the answer only when it asks for the same), how the answer is read, and the answer once the batch ended.
CREATE TABLE worker.provider_batch_items (
    provider       text    NOT NULL,
    batch_id       text    NOT NULL,
    custom_id      text    NOT NULL,
    keyed          boolean NOT NULL,
    request_digest text    NOT NULL,
    answer_form    text    NOT NULL CHECK (answer_form IN ('TEXT', 'SCHEMA')),
    answer         jsonb,
    PRIMARY KEY (provider, batch_id, custom_id),
    FOREIGN KEY (provider, batch_id) REFERENCES worker.provider_batches ON DELETE CASCADE
);
CREATE INDEX provider_batch_items_answers ON worker.provider_batch_items (provider, custom_id)
    WHERE answer IS NOT NULL;
