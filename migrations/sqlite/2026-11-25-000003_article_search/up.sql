-- Full-text search over published content: an FTS5 index of title, excerpt and body text, kept in
-- step with `articles` by triggers (so every write path, now and later, updates it). The rowid is
-- the article id. Diacritics are folded: "cafe" finds "café".
CREATE VIRTUAL TABLE article_search USING fts5(title, excerpt, body_text, tokenize = 'unicode61 remove_diacritics 2');

INSERT INTO article_search (rowid, title, excerpt, body_text)
SELECT id, title, coalesce(excerpt, derived_excerpt), body_text FROM articles;

CREATE TRIGGER articles_search_insert AFTER INSERT ON articles BEGIN
    INSERT INTO article_search (rowid, title, excerpt, body_text)
    VALUES (new.id, new.title, coalesce(new.excerpt, new.derived_excerpt), new.body_text);
END;

CREATE TRIGGER articles_search_update AFTER UPDATE OF title, excerpt, derived_excerpt, body_text ON articles BEGIN
    UPDATE article_search
    SET title = new.title, excerpt = coalesce(new.excerpt, new.derived_excerpt), body_text = new.body_text
    WHERE rowid = new.id;
END;

CREATE TRIGGER articles_search_delete AFTER DELETE ON articles BEGIN
    DELETE FROM article_search WHERE rowid = old.id;
END;
