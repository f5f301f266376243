//! Public authors and tags (only those with published work), and the editors' tag routes.

use masthead::auth::Role;
use serde_json::json;

use crate::harness::{Backend, spawn};

backend_tests!(
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
            "data": [{"slug": "ada-lovelace", "name": "Ada Lovelace", "bio": null, "avatar_url": null}],
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
                {"slug": "alpha", "name": "Alpha", "description": null},
                {"slug": "zeta", "name": "Zeta", "description": null}
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
