ALTER TABLE articles DROP COLUMN comments_changed_at;
DROP INDEX comments_created_idx;
DROP INDEX comments_status_idx;
DROP INDEX comments_email_idx;
DROP INDEX comments_client_idx;
ALTER TABLE comments DROP COLUMN removed_at;
