DROP TABLE refresh_tokens;
DROP TABLE comments;
DROP TABLE article_revisions;
DROP TABLE article_tags;
DROP TABLE tags;
DROP TABLE article_authors;
DROP TABLE articles;
DROP TABLE authors;
