DROP INDEX articles_deleted_idx;
DROP TABLE login_failures;
ALTER TABLE article_revisions DROP COLUMN note;
ALTER TABLE article_revisions DROP COLUMN changes;
