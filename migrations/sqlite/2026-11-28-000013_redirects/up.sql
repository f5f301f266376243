-- Redirects: an article's former slugs (kept so that old links keep working and no other article
-- takes them), and paths redirected by hand or by an import (`/2016/01/hello-world/`). Each
-- goes to an article (its current slug, so chains never form) or to a path or URL.
CREATE TABLE redirects (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    -- An article's former slug: its article is `article_id`, and the status is always 301.
    from_slug TEXT UNIQUE,
    -- A path of the front end, as requests spell it (query included, if any).
    from_path TEXT UNIQUE,
    article_id BIGINT REFERENCES articles (id) ON DELETE CASCADE,
    to_path TEXT,
    status INTEGER NOT NULL DEFAULT 301 CHECK (status IN (301, 302, 307, 308)),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK ((from_slug IS NULL) <> (from_path IS NULL)),
    CHECK ((article_id IS NULL) <> (to_path IS NULL)),
    CHECK (from_slug IS NULL OR (article_id IS NOT NULL AND status = 301))
);

CREATE INDEX redirects_article ON redirects (article_id) WHERE article_id IS NOT NULL;
CREATE INDEX redirects_to_path ON redirects (to_path) WHERE to_path IS NOT NULL;
