DROP TABLE integration_tokens;
