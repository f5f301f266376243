DROP INDEX articles_search_idx;
ALTER TABLE articles DROP COLUMN search;
ALTER TABLE articles ADD COLUMN search tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('simple', title), 'A')
    || setweight(to_tsvector('simple', coalesce(excerpt, derived_excerpt)), 'B')
    || setweight(to_tsvector('simple', body_text), 'C')
) STORED;
CREATE INDEX articles_search_idx ON articles USING GIN (search);
DROP TEXT SEARCH CONFIGURATION masthead_search;
