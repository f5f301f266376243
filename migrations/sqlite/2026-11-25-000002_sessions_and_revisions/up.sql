-- What each revision changed (a JSON array of field names), for the history view.
ALTER TABLE article_revisions ADD COLUMN changes TEXT NOT NULL DEFAULT '[]';
-- Why the revision exists beyond an edit: "created", "restored from revision 3".
ALTER TABLE article_revisions ADD COLUMN note TEXT;

-- Failed logins, keyed by client address and by account, shared by every node through the
-- database so that adding nodes does not multiply an attacker's attempts.
CREATE TABLE login_failures (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    throttle_key TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX login_failures_key_idx ON login_failures (throttle_key, created_at);

-- The editors' list filters on the trash and orders by last change.
CREATE INDEX articles_deleted_idx ON articles (deleted_at, updated_at DESC);
