-- Nothing to change on SQLite: its FTS5 table already folds diacritics (`remove_diacritics 2`,
-- migration 000003). PostgreSQL gained the same in its migration of this name; this one keeps the
-- two backends' migration histories in step.
SELECT 1;
