-- SQLite has no BRIN: a plain index on run_id (see the PostgreSQL variant).
CREATE INDEX vaccination_dose_run ON vaccination_dose (run_id);
CREATE INDEX f0_case_run ON f0_case (run_id);
CREATE INDEX social_insurance_period_run ON social_insurance_period (run_id);
