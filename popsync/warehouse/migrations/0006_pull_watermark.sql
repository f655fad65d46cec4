-- 0006: pulls (popsync pull, the source DAGs' pull task). 0005 is the reliability migration.

-- What the landing area showed of a delivery's file when it was pulled (its size, and its
-- modification time followed by its sidecar's name, size and time): a file seen again unchanged
-- is not fetched and hashed again.
ALTER TABLE delivery ADD COLUMN origin_size bigint;
ALTER TABLE delivery ADD COLUMN origin_mtime text;

-- A source table's incremental pull: the watermark column and the highest value this version
-- holds. The committed watermark of a table is that of its latest loaded version: it advances
-- only when load_batch marks the version loaded, in the load's own transaction.
ALTER TABLE delivery ADD COLUMN watermark_column text;
ALTER TABLE delivery ADD COLUMN watermark text;
