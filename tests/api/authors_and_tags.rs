//! Public authors and tags (only those with published work), and the editors' tag routes.

use masthead::auth::Role;
use serde_json::json;

use crate::harness::{Backend, spawn};

backend_tests!(
    counts_sort_and_related_articles,
    public_authors_are_those_with_published_work,
    no_public_route_reveals_an_email,
    public_tags_are_those_on_published_articles,
    editors_manage_tags,
);

async fn public_authors_are_those_with_published_work(backend: Backend) {
    let app = spawn(backend).await;
    let ada = app.user(Role::Author, "Ada Lovelace").await;
    let _admin = app.user(Role::Admin, "Quiet Admin").await;
    let grace = app.user(Role::Author, "Grace Hopper").await;
    app.draft(&grace, json!({"title": "Unfinished", "body_markdown": ""})).await;
    assert_eq!(app.get("/api/v1/authors").await.json()["meta"]["total"], 0);

    app.published(&ada, json!({"title": "Notes", "body_markdown": ""})).await;
    let list = app.get("/api/v1/authors").await;
    list.assert_status(200);
    assert_eq!(
        list.json(),
        json!({
            "data": [{"slug": "ada-lovelace", "name": "Ada Lovelace", "bio": null, "avatar_url": null, "article_count": 1}],
            "meta": {"page": 1, "per_page": 20, "total": 1, "total_pages": 1}
        })
    );
    let one = app.get("/api/v1/authors/ada-lovelace").await;
    one.assert_status(200);
    assert_eq!(one.json()["data"]["name"], "Ada Lovelace");
    app.get("/api/v1/authors/grace-hopper").await.assert_problem(404);
    app.get("/api/v1/authors/quiet-admin").await.assert_problem(404);
}

async fn no_public_route_reveals_an_email(backend: Backend) {
    let app = spawn(backend).await;
    let ada = app.user(Role::Author, "Ada Lovelace").await;
    let article = app.published(&ada, json!({"title": "Notes", "body_markdown": "Text", "tags": ["Math"]})).await;
    let slug = article["slug"].as_str().unwrap();
    for path in [
        "/api/v1/articles".to_string(),
        format!("/api/v1/articles/{slug}"),
        "/api/v1/authors".to_string(),
        "/api/v1/authors/ada-lovelace".to_string(),
        "/api/v1/tags".to_string(),
        "/api/v1/tags/math".to_string(),
        "/api/v1/articles?author=ada-lovelace".to_string(),
    ] {
        let response = app.get(&path).await;
        response.assert_status(200);
        let text = response.text();
        assert!(!text.contains("example.com") && !text.contains("email"), "{path} leaks: {text}");
        assert!(!text.contains("password") && !text.contains("argon2"), "{path} leaks: {text}");
    }
}

async fn public_tags_are_those_on_published_articles(backend: Backend) {
    let app = spawn(backend).await;
    let author = app.user(Role::Author, "Writer").await;
    app.published(&author, json!({"title": "One", "body_markdown": "", "tags": ["Zeta", "Alpha"]})).await;
    app.draft(&author, json!({"title": "Two", "body_markdown": "", "tags": ["Hidden"]})).await;
    let list = app.get("/api/v1/tags").await;
    list.assert_status(200);
    assert_eq!(
        list.json(),
        json!({
            "data": [
                {"slug": "alpha", "name": "Alpha", "description": null, "article_count": 1},
                {"slug": "zeta", "name": "Zeta", "description": null, "article_count": 1}
            ],
            "meta": {"page": 1, "per_page": 20, "total": 2, "total_pages": 1}
        })
    );
    app.get("/api/v1/tags/alpha").await.assert_status(200);
    app.get("/api/v1/tags/hidden").await.assert_problem(404);
    app.get("/api/v1/tags/nothing").await.assert_problem(404);
}

async fn editors_manage_tags(backend: Backend) {
    let app = spawn(backend).await;
    let editor = app.user(Role::Editor, "Eddie").await;

    let created = app
        .post_as(&editor, "/api/v1/admin/tags", json!({"name": " Open Source ", "description": "Code to share."}))
        .await;
    created.assert_status(201);
    assert_eq!(created.header("cache-control"), Some("private, no-store"));
    let tag = created.json()["data"].clone();
    assert_eq!(tag["slug"], "open-source");
    assert_eq!(tag["name"], "Open Source");
    assert_eq!(tag["description"], "Code to share.");
    assert!(tag["created_at"].as_str().unwrap().ends_with('Z'));
    let path = format!("/api/v1/admin/tags/{}", tag["id"]);
    assert_eq!(created.header("location"), Some(path.as_str()));
    let read = app.get_as(&editor, &path).await;
    read.assert_status(200);
    assert_eq!(read.json()["data"], tag);
    app.get_as(&editor, "/api/v1/admin/tags/999999").await.assert_problem(404);

    // An article naming the tag by any spelling of its slug reuses it.
    let article = app.draft(&editor, json!({"title": "T", "body_markdown": "", "tags": ["open source"]})).await;
    assert_eq!(article["tags"][0]["name"], "Open Source");

    app.post_as(&editor, "/api/v1/admin/tags", json!({"name": "open-source"})).await.assert_problem(409);
    app.post_as(&editor, "/api/v1/admin/tags", json!({"name": "Other", "slug": "open-source"}))
        .await
        .assert_problem(409);
    let problem =
        app.post_as(&editor, "/api/v1/admin/tags", json!({"name": "", "slug": "Bad Slug"})).await.assert_problem(422);
    assert_eq!(problem["errors"].as_array().unwrap().len(), 2);

    let updated = app.patch_as(&editor, &path, json!({"name": "FOSS", "slug": "foss", "description": null})).await;
    updated.assert_status(200);
    assert_eq!(updated.json()["data"]["slug"], "foss");
    assert_eq!(updated.json()["data"]["description"], serde_json::Value::Null);
    let article = app.get_as(&editor, &format!("/api/v1/admin/articles/{}", article["id"])).await.json();
    assert_eq!(article["data"]["tags"][0]["slug"], "foss");

    let list = app.get_as(&editor, "/api/v1/admin/tags").await.json();
    assert_eq!(list["meta"]["total"], 1);
    assert_eq!(list["data"][0]["name"], "FOSS");

    app.delete_as(&editor, &path).await.assert_status(204);
    app.delete_as(&editor, &path).await.assert_problem(404);
    app.patch_as(&editor, &path, json!({"name": "x"})).await.assert_problem(404);
    let article = app.get_as(&editor, &format!("/api/v1/admin/articles/{}", article["data"]["id"])).await.json();
    assert_eq!(article["data"]["tags"], json!([]));
}

async fn counts_sort_and_related_articles(backend: Backend) {
    let app = spawn(backend).await;
    let ada = app.user(Role::Author, "Ada").await;
    let zed = app.user(Role::Author, "Zed").await;
    app.published(&ada, json!({"title": "A", "slug": "a", "body_markdown": "", "tags": ["x", "y", "z"]})).await;
    app.published(&zed, json!({"title": "B", "slug": "b", "body_markdown": "", "tags": ["x", "y"]})).await;
    app.published(&zed, json!({"title": "C", "slug": "c", "body_markdown": "", "tags": ["z"]})).await;
    app.published(&zed, json!({"title": "D", "slug": "d", "body_markdown": "", "tags": ["other"]})).await;
    app.draft(&ada, json!({"title": "E", "slug": "e", "body_markdown": "", "tags": ["x", "y", "z"]})).await;

    let names = |body: serde_json::Value, key: &str| -> Vec<(String, i64)> {
        body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| (i[key].as_str().unwrap().to_string(), i["article_count"].as_i64().unwrap()))
            .collect()
    };
    let by_name = app.get("/api/v1/authors").await.json();
    assert_eq!(names(by_name, "name"), [("Ada".to_string(), 1), ("Zed".to_string(), 3)]);
    let by_count = app.get("/api/v1/authors?sort=-article_count").await.json();
    assert_eq!(names(by_count, "name")[0], ("Zed".to_string(), 3));
    let tags = app.get("/api/v1/tags?sort=-article_count").await.json();
    assert_eq!(
        names(tags, "slug"),
        [("x".to_string(), 2), ("y".to_string(), 2), ("z".to_string(), 2), ("other".to_string(), 1)]
    );
    assert_eq!(app.get("/api/v1/tags/x").await.json()["data"]["article_count"], 2, "drafts do not count");
    assert_eq!(app.get("/api/v1/authors/ada").await.json()["data"]["article_count"], 1);

    // Related: most shared tags first (B shares two with A, C one), never itself, never drafts.
    let related = app.get("/api/v1/articles/a/related").await;
    related.assert_status(200);
    let related_body = related.json();
    let slugs: Vec<&str> =
        related_body["data"].as_array().unwrap().iter().map(|i| i["slug"].as_str().unwrap()).collect();
    assert_eq!(slugs, ["b", "c"]);
    assert!(related.header("etag").is_some());
    assert_eq!(app.get("/api/v1/articles/a/related?limit=1").await.json()["data"].as_array().unwrap().len(), 1);
    assert_eq!(app.get("/api/v1/articles/d/related").await.json()["data"], json!([]));
    app.get("/api/v1/articles/e/related").await.assert_problem(404);
    app.get("/api/v1/articles/a/related?limit=21").await.assert_problem(422);
}
