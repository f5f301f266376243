-- The version of a source's record that was imported (a WordPress post's `post_modified_gmt`, a
-- Ghost post's `updated_at`): a post changed at its source since is updated by the next import,
-- unless it was edited here since.
ALTER TABLE import_sources ADD COLUMN source_version TEXT;
