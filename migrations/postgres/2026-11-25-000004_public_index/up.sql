-- The public list's index, covering the whole visibility rule (status, not deleted, published
-- before now) so that counting and paging the public list never read the table rows; the
-- keyset order (published_at, id) follows.
DROP INDEX articles_public_idx;
CREATE INDEX articles_public_idx ON articles (status, deleted_at, published_at DESC, id DESC);
