-- The share of a stream's outputs a threshold holding the outgoing error under its target would pass, as the
-- last refit projected it: the router prices a stream's steady-state reviews with it (0 = not enough evidence).
ALTER TABLE streams ADD COLUMN projected_pass_share double precision NOT NULL DEFAULT 0;
