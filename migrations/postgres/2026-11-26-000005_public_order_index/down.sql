DROP INDEX articles_public_idx;
CREATE INDEX articles_public_idx ON articles (status, deleted_at, published_at DESC, id DESC);
