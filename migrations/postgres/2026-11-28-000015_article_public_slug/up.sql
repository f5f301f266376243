-- The slug an article had when it was last public: a slug readers saw stays the article's and
-- redirects to it when the slug changes (also after the article was unpublished), while a slug
-- it had only while not public (a draft's, a scheduled article's) is never kept or shown.
ALTER TABLE articles ADD COLUMN public_slug TEXT;
UPDATE articles SET public_slug = slug WHERE publication_announced;
