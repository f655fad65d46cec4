-- 0002: each person's status, derived from the linked rows of the extracts (never loaded), and
-- its publications to the register. Portable SQL (see 0001).

-- One row per person whose status says something: STATUS_FIELDS of popsync/core/status.py, the
-- day the time-dependent fields are about (as_of: the run date), the digest of the fields
-- (status_hash: a person whose digest changes goes into the next delta), the refresh that last
-- changed it (change_seq) and the first day its status changes by itself (valid_until: the day
-- after its coverage ends, or the start of a coverage to come; null when none).
CREATE TABLE person_status (
    so_dinh_danh text PRIMARY KEY,
    doses integer NOT NULL,
    vaccination_status text NOT NULL,
    primary_vaccine text,
    primary_doses integer NOT NULL,
    primary_complete boolean NOT NULL,
    primary_complete_date date,
    additional_dose_date date,
    boosters integer NOT NULL,
    last_booster_date date,
    last_dose_date date,
    doses_not_counted integer NOT NULL,
    next_dose text,
    next_dose_due date,
    f0_episodes integer NOT NULL,
    f0_latest_positive_date date,
    f0_recovered boolean,
    f0_recovery_date date,
    insured boolean NOT NULL,
    insured_since date,
    coverage_end date,
    uninsured_since date,
    rows_in_review integer NOT NULL,
    rows_unlinked integer NOT NULL,
    rows_quarantined integer NOT NULL,
    as_of date NOT NULL,
    valid_until date,
    status_hash bigint NOT NULL,
    change_seq bigint NOT NULL
);
-- How it is written and read by change_seq differs by backend: 0003.

-- One row per recomputation (Warehouse.refresh_status), numbered: after a batch (run_id), a
-- steward's decision, a re-check, or on demand. summary: what changed, in counts only.
CREATE TABLE status_refresh (
    seq bigint PRIMARY KEY,
    run_id text,
    reason text NOT NULL,
    as_of date NOT NULL,
    started_at timestamptz NOT NULL,
    finished_at timestamptz NOT NULL,
    people bigint NOT NULL,
    changed bigint NOT NULL,
    summary jsonb
);
CREATE INDEX status_refresh_run ON status_refresh (run_id);

-- People whose status must be recomputed by the next refresh, written in the transaction that
-- changed their rows: a later version of a delivery replaced them, a steward decided, a
-- re-check moved a link. A refresh takes them off (deletes them) in its own transaction.
CREATE TABLE status_dirty (
    so_dinh_danh text NOT NULL,
    reason text NOT NULL
);

-- Every delta written to the register (popsync publish): the refreshes it covers
-- (since_seq < change_seq <= through_seq), where it went and the digest of its manifest.
CREATE TABLE publication (
    publication_id text PRIMARY KEY,
    since_seq bigint NOT NULL,
    through_seq bigint NOT NULL,
    since_asked text,
    people bigint NOT NULL,
    location text NOT NULL,
    manifest_sha256 text NOT NULL,
    published_at timestamptz NOT NULL
);
