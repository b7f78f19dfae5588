-- camhub 015: events partitioned by day, the day taken from the event's id.
--
-- Event ids are UUIDv7 (the agent makes them): their first 48 bits are the creation time in Unix milliseconds, and
-- PostgreSQL orders uuids byte by byte, so a day of ids is one uuid range. Partitioning BY RANGE (id) keeps the
-- primary key on id alone (the partition key is id itself): uniqueness by id holds across partitions, and every
-- writer keeps `ON CONFLICT (id)`. Ids that are not v7 (the contract allows any UUID) or name a day that has no
-- partition land in events_default, which is never dropped: retention deletes its rows one by one, as before.
--
-- Retention drops a whole day once none of its rows is still kept (hub/src/retention); a maintenance job creates
-- the days ahead (hub/src/events/partitions). Existing rows are copied over: plan a maintenance window on a large
-- history (about 1-2 minutes per 10 million rows here).

-- The smallest UUIDv7 of an instant: its millisecond timestamp, then zeros.
CREATE FUNCTION events_id_floor(t timestamptz) RETURNS uuid
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT (lpad(to_hex(floor(extract(epoch FROM t) * 1000)::bigint), 12, '0') || '00000000000000000000')::uuid
$$;

-- The partition of a UTC day, created if missing; rows of that day waiting in events_default move into it.
-- Returns whether it was created.
CREATE FUNCTION events_add_partition(day date) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
  part text := 'events_p' || to_char(day, 'YYYYMMDD');
  lo uuid := events_id_floor(day::timestamp AT TIME ZONE 'UTC');
  hi uuid := events_id_floor((day + 1)::timestamp AT TIME ZONE 'UTC');
BEGIN
  IF to_regclass(part) IS NOT NULL THEN
    RETURN false;
  END IF;
  IF EXISTS (SELECT 1 FROM events_default WHERE id >= lo AND id < hi) THEN
    EXECUTE format('CREATE TABLE %I (LIKE events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', part);
    EXECUTE format('WITH moved AS (DELETE FROM events_default WHERE id >= $1 AND id < $2 RETURNING *) '
                   'INSERT INTO %I SELECT * FROM moved', part) USING lo, hi;
    EXECUTE format('ALTER TABLE events ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', part, lo, hi);
  ELSE
    EXECUTE format('CREATE TABLE %I PARTITION OF events FOR VALUES FROM (%L) TO (%L)', part, lo, hi);
  END IF;
  RETURN true;
END
$$;

ALTER TABLE events RENAME TO events_unpartitioned;
DO $$
DECLARE
  ix record;
BEGIN
  FOR ix IN SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'events_unpartitioned'
  LOOP
    EXECUTE format('ALTER INDEX %I RENAME TO %I', ix.indexname, 'old_' || ix.indexname);
  END LOOP;
END
$$;

CREATE TABLE events (LIKE events_unpartitioned INCLUDING ALL EXCLUDING INDEXES) PARTITION BY RANGE (id);
ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY (id);
-- Every other index of the old table, same name, same definition (whatever earlier migrations added).
DO $$
DECLARE
  ix record;
BEGIN
  FOR ix IN
    SELECT i.indexname, i.indexdef FROM pg_indexes i
    WHERE i.schemaname = current_schema() AND i.tablename = 'events_unpartitioned'
      AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = to_regclass(quote_ident(i.indexname)))
  LOOP
    EXECUTE replace(replace(ix.indexdef, ' ON ' || current_schema() || '.events_unpartitioned ', ' ON events '),
                    'INDEX ' || ix.indexname || ' ', 'INDEX ' || substr(ix.indexname, 5) || ' ');
  END LOOP;
END
$$;
CREATE TABLE events_default PARTITION OF events DEFAULT;

-- A partition for every day that has v7 ids (within ten years back), and for today and the next seven days.
SELECT events_add_partition(d) FROM (
  SELECT (to_timestamp(('x' || substr(replace(id::text, '-', ''), 1, 12))::bit(48)::bigint / 1000.0)
          AT TIME ZONE 'UTC')::date AS d
  FROM events_unpartitioned
  WHERE substr(id::text, 15, 1) = '7' AND id >= events_id_floor(now() - interval '3650 days')
    AND id < events_id_floor(now() + interval '8 days')
  UNION
  SELECT generate_series(now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC' + interval '7 days', interval '1 day')::date
  ORDER BY 1) days;

INSERT INTO events SELECT * FROM events_unpartitioned;
DROP TABLE events_unpartitioned;
