-- The outcome CUSUM's limit h derived per stream by its refit from the stream's information rate and the false-alarm
-- budget (issue 18, drift.outcome-false-alarm-rate). 0 in rows written before it, and while none is derived: the
-- configured drift.outcome-limit applies.
ALTER TABLE streams ADD COLUMN outcome_limit double precision NOT NULL DEFAULT 0;
