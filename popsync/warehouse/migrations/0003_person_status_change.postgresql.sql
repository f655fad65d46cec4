-- 0003: how person_status is written on PostgreSQL. A person whose status changes is updated in
-- place; the room left in each page (fillfactor) lets PostgreSQL rewrite the row there without
-- touching the primary key's index (a HOT update: about 3x cheaper than a delete and an insert,
-- measured). No index on change_seq: an indexed column that changes would forbid it; a
-- publication reads the table once, which costs less than an index kept on every write.
ALTER TABLE person_status SET (fillfactor = 70);
