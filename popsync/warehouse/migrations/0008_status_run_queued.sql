-- 0008: the runs whose load queued in status_dirty, row by row, the people whose rows it
-- changed (a later version of a delivery: the rows it replaced compared with the rows it
-- loaded). Their refresh recomputes those people, not every person the run's rows name, and
-- takes the run off.
CREATE TABLE status_run_queued (
    run_id text PRIMARY KEY
);
