DROP INDEX articles_cover_image;
ALTER TABLE articles DROP COLUMN cover_image_id;
DROP TABLE media;
