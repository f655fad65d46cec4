-- 0004: a data steward's decision on a row the linker sent to review (Warehouse.decide_review).
-- One row per decision, kept when a rerun of the batch replaces the row: the audit of who
-- decided what and when. so_dinh_danh is the person chosen (NULL for no_match); candidates
-- the register candidates the steward chose among (JSON list of so_dinh_danh, by rank).
-- decided_at is passed in by the tool (ISO 8601, UTC), like the run table's times.
CREATE TABLE review_decision (
    source text NOT NULL,
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
CREATE INDEX review_decision_record ON review_decision (source, record_id);
-- The review queue is read by decision: a partial index holds only the rows waiting for
-- review (a few per thousand), so the COPY of a batch barely pays for it.
CREATE INDEX vaccination_dose_review ON vaccination_dose (source, record_id)
WHERE decision = 'review';
CREATE INDEX f0_case_review ON f0_case (source, record_id) WHERE decision = 'review';
CREATE INDEX social_insurance_period_review ON social_insurance_period (source, record_id)
WHERE decision = 'review';
