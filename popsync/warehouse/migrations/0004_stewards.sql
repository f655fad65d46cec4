-- 0004: the stewards' workspace (popsync serve, popsync review), after each person's status
-- (0002, 0003).

-- A decision is named by its id, so that it can be undone. undo_data is what an undo puts back:
-- the row's score and explanation before the decision and the review candidates it removed
-- (JSON: {"score": ..., "explanation": ..., "candidates": [{rank, so_dinh_danh, score,
-- explanation}, ...]}). Decisions made before this migration have neither: they cannot be undone.
ALTER TABLE review_decision ADD COLUMN decision_id text;
ALTER TABLE review_decision ADD COLUMN undo_data jsonb;
CREATE UNIQUE INDEX review_decision_id ON review_decision (decision_id);

-- An undone decision: the row went back to review with the candidates it had. The decision's
-- row stays (the audit); a rerun of the batch does not apply an undone decision again.
CREATE TABLE review_undo (
    decision_id text PRIMARY KEY,
    undone_by text NOT NULL,
    note text,
    undone_at timestamptz NOT NULL
);

-- The stewards' journal: who did what and when, from the web workspace or the command line.
-- action: login, login_failed, logout, decide, undo, reveal (one field's unmasked value shown:
-- field names it, detail says whose), export (a unit's quarantined rows sent back). Never a
-- revealed value. at: ISO 8601, UTC, passed in by the tool.
CREATE TABLE steward_audit (
    at timestamptz NOT NULL,
    actor text NOT NULL,
    role text,
    via text NOT NULL CHECK (via IN ('web', 'cli')),
    action text NOT NULL
        CHECK (action IN ('login', 'login_failed', 'logout', 'decide', 'undo', 'reveal', 'export')),
    source text,
    delivery text,
    record_id text,
    field text,
    detail jsonb
);
CREATE INDEX steward_audit_at ON steward_audit (at);
CREATE INDEX steward_audit_record ON steward_audit (source, delivery, record_id);
