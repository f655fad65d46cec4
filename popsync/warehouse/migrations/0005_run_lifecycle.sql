-- 0005: the run lifecycle. A run is recorded when it starts (status running, with the process
-- and host that run it), shows life at each stage (heartbeat_at, stage), and ends loaded,
-- blocked or failed with its cause. A running run whose process is gone (same host) or whose
-- heartbeat is older than the stale limit is marked failed by the next run that starts.
ALTER TABLE run ADD COLUMN pid integer;
ALTER TABLE run ADD COLUMN host text;
ALTER TABLE run ADD COLUMN heartbeat_at timestamptz;
ALTER TABLE run ADD COLUMN stage text;
CREATE INDEX run_status ON run (status);
