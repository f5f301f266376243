-- Nothing was changed on SQLite by this migration (see up.sql).
SELECT 1;
