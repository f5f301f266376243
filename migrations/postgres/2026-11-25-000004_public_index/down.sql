DROP INDEX articles_public_idx;
CREATE INDEX articles_public_idx ON articles (status, published_at DESC, id DESC);
