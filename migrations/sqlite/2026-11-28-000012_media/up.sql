-- The media library. Each record owns its stored files, named by `storage_key`: the SHA-256 of
-- the bytes as stored (metadata stripped) and a random suffix, so a public URL never changes
-- meaning (it is cached for a year) and deleting one record never takes another's file.
CREATE TABLE media (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    storage_key TEXT NOT NULL UNIQUE,
    content_hash TEXT NOT NULL,
    -- jpeg, png, webp or gif: decided by the bytes.
    format TEXT NOT NULL,
    -- The uploader's file name, sanitised, for display only.
    filename TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    -- Animations are kept as uploaded, without variants.
    animated BOOLEAN NOT NULL,
    alt TEXT,
    caption TEXT,
    -- Where the subject is, from 0 to 1 across and down, for front ends that crop.
    focal_x REAL NOT NULL DEFAULT 0.5,
    focal_y REAL NOT NULL DEFAULT 0.5,
    uploaded_by BIGINT REFERENCES authors (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE INDEX media_newest ON media (created_at DESC, id DESC);

-- An article's cover from the library (cover_image_url stays for images hosted elsewhere).
ALTER TABLE articles ADD COLUMN cover_image_id BIGINT REFERENCES media (id) ON DELETE SET NULL;
CREATE INDEX articles_cover_image ON articles (cover_image_id) WHERE cover_image_id IS NOT NULL;
