-- Batch intents: a batch is journaled under a journal id of ours BEFORE the provider is asked to create it (batch_id
-- null until created), so a crash between the create and the journal update leaves an intent that a restart resolves
-- with the provider (OpenAI: the journal id is the batch's metadata, found with GET /v1/batches) instead of losing a
-- paid batch. Rows of V1 get their provider and batch id as journal id.
ALTER TABLE worker.provider_batches ADD COLUMN journal_id text;
UPDATE worker.provider_batches SET journal_id = provider || '/' || batch_id;
ALTER TABLE worker.provider_batches ALTER COLUMN journal_id SET NOT NULL;

ALTER TABLE worker.provider_batch_items ADD COLUMN journal_id text;
UPDATE worker.provider_batch_items SET journal_id = provider || '/' || batch_id;
ALTER TABLE worker.provider_batch_items ALTER COLUMN journal_id SET NOT NULL;

ALTER TABLE worker.provider_batch_items DROP CONSTRAINT provider_batch_items_provider_batch_id_fkey;
ALTER TABLE worker.provider_batch_items DROP CONSTRAINT provider_batch_items_pkey;
ALTER TABLE worker.provider_batch_items DROP COLUMN batch_id;
ALTER TABLE worker.provider_batches DROP CONSTRAINT provider_batches_pkey;

ALTER TABLE worker.provider_batches ADD PRIMARY KEY (journal_id);
ALTER TABLE worker.provider_batches ALTER COLUMN batch_id DROP NOT NULL;
-- a batch id names one batch of its provider; intents (null) are apart
ALTER TABLE worker.provider_batches ADD CONSTRAINT provider_batches_batch UNIQUE (provider, batch_id);
ALTER TABLE worker.provider_batch_items ADD PRIMARY KEY (journal_id, custom_id);
ALTER TABLE worker.provider_batch_items ADD FOREIGN KEY (journal_id) REFERENCES worker.provider_batches
    ON DELETE CASCADE;
