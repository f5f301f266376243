-- What imports brought in: each source record (a WordPress site's post 12, say) and the record it
-- became here, so that importing the same file again imports nothing twice and an interrupted
-- import can be run again to finish. A record deleted here since stays deleted.
CREATE TABLE import_sources (
    -- The source and its site: `wordpress:https://example.com`.
    source TEXT NOT NULL,
    -- author, tag, post, comment
    kind TEXT NOT NULL,
    source_id TEXT NOT NULL,
    local_id BIGINT NOT NULL,
    imported_at TIMESTAMP NOT NULL,
    PRIMARY KEY (source, kind, source_id)
);
