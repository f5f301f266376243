-- Removing a comment that has replies keeps a placeholder (`removed_at` set, its name, e-mail and
-- text wiped), so that the thread under it still hangs together.
ALTER TABLE comments ADD COLUMN removed_at TIMESTAMP;
-- The per-address rate limit counts a client's recent comments.
CREATE INDEX comments_client_idx ON comments (client_hash, created_at);
-- Returning commenters whose earlier comments were approved.
CREATE INDEX comments_email_idx ON comments (author_email, status);
-- The moderation queue, newest first, by status or not.
CREATE INDEX comments_status_idx ON comments (status, created_at DESC, id DESC);
CREATE INDEX comments_created_idx ON comments (created_at DESC, id DESC);
-- When the article's public comments last changed (one approved, moderated or removed), so that
-- its Last-Modified, which covers `comment_count`, moves with them.
ALTER TABLE articles ADD COLUMN comments_changed_at TIMESTAMP;
