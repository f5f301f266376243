ALTER TABLE import_sources DROP COLUMN source_version;
