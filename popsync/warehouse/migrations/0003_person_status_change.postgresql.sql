-- 0003: what a publication reads of person_status, the people changed since a refresh. A person
-- whose status changes is written again at the end of the table with the new change_seq, so the
-- column follows the table's order: a BRIN index finds the recent changes at almost no cost per
-- row written (a B-tree on it made the refresh of 570k people about 20% slower).
CREATE INDEX person_status_change ON person_status USING brin (change_seq);
