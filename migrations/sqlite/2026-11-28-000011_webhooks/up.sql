-- Webhooks and their transactional outbox: an event and its deliveries are written in the
-- transaction of the change that causes them, so nothing is sent that was not committed and
-- nothing committed is lost. Dispatchers on every node claim due deliveries with a lease.
CREATE TABLE webhooks (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    created_by BIGINT REFERENCES authors (id) ON DELETE SET NULL,
    url TEXT NOT NULL,
    description TEXT,
    -- Event types separated by spaces, or `*` for all.
    events TEXT NOT NULL,
    -- `whsec_` + base64; kept to sign with. The previous one also signs until it expires (rotation).
    secret TEXT NOT NULL,
    previous_secret TEXT,
    previous_secret_until TIMESTAMP,
    active BOOLEAN NOT NULL,
    disabled_reason TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE webhook_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    -- The Standard Webhooks `webhook-id`: the same for every attempt and redelivery.
    message_id TEXT NOT NULL UNIQUE,
    event_type TEXT NOT NULL,
    -- The signed body, exactly as sent.
    payload TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE webhook_deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    webhook_id BIGINT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id BIGINT NOT NULL REFERENCES webhook_events (id) ON DELETE CASCADE,
    -- pending, succeeded or failed.
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP,
    -- While a dispatcher holds the delivery; another may take it once this has passed.
    lease_until TIMESTAMP,
    last_attempt_at TIMESTAMP,
    response_status INTEGER,
    response_body TEXT,
    latency_ms INTEGER,
    error TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_webhook_idx ON webhook_deliveries (webhook_id, id);
CREATE INDEX webhook_deliveries_event_idx ON webhook_deliveries (event_id);

-- Whether `article.published` was sent for the article's current publication. Scheduled articles
-- wait with FALSE until their time comes; articles already public before this migration count as
-- announced, so that nothing old fires.
ALTER TABLE articles ADD COLUMN publication_announced BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE articles SET publication_announced = TRUE
    WHERE status = 'published' AND published_at <= strftime('%Y-%m-%d %H:%M:%f', 'now');
CREATE INDEX articles_unannounced_idx ON articles (published_at)
    WHERE status = 'published' AND NOT publication_announced;
