-- Where the outcome CUSUM was last at 0 (issue 18): the outputs after it are the CUSUM's current excursion, and its
-- reference is fitted only on outputs before it, so a drift under test cannot become its own reference. 0 in rows
-- written before it: the reference then uses the whole window, as it did.
ALTER TABLE streams ADD COLUMN cusum_base_seq bigint NOT NULL DEFAULT 0;
