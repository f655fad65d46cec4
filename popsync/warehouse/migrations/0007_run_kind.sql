-- 0007: runs that are not a batch. A re-check of a source on its own (popsync recheck, the
-- extract DAGs' recheck task: the rows a register change flagged, linked again with no new
-- file) is a run of kind 'recheck': no delivery, no rows of its own (the re-checked rows keep
-- their run), its outcome in counts (rechecked, changed, quarantined, deferred). It ends
-- loaded (its writes committed) or failed / blocked like any run. Every earlier run is a batch.
ALTER TABLE run ADD COLUMN kind text NOT NULL DEFAULT 'batch';
ALTER TABLE run ADD COLUMN counts jsonb;
