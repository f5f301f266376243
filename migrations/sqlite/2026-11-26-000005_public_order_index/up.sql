-- Nothing to change on SQLite: its planner treats `deleted_at IS NULL` as an equality, so the index
-- of migration 000004, (status, deleted_at, published_at, id), already returns the public list in
-- order. PostgreSQL needed a differently shaped index (see its migration of the same name); this one
-- keeps the two backends' migration histories in step.
SELECT 1;
