-- 0001: the shared tables. The source tables (one per extract, and the link view over them)
-- follow the sources' declarations: popsync/warehouse/schema.py makes them.
-- Portable SQL: the same file runs on PostgreSQL and on SQLite
-- (type names such as date, jsonb or boolean are types on PostgreSQL and affinities on SQLite).
-- Where the SQL must differ, a migration comes as NNNN_name.postgresql.sql and
-- NNNN_name.sqlite.sql.
-- Wall-clock times are passed in by the tool, never taken from the server.

-- One row per run of one delivery (a batch). Its rows are where the run's counts say:
-- rows_read = rows_loaded + rows_quarantined + rows_review (in the tables now) + rows_moved
-- (replaced since by a later version of the same delivery: status superseded when all were).
-- A rerun of the same content marks the earlier run replaced.
CREATE TABLE run (
    run_id text PRIMARY KEY,
    source text NOT NULL,
    delivery text,
    version integer,
    input_file text,
    input_sha256 text,
    run_date date,
    started_at timestamptz,
    finished_at timestamptz,
    rows_read bigint NOT NULL DEFAULT 0,
    rows_loaded bigint NOT NULL DEFAULT 0,
    rows_quarantined bigint NOT NULL DEFAULT 0,
    rows_review bigint NOT NULL DEFAULT 0,
    rows_moved bigint NOT NULL DEFAULT 0,
    rows_retired bigint NOT NULL DEFAULT 0,
    status text NOT NULL
        CHECK (status IN ('running', 'loaded', 'failed', 'blocked', 'replaced', 'superseded')),
    replaced_by text,
    timings jsonb,
    error text
);
CREATE INDEX run_source_input ON run (source, input_sha256);
CREATE INDEX run_source_delivery ON run (source, delivery);

-- The ledger of deliveries: every version of every file (or table pull) received per source.
-- A delivery is named by its file's name (or an operator's --batch key, or a pulled table); a
-- new content under the same name is its next version, which replaces the earlier one whole.
CREATE TABLE delivery (
    source text NOT NULL,
    delivery text NOT NULL,
    version integer NOT NULL,
    input_sha256 text NOT NULL,
    origin text,
    stated_rows bigint,
    received_at timestamptz NOT NULL,
    run_id text,
    status text NOT NULL
        CHECK (status IN ('received', 'loaded', 'blocked', 'failed', 'superseded')),
    PRIMARY KEY (source, delivery, version),
    UNIQUE (source, delivery, input_sha256)
);

-- The register snapshot: one row per person, the latest version by ngay_cap_nhat.
CREATE TABLE person (
    so_dinh_danh text PRIMARY KEY,
    so_cmnd text,
    ho_ten text,
    ngay_sinh date,
    ngay_sinh_precision text,
    gioi_tinh text,
    ma_tinh text,
    ma_huyen text,
    ma_xa text,
    admin_scheme text,
    dia_chi text,
    so_dien_thoai text,
    ngay_mat date,
    ngay_cap_nhat timestamp,
    run_id text NOT NULL
);
CREATE INDEX person_so_cmnd ON person (so_cmnd);

-- One row per changed field of a person, with the register update that changed it.
CREATE TABLE person_history (
    so_dinh_danh text NOT NULL,
    field text NOT NULL,
    old_value text,
    new_value text,
    changed_at timestamp,
    run_id text NOT NULL,
    PRIMARY KEY (so_dinh_danh, run_id, field)
);

CREATE TABLE quality_finding (
    source text NOT NULL,
    delivery text,
    record_id text,
    stage text,
    rule text NOT NULL,
    pillar text,
    severity text,
    observed text,
    reason text,
    run_id text NOT NULL
);
CREATE INDEX quality_finding_record ON quality_finding (source, delivery, record_id);
CREATE INDEX quality_finding_run ON quality_finding (run_id);

-- Rows set aside, whole (row_data: every column as JSON), with the rules they broke.
CREATE TABLE quarantine (
    source text NOT NULL,
    delivery text NOT NULL,
    record_id text,
    src_file text,
    src_sha256 text,
    src_row bigint,
    row_data jsonb NOT NULL,
    rules text NOT NULL,
    run_id text NOT NULL,
    UNIQUE (source, delivery, record_id)
);
CREATE INDEX quarantine_run ON quarantine (run_id);
CREATE INDEX quarantine_file ON quarantine (source, src_sha256);

CREATE TABLE review_candidate (
    source text NOT NULL,
    delivery text NOT NULL,
    record_id text NOT NULL,
    rank integer NOT NULL,
    so_dinh_danh text NOT NULL,
    score double precision,
    explanation jsonb,
    run_id text NOT NULL,
    PRIMARY KEY (source, delivery, record_id, rank)
);
CREATE INDEX review_candidate_run ON review_candidate (run_id);

-- A data steward's decision on a row the linker sent to review (Warehouse.decide_review).
-- One row per decision, kept when a rerun of the batch replaces the row: the audit of who
-- decided what and when. so_dinh_danh is the person chosen (NULL for no_match); candidates
-- the register candidates the steward chose among (JSON list of so_dinh_danh, by rank).
-- decided_at is passed in by the tool (ISO 8601, UTC), like the run table's times.
CREATE TABLE review_decision (
    source text NOT NULL,
    delivery text NOT NULL,
    record_id text NOT NULL,
    decision text NOT NULL CHECK (decision IN ('match', 'no_match')),
    so_dinh_danh text,
    candidates jsonb,
    decided_by text NOT NULL,
    note text,
    decided_at timestamptz NOT NULL,
    run_id text NOT NULL,
    CHECK ((decision = 'match') = (so_dinh_danh IS NOT NULL))
);
CREATE INDEX review_decision_record ON review_decision (source, delivery, record_id);
