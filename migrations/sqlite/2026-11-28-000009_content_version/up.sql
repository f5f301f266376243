-- Every committed write that changes what the public sees adds one to this counter
-- (`db::write_transaction`), in its own transaction. On SQLite, other processes' response caches
-- follow the counter: `PRAGMA data_version`, which they followed before, moves on every commit,
-- so sessions, login throttling and comments held for moderation emptied every cache too.
-- PostgreSQL nodes are told by `NOTIFY` inside the transaction instead, and do not write this row
-- (one row updated by every content write would serialise them); the table is here so that both
-- backends have the same schema.
CREATE TABLE content_version (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO content_version (id, version) VALUES (1, 0);
