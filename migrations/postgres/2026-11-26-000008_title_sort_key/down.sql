DROP INDEX articles_title_key_idx;
ALTER TABLE articles DROP COLUMN title_key;
