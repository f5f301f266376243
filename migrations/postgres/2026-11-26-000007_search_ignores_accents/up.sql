-- Search ignores accents on PostgreSQL too, as it does on SQLite (FTS5 with remove_diacritics):
-- `café` finds `cafe` and the other way round. A text search configuration like 'simple' (no
-- stemming) with the unaccent dictionary before it. unaccent ships with PostgreSQL and is a trusted
-- extension (PostgreSQL 13 and later): the database's owner may install it without superuser rights.
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE TEXT SEARCH CONFIGURATION masthead_search (COPY = simple);
ALTER TEXT SEARCH CONFIGURATION masthead_search
    ALTER MAPPING FOR asciiword, asciihword, hword_asciipart, word, hword, hword_part WITH unaccent, simple;

DROP INDEX articles_search_idx;
ALTER TABLE articles DROP COLUMN search;
ALTER TABLE articles ADD COLUMN search tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('masthead_search', title), 'A')
    || setweight(to_tsvector('masthead_search', coalesce(excerpt, derived_excerpt)), 'B')
    || setweight(to_tsvector('masthead_search', body_text), 'C')
) STORED;
CREATE INDEX articles_search_idx ON articles USING GIN (search);
