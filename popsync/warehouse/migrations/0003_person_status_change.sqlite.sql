-- 0003: what a publication reads of person_status, the people changed since a refresh (on
-- PostgreSQL a BRIN index; SQLite has none, and its tables are small).
CREATE INDEX person_status_change ON person_status (change_seq);
