DROP INDEX articles_unannounced_idx;
ALTER TABLE articles DROP COLUMN publication_announced;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_events;
DROP TABLE webhooks;
