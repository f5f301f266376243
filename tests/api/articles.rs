//! Articles: the editor flow from draft to deletion, and what the public sees of it.

use masthead::auth::Role;
use serde_json::json;

use crate::harness::{Backend, spawn};

backend_tests!(
    editor_flow_from_draft_to_deletion,
    slugs_are_derived_transliterated_and_unique,
    explicit_slugs_are_checked,
    validation_names_every_invalid_field,
    markdown_is_rendered_and_sanitized,
    public_list_is_newest_first_paginated_and_filtered,
    list_parameters_are_checked,
    patch_changes_only_what_is_sent,
    roles_and_ownership_are_enforced,
    editor_list_shows_drafts_to_their_owners,
    a_new_article_is_checked_slug_then_byline_then_tags,
);

async fn editor_flow_from_draft_to_deletion(backend: Backend) {
    let app = spawn(backend).await;
    let editor = app.user(Role::Editor, "Ada Lovelace").await;

    // A draft with Markdown and tags: visible to editors, absent from public routes.
    let created = app
        .post_as(
            &editor,
            "/api/v1/admin/articles",
            json!({
                "title": "Engines of “thought” — a note",
                "body_markdown": "# Notes\n\nThe engine *weaves* algebraic patterns — as the loom weaves flowers.",
                "tags": ["Computing", "History"]
            }),
        )
        .await;
    created.assert_status(201);
    assert_eq!(created.header("cache-control"), Some("private, no-store"));
    let draft = created.json()["data"].clone();
    let id = draft["id"].as_i64().unwrap();
    assert_eq!(created.header("location"), Some(format!("/api/v1/admin/articles/{id}").as_str()));
    assert_eq!(draft["status"], "draft");
    assert_eq!(draft["slug"], "engines-of-thought-a-note");
    assert_eq!(draft["version"], 1);
    assert_eq!(draft["published_at"], serde_json::Value::Null);
    assert_eq!(draft["authors"][0]["slug"], "ada-lovelace");
    assert_eq!(
        draft["tags"],
        json!([
            {"slug": "computing", "name": "Computing", "description": null},
            {"slug": "history", "name": "History", "description": null}
        ])
    );
    app.get("/api/v1/articles/engines-of-thought-a-note").await.assert_problem(404);
    assert_eq!(app.get("/api/v1/articles").await.json()["meta"]["total"], 0);
    assert_eq!(app.get_as(&editor, &format!("/api/v1/admin/articles/{id}")).await.json()["data"]["status"], "draft");

    // Published: listed and readable by slug, with byline, tags and HTML, Unicode intact.
    let published = app.post_as(&editor, &format!("/api/v1/admin/articles/{id}/publish"), json!(null)).await;
    published.assert_status(200);
    let published = published.json()["data"].clone();
    assert_eq!(published["status"], "published");
    assert_eq!(published["version"], 2);
    let published_at = published["published_at"].as_str().unwrap().to_string();
    assert!(published_at.ends_with('Z'), "RFC 3339 in UTC: {published_at}");

    let list = app.get("/api/v1/articles").await;
    list.assert_status(200);
    let list = list.json();
    assert_eq!(list["meta"], json!({"page": 1, "per_page": 20, "total": 1, "total_pages": 1, "next_cursor": null}));
    assert_eq!(list["data"][0]["slug"], "engines-of-thought-a-note");
    assert!(list["data"][0].get("body_html").is_none(), "lists carry no body");

    let article = app.get("/api/v1/articles/engines-of-thought-a-note").await;
    article.assert_status(200);
    assert!(article.header("content-type").unwrap().starts_with("application/json"));
    let article = article.json()["data"].clone();
    assert_eq!(article["title"], "Engines of “thought” — a note");
    assert_eq!(
        article["body_html"],
        "<h1>Notes</h1>\n<p>The engine <em>weaves</em> algebraic patterns — as the loom weaves flowers.</p>\n"
    );
    assert_eq!(article["excerpt"], "The engine weaves algebraic patterns — as the loom weaves flowers.");
    assert_eq!(article["word_count"], 11);
    assert_eq!(article["reading_time_minutes"], 1);
    assert_eq!(article["published_at"], published_at);
    assert_eq!(
        article["author"],
        json!({"slug": "ada-lovelace", "name": "Ada Lovelace", "bio": null, "avatar_url": null})
    );
    assert_eq!(article["authors"], json!([article["author"]]));
    assert_eq!(article["tags"][1]["slug"], "history");
    assert!(article.get("status").is_none() && article.get("body_markdown").is_none());

    // Edited: the public sees the change.
    let edited = app
        .patch_as(&editor, &format!("/api/v1/admin/articles/{id}"), json!({"excerpt": "On the engine and the loom."}))
        .await;
    edited.assert_status(200);
    assert_eq!(edited.json()["data"]["version"], 3);
    assert_eq!(
        app.get("/api/v1/articles/engines-of-thought-a-note").await.json()["data"]["excerpt"],
        "On the engine and the loom."
    );

    // Unpublished: gone from public routes, back to draft, first publication time kept.
    let unpublished = app.post_as(&editor, &format!("/api/v1/admin/articles/{id}/unpublish"), json!(null)).await;
    unpublished.assert_status(200);
    assert_eq!(unpublished.json()["data"]["status"], "draft");
    assert_eq!(unpublished.json()["data"]["published_at"], published_at);
    app.get("/api/v1/articles/engines-of-thought-a-note").await.assert_problem(404);
    assert_eq!(app.get("/api/v1/articles").await.json()["data"], json!([]));

    // Deleted: first to the trash, then for good.
    let deleted = app.delete_as(&editor, &format!("/api/v1/admin/articles/{id}")).await;
    deleted.assert_status(204);
    assert!(deleted.body.is_empty());
    assert_eq!(app.get_as(&editor, &format!("/api/v1/admin/articles/{id}")).await.json()["data"]["status"], "trashed");
    app.delete_as(&editor, &format!("/api/v1/admin/articles/{id}?permanent=true")).await.assert_status(204);
    app.get_as(&editor, &format!("/api/v1/admin/articles/{id}")).await.assert_problem(404);
    app.delete_as(&editor, &format!("/api/v1/admin/articles/{id}")).await.assert_problem(404);
}

async fn slugs_are_derived_transliterated_and_unique(backend: Backend) {
    let app = spawn(backend).await;
    let author = app.user(Role::Author, "Writer").await;
    let body = json!({"title": "Über Straße: ¿qué tal?", "body_markdown": "x"});
    assert_eq!(app.draft(&author, body.clone()).await["slug"], "uber-strasse-que-tal");
    assert_eq!(app.draft(&author, body.clone()).await["slug"], "uber-strasse-que-tal-2");
    assert_eq!(app.draft(&author, body).await["slug"], "uber-strasse-que-tal-3");
    assert_eq!(app.draft(&author, json!({"title": "¿?!", "body_markdown": ""})).await["slug"], "article");
}

async fn explicit_slugs_are_checked(backend: Backend) {
    let app = spawn(backend).await;
    let author = app.user(Role::Author, "Writer").await;
    let first = app.draft(&author, json!({"title": "One", "body_markdown": "", "slug": "my-slug"})).await;
    assert_eq!(first["slug"], "my-slug");

    let taken = app
        .post_as(&author, "/api/v1/admin/articles", json!({"title": "Two", "body_markdown": "", "slug": "my-slug"}))
        .await
        .assert_problem(409);
    assert_eq!(taken["type"], "urn:masthead:problem:conflict");
    assert!(taken["detail"].as_str().unwrap().contains("my-slug"));

    let second = app.draft(&author, json!({"title": "Two", "body_markdown": ""})).await;
    let second_id = second["id"].as_i64().unwrap();
    app.patch_as(&author, &format!("/api/v1/admin/articles/{second_id}"), json!({"slug": "my-slug"}))
        .await
        .assert_problem(409);
    // Keeping one's own slug is not a conflict.
    app.patch_as(&author, &format!("/api/v1/admin/articles/{second_id}"), json!({"slug": "two"}))
        .await
        .assert_status(200);

    for bad in ["Has Spaces", "UPPER", "trailing-", "a--b", "é"] {
        let problem = app
            .post_as(&author, "/api/v1/admin/articles", json!({"title": "T", "body_markdown": "", "slug": bad}))
            .await
            .assert_problem(422);
        assert_eq!(problem["errors"][0]["field"], "slug", "{bad}");
    }
    // Nothing was written by the refused requests.
    assert_eq!(app.get_as(&author, "/api/v1/admin/articles").await.json()["meta"]["total"], 2);
}

async fn validation_names_every_invalid_field(backend: Backend) {
    let app = spawn(backend).await;
    let author = app.user(Role::Author, "Writer").await;
    let problem = app
        .post_as(
            &author,
            "/api/v1/admin/articles",
            json!({
                "title": "   ",
                "body_markdown": "ok",
                "excerpt": "e".repeat(501),
                "tags": ["fine", "", "x".repeat(51)]
            }),
        )
        .await
        .assert_problem(422);
    assert_eq!(problem["type"], "urn:masthead:problem:validation");
    let fields: Vec<&str> =
        problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["title", "excerpt", "tags[1]", "tags[2]"]);
    assert!(problem["errors"][0]["message"].as_str().unwrap().contains("1 to 200"));

    let too_many: Vec<String> = (0..21).map(|i| format!("tag {i}")).collect();
    let problem = app
        .post_as(&author, "/api/v1/admin/articles", json!({"title": "T", "body_markdown": "", "tags": too_many}))
        .await
        .assert_problem(422);
    assert_eq!(problem["errors"][0]["field"], "tags");

    let long_title = "t".repeat(201);
    let problem = app
        .post_as(&author, "/api/v1/admin/articles", json!({"title": long_title, "body_markdown": ""}))
        .await
        .assert_problem(422);
    assert_eq!(problem["errors"][0]["field"], "title");
    // No tag or article was created by the refused requests.
    assert_eq!(app.get_as(&author, "/api/v1/admin/tags").await.json()["meta"]["total"], 0);
    assert_eq!(app.get_as(&author, "/api/v1/admin/articles").await.json()["meta"]["total"], 0);
    // A name with nothing to transliterate still gets a slug of its own.
    let odd = app.draft(&author, json!({"title": "Odd", "body_markdown": "", "tags": ["!!!", "???"]})).await;
    let odd_slugs: Vec<&str> = odd["tags"].as_array().unwrap().iter().map(|t| t["slug"].as_str().unwrap()).collect();
    assert!(odd_slugs.len() == 2 && odd_slugs.iter().all(|s| s.starts_with("tag-")) && odd_slugs[0] != odd_slugs[1]);
}

async fn markdown_is_rendered_and_sanitized(backend: Backend) {
    let app = spawn(backend).await;
    let author = app.user(Role::Author, "Writer").await;
    let markdown = "Safe **bold** and [a link](https://example.com).\n\n\
        <script>alert('x')</script>\n\n\
        <img src=x onerror=alert(1)>\n\n\
        [click](javascript:alert(1)) <a href=\"data:text/html,hi\">data</a>\n\n\
        <svg onload=alert(1)><circle/></svg>\n\n\
        | a | b |\n|---|---|\n| 1 | 2 |\n";
    let article = app.published(&author, json!({"title": "XSS", "body_markdown": markdown})).await;
    let html =
        app.get(&format!("/api/v1/articles/{}", article["slug"].as_str().unwrap())).await.json()["data"]["body_html"]
            .as_str()
            .unwrap()
            .to_string();
    assert!(html.contains("<strong>bold</strong>"), "{html}");
    assert!(html.contains("<a href=\"https://example.com\" rel=\"noopener noreferrer\">a link</a>"), "{html}");
    assert!(html.contains("<table>"), "{html}");
    for forbidden in ["<script", "onerror", "javascript:", "data:text", "<svg", "onload"] {
        assert!(!html.contains(forbidden), "`{forbidden}` survived: {html}");
    }
}

async fn public_list_is_newest_first_paginated_and_filtered(backend: Backend) {
    let app = spawn(backend).await;
    let ada = app.user(Role::Author, "Ada").await;
    let grace = app.user(Role::Author, "Grace").await;
    for i in 1..=3 {
        app.published(&ada, json!({"title": format!("Ada {i}"), "body_markdown": "b", "tags": ["Math"]})).await;
    }
    app.published(&grace, json!({"title": "Grace 1", "body_markdown": "b", "tags": ["Compilers", "math"]})).await;
    app.draft(&grace, json!({"title": "Grace draft", "body_markdown": "b", "tags": ["Math"]})).await;

    let titles = |body: serde_json::Value| -> Vec<String> {
        body["data"].as_array().unwrap().iter().map(|a| a["title"].as_str().unwrap().to_string()).collect()
    };
    let all = app.get("/api/v1/articles").await.json();
    assert_eq!(titles(all), ["Grace 1", "Ada 3", "Ada 2", "Ada 1"]);

    let page2 = app.get("/api/v1/articles?page=2&per_page=3").await.json();
    assert_eq!(page2["meta"], json!({"page": 2, "per_page": 3, "total": 4, "total_pages": 2, "next_cursor": null}));
    assert_eq!(titles(page2), ["Ada 1"]);
    let beyond = app.get("/api/v1/articles?page=99").await.json();
    assert_eq!(beyond["data"], json!([]));
    assert_eq!(beyond["meta"]["total"], 4);

    assert_eq!(titles(app.get("/api/v1/articles?tag=math").await.json()), ["Grace 1", "Ada 3", "Ada 2", "Ada 1"]);
    assert_eq!(titles(app.get("/api/v1/articles?tag=compilers").await.json()), ["Grace 1"]);
    assert_eq!(titles(app.get("/api/v1/articles?author=grace").await.json()), ["Grace 1"]);
    assert_eq!(titles(app.get("/api/v1/articles?author=ada&tag=math&per_page=2").await.json()), ["Ada 3", "Ada 2"]);
    assert_eq!(app.get("/api/v1/articles?tag=nope").await.json()["meta"]["total"], 0);
}

async fn list_parameters_are_checked(backend: Backend) {
    let app = spawn(backend).await;
    for (query, field) in
        [("per_page=0", "per_page"), ("per_page=101", "per_page"), ("page=0", "page"), ("page=-3", "page")]
    {
        let problem = app.get(&format!("/api/v1/articles?{query}")).await.assert_problem(422);
        assert_eq!(problem["errors"][0]["field"], field, "{query}");
    }
    let problem = app.get("/api/v1/articles?per_page=ten").await.assert_problem(400);
    assert!(problem["detail"].as_str().unwrap().contains("per_page"), "{problem}");
    let problem = app.get("/api/v1/articles?colour=blue").await.assert_problem(400);
    assert!(problem["detail"].as_str().unwrap().contains("colour"), "{problem}");
    app.get("/api/v1/articles?per_page=100&page=1").await.assert_status(200);
    app.get("/api/v1/authors?per_page=101").await.assert_problem(422);
    app.get("/api/v1/tags?order=name").await.assert_problem(400);
    app.get("/api/v1/tags?sort=popularity").await.assert_problem(400);
}

async fn patch_changes_only_what_is_sent(backend: Backend) {
    let app = spawn(backend).await;
    let author = app.user(Role::Author, "Writer").await;
    let article = app
        .draft(
            &author,
            json!({"title": "Title", "body_markdown": "First words here.", "excerpt": "Written", "tags": ["A", "B"]}),
        )
        .await;
    let path = format!("/api/v1/admin/articles/{}", article["id"]);

    let unchanged = app.patch_as(&author, &path, json!({})).await;
    unchanged.assert_status(200);
    let unchanged = unchanged.json()["data"].clone();
    assert_eq!(unchanged["title"], "Title");
    assert_eq!(unchanged["tags"].as_array().unwrap().len(), 2);

    let changed =
        app.patch_as(&author, &path, json!({"excerpt": null, "tags": ["C"], "body_markdown": "New *body*."})).await;
    changed.assert_status(200);
    let changed = changed.json()["data"].clone();
    assert_eq!(changed["title"], "Title");
    assert_eq!(changed["slug"], "title");
    assert_eq!(changed["excerpt"], serde_json::Value::Null);
    assert_eq!(changed["display_excerpt"], "New body.");
    assert_eq!(changed["body_html"], "<p>New <em>body</em>.</p>\n");
    assert_eq!(changed["word_count"], 2);
    assert_eq!(changed["tags"], json!([{"slug": "c", "name": "C", "description": null}]));
    assert!(changed["version"].as_i64().unwrap() > unchanged["version"].as_i64().unwrap());

    let problem = app.patch_as(&author, &path, json!({"title": ""})).await.assert_problem(422);
    assert_eq!(problem["errors"][0]["field"], "title");
    app.patch_as(&author, &path, json!({"status": "published"})).await.assert_problem(400);
    app.patch_as(&author, "/api/v1/admin/articles/999999", json!({"title": "x"})).await.assert_problem(404);
    assert_eq!(app.get_as(&author, &path).await.json()["data"]["status"], "draft");
}

async fn roles_and_ownership_are_enforced(backend: Backend) {
    let app = spawn(backend).await;
    let contributor = app.user(Role::Contributor, "Cora").await;
    let author = app.user(Role::Author, "Arthur").await;
    let other_author = app.user(Role::Author, "Olga").await;
    let editor = app.user(Role::Editor, "Eddie").await;

    // Contributors write drafts with existing tags only, and never publish.
    app.draft(&author, json!({"title": "Seed", "body_markdown": "", "tags": ["Existing"]})).await;
    let problem = app
        .post_as(
            &contributor,
            "/api/v1/admin/articles",
            json!({"title": "C", "body_markdown": "", "tags": ["Brand new"]}),
        )
        .await
        .assert_problem(422);
    assert!(problem["errors"][0]["message"].as_str().unwrap().contains("Brand new"));
    let draft = app.draft(&contributor, json!({"title": "C", "body_markdown": "", "tags": ["existing"]})).await;
    let path = format!("/api/v1/admin/articles/{}", draft["id"]);
    app.post_as(&contributor, &format!("{path}/publish"), json!(null)).await.assert_problem(403);
    app.patch_as(&contributor, &path, json!({"title": "C2"})).await.assert_status(200);

    // Someone else's article does not exist for authors; editors act on everything.
    app.get_as(&other_author, &path).await.assert_problem(404);
    app.patch_as(&other_author, &path, json!({"title": "mine now"})).await.assert_problem(404);
    app.delete_as(&other_author, &path).await.assert_problem(404);
    app.post_as(&editor, &format!("{path}/publish"), json!(null)).await.assert_status(200);

    // Once published, the contributor can no longer change it.
    app.patch_as(&contributor, &path, json!({"title": "C3"})).await.assert_problem(403);
    app.delete_as(&contributor, &path).await.assert_problem(403);
    assert_eq!(app.get_as(&editor, &path).await.json()["data"]["title"], "C2");

    // Authors publish their own.
    let own = app.draft(&author, json!({"title": "Mine", "body_markdown": ""})).await;
    app.post_as(&author, &format!("/api/v1/admin/articles/{}/publish", own["id"]), json!(null))
        .await
        .assert_status(200);

    // Tags: contributors read, authors create, editors change and delete.
    app.get_as(&contributor, "/api/v1/admin/tags").await.assert_status(200);
    app.post_as(&contributor, "/api/v1/admin/tags", json!({"name": "Nope"})).await.assert_problem(403);
    let tag = app.post_as(&author, "/api/v1/admin/tags", json!({"name": "Fine"})).await;
    tag.assert_status(201);
    let tag_path = format!("/api/v1/admin/tags/{}", tag.json()["data"]["id"]);
    app.patch_as(&author, &tag_path, json!({"name": "Finer"})).await.assert_problem(403);
    app.delete_as(&author, &tag_path).await.assert_problem(403);
    app.delete_as(&editor, &tag_path).await.assert_status(204);
}

async fn editor_list_shows_drafts_to_their_owners(backend: Backend) {
    let app = spawn(backend).await;
    let author = app.user(Role::Author, "Arthur").await;
    let other = app.user(Role::Author, "Olga").await;
    let editor = app.user(Role::Editor, "Eddie").await;
    app.draft(&author, json!({"title": "A draft", "body_markdown": ""})).await;
    app.published(&author, json!({"title": "A published", "body_markdown": ""})).await;
    app.draft(&other, json!({"title": "O draft", "body_markdown": ""})).await;

    let titles = |body: serde_json::Value| -> Vec<String> {
        body["data"].as_array().unwrap().iter().map(|a| a["title"].as_str().unwrap().to_string()).collect()
    };
    let list = app.get_as(&editor, "/api/v1/admin/articles").await;
    list.assert_status(200);
    assert_eq!(list.header("cache-control"), Some("private, no-store"));
    assert_eq!(titles(list.json()), ["O draft", "A published", "A draft"]);
    assert_eq!(titles(app.get_as(&author, "/api/v1/admin/articles").await.json()), ["A published", "A draft"]);
    assert_eq!(titles(app.get_as(&author, "/api/v1/admin/articles?status=draft").await.json()), ["A draft"]);
    assert_eq!(titles(app.get_as(&editor, "/api/v1/admin/articles?status=published").await.json()), ["A published"]);
    app.get_as(&editor, "/api/v1/admin/articles?status=archived").await.assert_problem(400);
}

/// With several things wrong, a new article is refused for the first in a fixed order: a taken
/// slug (409), then an unknown author on the byline (404), then a tag the caller may not create
/// (422); and nothing of it is kept.
async fn a_new_article_is_checked_slug_then_byline_then_tags(backend: Backend) {
    let app = spawn(backend).await;
    let contributor = app.user(Role::Contributor, "Connie").await;
    app.draft(&contributor, json!({"title": "Taken", "slug": "taken", "body_markdown": ""})).await;
    let create = |body| app.post_as(&contributor, "/api/v1/admin/articles", body);
    let unknown_tag = json!(["never-made"]);
    let with_a_stranger = json!([contributor.id, 999_999]);
    create(
        json!({"title": "A", "slug": "taken", "authors": with_a_stranger, "tags": unknown_tag, "body_markdown": ""}),
    )
    .await
    .assert_problem(409);
    create(json!({"title": "A", "authors": with_a_stranger, "tags": unknown_tag, "body_markdown": ""}))
        .await
        .assert_problem(404);
    create(json!({"title": "A", "tags": unknown_tag, "body_markdown": ""})).await.assert_problem(422);
    let mine = app.get_as(&contributor, "/api/v1/admin/articles").await;
    assert_eq!(mine.json()["meta"]["total"], 1, "nothing of the refused articles was kept");
}
