-- `sort=title` ignores case and accents the same way on both backends: it orders by a key that
-- Masthead computes (the title transliterated to ASCII and lowercased, `slugs::sort_key`), where
-- SQL's lower() is ASCII-only on SQLite and left accents in place on both. SQL cannot compute the
-- key, so rows written before this migration start with an empty one, which Masthead fills when
-- it next opens the database (`db::fill_title_keys`).
ALTER TABLE articles ADD COLUMN title_key TEXT NOT NULL DEFAULT '';
CREATE INDEX articles_title_key_idx ON articles (title_key, id);
