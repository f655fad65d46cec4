-- 0003: what a publication reads of person_status, the people changed since a refresh (on
-- PostgreSQL the table is read whole and kept with room for updates in place instead; SQLite's
-- tables are small).
CREATE INDEX person_status_change ON person_status (change_seq);
