-- 0001: the whole schema. Portable SQL: the same file runs on PostgreSQL and on SQLite
-- (type names such as date, jsonb or boolean are types on PostgreSQL and affinities on SQLite).
-- Where the SQL must differ, a migration comes as NNNN_name.postgresql.sql and
-- NNNN_name.sqlite.sql.
-- Wall-clock times are passed in by the tool, never taken from the server.

CREATE TABLE run (
    run_id text PRIMARY KEY,
    source text NOT NULL,
    input_file text,
    input_sha256 text,
    run_date date,
    started_at timestamptz,
    finished_at timestamptz,
    rows_read bigint NOT NULL DEFAULT 0,
    rows_loaded bigint NOT NULL DEFAULT 0,
    rows_quarantined bigint NOT NULL DEFAULT 0,
    rows_review bigint NOT NULL DEFAULT 0,
    status text NOT NULL CHECK (status IN ('loaded', 'failed', 'replaced')),
    replaced_by text,
    timings jsonb,
    error text
);
CREATE INDEX run_source_input ON run (source, input_sha256);

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

-- The extract rows (loaded and waiting for review; quarantined rows are in quarantine).
-- so_dinh_danh refers to person(so_dinh_danh) when decision = 'match'. It is not declared
-- as a foreign key: the per-row trigger made a 1M-row load 2-3x slower; load_batch checks
-- the reference for the whole batch in one query instead.
CREATE TABLE vaccination_dose (
    source text NOT NULL,
    record_id text NOT NULL,
    src_file text,
    src_sha256 text,
    src_row bigint,
    full_name text,
    name_key text,
    birth_date date,
    birth_date_precision text,
    sex text,
    id_number text,
    id_kind text,
    phone text,
    address text,
    province_code text,
    district_code text,
    ward_code text,
    admin_scheme text,
    flags text,
    repairs text,
    dose_number smallint,
    vaccine text,
    vaccination_date date,
    vaccination_date_precision text,
    lot_number text,
    site text,
    so_dinh_danh text,
    decision text NOT NULL CHECK (decision IN ('match', 'no_match', 'review')),
    score double precision,
    explanation jsonb,
    needs_recheck boolean NOT NULL DEFAULT FALSE,
    run_id text NOT NULL,
    PRIMARY KEY (source, record_id),
    CHECK ((decision = 'match') = (so_dinh_danh IS NOT NULL))
);

CREATE TABLE f0_case (
    source text NOT NULL,
    record_id text NOT NULL,
    src_file text,
    src_sha256 text,
    src_row bigint,
    full_name text,
    name_key text,
    birth_date date,
    birth_date_precision text,
    sex text,
    id_number text,
    id_kind text,
    phone text,
    address text,
    province_code text,
    district_code text,
    ward_code text,
    admin_scheme text,
    flags text,
    repairs text,
    positive_date date,
    positive_date_precision text,
    test_type text,
    recovery_date date,
    recovery_date_precision text,
    treatment_place text,
    so_dinh_danh text,
    decision text NOT NULL CHECK (decision IN ('match', 'no_match', 'review')),
    score double precision,
    explanation jsonb,
    needs_recheck boolean NOT NULL DEFAULT FALSE,
    run_id text NOT NULL,
    PRIMARY KEY (source, record_id),
    CHECK ((decision = 'match') = (so_dinh_danh IS NOT NULL))
);

CREATE TABLE social_insurance_period (
    source text NOT NULL,
    record_id text NOT NULL,
    src_file text,
    src_sha256 text,
    src_row bigint,
    full_name text,
    name_key text,
    birth_date date,
    birth_date_precision text,
    sex text,
    id_number text,
    id_kind text,
    phone text,
    address text,
    province_code text,
    district_code text,
    ward_code text,
    admin_scheme text,
    flags text,
    repairs text,
    bhxh_number text,
    employer_code text,
    employer_name text,
    participant_type text,
    period_start date,
    period_start_precision text,
    period_end date,
    period_end_precision text,
    so_dinh_danh text,
    decision text NOT NULL CHECK (decision IN ('match', 'no_match', 'review')),
    score double precision,
    explanation jsonb,
    needs_recheck boolean NOT NULL DEFAULT FALSE,
    run_id text NOT NULL,
    PRIMARY KEY (source, record_id),
    CHECK ((decision = 'match') = (so_dinh_danh IS NOT NULL))
);

-- The linkage decision of every loaded or review row. A view over the source tables, so a
-- row and its link can never disagree and a batch is written once.
CREATE VIEW link AS
SELECT source, record_id, decision, score, explanation, so_dinh_danh, needs_recheck, run_id
FROM vaccination_dose
UNION ALL
SELECT source, record_id, decision, score, explanation, so_dinh_danh, needs_recheck, run_id
FROM f0_case
UNION ALL
SELECT source, record_id, decision, score, explanation, so_dinh_danh, needs_recheck, run_id
FROM social_insurance_period;

CREATE TABLE quality_finding (
    source text NOT NULL,
    record_id text,
    stage text,
    rule text NOT NULL,
    pillar text,
    severity text,
    observed text,
    reason text,
    run_id text NOT NULL
);
CREATE INDEX quality_finding_record ON quality_finding (source, record_id);
CREATE INDEX quality_finding_run ON quality_finding (run_id);

-- Rows set aside, whole (row_data: every column as JSON), with the rules they broke.
CREATE TABLE quarantine (
    source text NOT NULL,
    record_id text,
    src_file text,
    src_sha256 text,
    src_row bigint,
    row_data jsonb NOT NULL,
    rules text NOT NULL,
    run_id text NOT NULL,
    UNIQUE (source, record_id)
);
CREATE INDEX quarantine_run ON quarantine (run_id);
CREATE INDEX quarantine_file ON quarantine (source, src_sha256);

CREATE TABLE review_candidate (
    source text NOT NULL,
    record_id text NOT NULL,
    rank integer NOT NULL,
    so_dinh_danh text NOT NULL,
    score double precision,
    explanation jsonb,
    run_id text NOT NULL,
    PRIMARY KEY (source, record_id, rank)
);
CREATE INDEX review_candidate_run ON review_candidate (run_id);
