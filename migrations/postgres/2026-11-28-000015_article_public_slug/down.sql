ALTER TABLE articles DROP COLUMN public_slug;
