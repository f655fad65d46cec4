-- 0003: the rows waiting for a re-check (needs_recheck, set by a register load whose person's
-- identity changed) are found by every run of their source. A partial index holds only them:
-- it stays empty for the rows a batch loads, so the COPY of a batch does not pay for it.
CREATE INDEX vaccination_dose_recheck ON vaccination_dose (source, record_id)
WHERE needs_recheck = TRUE;
CREATE INDEX f0_case_recheck ON f0_case (source, record_id) WHERE needs_recheck = TRUE;
CREATE INDEX social_insurance_period_recheck ON social_insurance_period (source, record_id)
WHERE needs_recheck = TRUE;
