-- Decisions name their stream through stream_keys, an insert-only table of the streams' keys, instead of streams
-- itself. The foreign key is checked for every decision row, and streams holds each stream's counters, which every
-- group commit and verdict batch updates (hundreds of times a second on a busy stream): the check had to find the
-- row's live version among its dead ones (a bloated heap and index when vacuum lags: 190-1,800 buffers per check, up
-- to 5 ms, measured on the benchmark database after 500,000 decisions) and to share-lock a row the other writer was
-- updating. A stream key is inserted in the transaction that creates its stream and never changes or goes away, so
-- the check is one lookup in a table that does not bloat; stream_keys' own foreign key keeps every key a stream's.
CREATE TABLE stream_keys (
    worker_backend text NOT NULL,
    worker_type    text NOT NULL,
    tenant         text NOT NULL,
    PRIMARY KEY (worker_backend, worker_type, tenant),
    FOREIGN KEY (worker_backend, worker_type, tenant) REFERENCES streams (worker_backend, worker_type, tenant)
);
INSERT INTO stream_keys (worker_backend, worker_type, tenant) SELECT worker_backend, worker_type, tenant FROM streams;

-- The key is written by the database in the transaction that inserts the stream, not by the service: during a
-- rolling update a replica still running the code before this migration creates streams without knowing of
-- stream_keys, and its decisions must still find their key.
CREATE FUNCTION stream_keys_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO stream_keys (worker_backend, worker_type, tenant)
        VALUES (NEW.worker_backend, NEW.worker_type, NEW.tenant) ON CONFLICT DO NOTHING;
    RETURN NULL;
END;
$$;
CREATE TRIGGER streams_key AFTER INSERT ON streams FOR EACH ROW EXECUTE FUNCTION stream_keys_insert();

ALTER TABLE decisions DROP CONSTRAINT decisions_worker_backend_worker_type_tenant_fkey;
-- NOT VALID: the stored decisions were checked against streams, whose keys stream_keys now holds; validating them
-- again would scan the whole ledger while the migration holds its locks. New rows are checked.
ALTER TABLE decisions ADD CONSTRAINT decisions_stream_key_fkey FOREIGN KEY (worker_backend, worker_type, tenant)
    REFERENCES stream_keys (worker_backend, worker_type, tenant) NOT VALID;
