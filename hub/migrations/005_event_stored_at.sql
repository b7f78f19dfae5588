-- camhub 005: when each event row was committed, on the database's clock.
-- clock_timestamp(), not now(): now() is the start of the transaction, the same for a whole batch, and would hide
-- how long the batch took. The benchmark (test/bench) measures publish → committed latency from this column, and an
-- operator can see ingest lag per row. insertEvents names its columns, so every write path leaves it to the default.
-- Adding a column with a volatile default rewrites the table once; on an existing large installation run it in a
-- maintenance window (at ~100k rows/s, 10 million events take a couple of minutes).
ALTER TABLE events ADD COLUMN stored_at timestamptz NOT NULL DEFAULT clock_timestamp();
