-- Long-lived credentials for machines (build servers, importers): a keyed hash of the token only,
-- never the token. Revoked rows are kept, so that an owner sees what was revoked and when.
CREATE TABLE integration_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    owner_id BIGINT NOT NULL REFERENCES authors (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    scopes TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    token_prefix TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP,
    last_used_at TIMESTAMP,
    revoked_at TIMESTAMP
);
CREATE INDEX integration_tokens_owner_idx ON integration_tokens (owner_id, id);
