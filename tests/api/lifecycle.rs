//! The article lifecycle: scheduling, the trash, bylines, editorial fields, revisions and
//! protection against lost updates.

use actix_web::test::TestRequest;
use masthead::auth::Role;
use serde_json::{Value, json};

use crate::harness::{Backend, spawn};

backend_tests!(
    scheduled_articles_appear_at_their_time,
    backdated_articles_are_public_at_once,
    the_trash_hides_and_restores,
    bylines_are_ordered_and_shared,
    editorial_fields_are_checked_and_shown,
    revisions_record_every_change_of_content,
    stale_writes_are_refused_never_lost,
    the_dashboard_filters,
);

fn titles(body: &Value) -> Vec<String> {
    body["data"].as_array().unwrap().iter().map(|a| a["title"].as_str().unwrap().to_string()).collect()
}

async fn scheduled_articles_appear_at_their_time(backend: Backend) {
    let app = spawn(backend).await;
    let author = app.user(Role::Author, "Arthur").await;
    let draft = app.draft(&author, json!({"title": "Tomorrow's news", "body_markdown": "Soon."})).await;
    let path = format!("/api/v1/admin/articles/{}", draft["id"]);
    let at = app.now() + chrono::Duration::minutes(10);
    let scheduled = app.post_as(&author, &format!("{path}/publish"), json!({"published_at": at.to_rfc3339()})).await;
    scheduled.assert_status(200);
    assert_eq!(scheduled.json()["data"]["status"], "scheduled");
    app.get("/api/v1/articles/tomorrow-s-news").await.assert_problem(404);
    assert_eq!(app.get("/api/v1/articles").await.json()["meta"]["total"], 0);
    assert_eq!(
        titles(&app.get_as(&author, "/api/v1/admin/articles?status=scheduled").await.json()),
        ["Tomorrow's news"]
    );

    app.advance(chrono::Duration::minutes(10) + chrono::Duration::seconds(1));
    // No job ran: the time has simply come.
    app.get("/api/v1/articles/tomorrow-s-news").await.assert_status(200);
    assert_eq!(app.get_as(&author, &path).await.json()["data"]["status"], "published");

    let problem =
        app.post_as(&author, &format!("{path}/publish"), json!({"published_at": "tomorrow"})).await.assert_problem(422);
    assert_eq!(problem["errors"][0]["field"], "published_at");
    app.post_as(&author, &format!("{path}/publish"), json!({"at": "2030-01-01T00:00:00Z"})).await.assert_problem(400);
}

async fn backdated_articles_are_public_at_once(backend: Backend) {
    let app = spawn(backend).await;
    let author = app.user(Role::Author, "Arthur").await;
    let old = app.draft(&author, json!({"title": "From the archive", "body_markdown": ""})).await;
    let new = app.published(&author, json!({"title": "Fresh", "body_markdown": ""})).await;
    let published = app
        .post_as(
            &author,
            &format!("/api/v1/admin/articles/{}/publish", old["id"]),
            json!({"published_at": "1999-12-31T23:59:59Z"}),
        )
        .await;
    assert_eq!(published.json()["data"]["published_at"], "1999-12-31T23:59:59Z");
    assert_eq!(titles(&app.get("/api/v1/articles").await.json()), ["Fresh", "From the archive"]);
    // Republishing without a time keeps the first publication time.
    let path = format!("/api/v1/admin/articles/{}", new["id"]);
    let first = app.get_as(&author, &path).await.json()["data"]["published_at"].clone();
    app.post_as(&author, &format!("{path}/unpublish"), json!(null)).await.assert_status(200);
    let again = app
        .send(
            TestRequest::post()
                .uri(&format!("{path}/publish"))
                .insert_header(("Authorization", format!("Bearer {}", author.token))),
        )
        .await;
    again.assert_status(200);
    assert_eq!(again.json()["data"]["published_at"], first);
}

async fn the_trash_hides_and_restores(backend: Backend) {
    let app = spawn(backend).await;
    let author = app.user(Role::Author, "Arthur").await;
    let editor = app.user(Role::Editor, "Eddie").await;
    let article = app.published(&author, json!({"title": "Oops", "body_markdown": ""})).await;
    let path = format!("/api/v1/admin/articles/{}", article["id"]);

    app.delete_as(&author, &path).await.assert_status(204);
    app.get("/api/v1/articles/oops").await.assert_problem(404);
    assert_eq!(app.get_as(&author, "/api/v1/admin/articles").await.json()["meta"]["total"], 0);
    assert_eq!(titles(&app.get_as(&author, "/api/v1/admin/articles?status=trashed").await.json()), ["Oops"]);
    let trashed = app.get_as(&author, &path).await.json();
    assert_eq!(trashed["data"]["status"], "trashed");
    assert!(trashed["data"]["deleted_at"].is_string());
    // In the trash it cannot be changed or published.
    app.patch_as(&author, &path, json!({"title": "Fixed"})).await.assert_problem(409);
    app.post_as(&author, &format!("{path}/publish"), json!(null)).await.assert_problem(409);
    // Deleting again is harmless.
    app.delete_as(&author, &path).await.assert_status(204);

    let restored = app.post_as(&author, &format!("{path}/restore"), json!(null)).await;
    restored.assert_status(200);
    assert_eq!(restored.json()["data"]["status"], "published");
    assert_eq!(restored.json()["data"]["deleted_at"], Value::Null);
    app.get("/api/v1/articles/oops").await.assert_status(200);

    // Only editors delete for good.
    app.delete_as(&author, &format!("{path}?permanent=true")).await.assert_problem(403);
    app.delete_as(&editor, &format!("{path}?permanent=true")).await.assert_status(204);
    // Gone for good: every route on it is a 404, as a use-after-free check expects.
    app.get_as(&editor, &path).await.assert_problem(404);
    app.patch_as(&editor, &path, json!({"title": "Back?"})).await.assert_problem(404);
    app.get_as(&editor, &format!("{path}/revisions")).await.assert_problem(404);
    app.get_as(&editor, &format!("{path}/revisions/1")).await.assert_problem(404);
    for action in ["publish", "unpublish", "restore", "preview", "revisions/1/restore"] {
        app.post_as(&editor, &format!("{path}/{action}"), json!(null)).await.assert_problem(404);
    }
    app.delete_as(&editor, &path).await.assert_problem(404);
    app.delete_as(&editor, &format!("{path}?permanent=maybe")).await.assert_problem(400);
}

async fn bylines_are_ordered_and_shared(backend: Backend) {
    let app = spawn(backend).await;
    let editor = app.user(Role::Editor, "Eddie").await;
    let ada = app.user(Role::Author, "Ada").await;
    let grace = app.user(Role::Author, "Grace").await;
    let wire =
        app.post_as(&editor, "/api/v1/admin/authors", json!({"name": "Wire Service"})).await.json()["data"]["id"]
            .clone();

    let article = app
        .published(&ada, json!({"title": "Together", "body_markdown": "", "authors": [ada.id, wire, grace.id]}))
        .await;
    let names: Vec<&str> = article["authors"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Ada", "Wire Service", "Grace"]);
    assert_eq!(article["authors"][0]["id"], ada.id);
    let public = app.get("/api/v1/articles/together").await.json();
    assert_eq!(public["data"]["author"]["name"], "Ada");
    assert_eq!(public["data"]["authors"][2]["name"], "Grace");
    assert!(public["data"]["authors"][0].get("id").is_none(), "public bylines carry no ids");
    assert_eq!(titles(&app.get("/api/v1/articles?author=grace").await.json()), ["Together"]);

    // A co-author owns it too.
    let path = format!("/api/v1/admin/articles/{}", article["id"]);
    app.patch_as(&grace, &path, json!({"title": "Together again"})).await.assert_status(200);
    // Authors stay on what they write; editors set any byline.
    let problem = app.patch_as(&grace, &path, json!({"authors": [ada.id]})).await.assert_problem(422);
    assert_eq!(problem["errors"][0]["field"], "authors");
    app.patch_as(&editor, &path, json!({"authors": [grace.id]})).await.assert_status(200);
    app.get_as(&ada, &path).await.assert_problem(404);

    app.patch_as(&editor, &path, json!({"authors": []})).await.assert_problem(422);
    let problem = app.patch_as(&editor, &path, json!({"authors": [999999]})).await.assert_problem(404);
    assert!(problem["detail"].as_str().unwrap().contains("999999"));
    let twice = app.patch_as(&editor, &path, json!({"authors": [grace.id, grace.id]})).await;
    twice.assert_status(200);
    assert_eq!(twice.json()["data"]["authors"].as_array().unwrap().len(), 1);
    app.post_as(
        &ada,
        "/api/v1/admin/articles",
        json!({"title": "Not mine", "body_markdown": "", "authors": [grace.id]}),
    )
    .await
    .assert_problem(422);
}

async fn editorial_fields_are_checked_and_shown(backend: Backend) {
    let app = spawn(backend).await;
    let author = app.user(Role::Author, "Arthur").await;
    let article = app
        .published(
            &author,
            json!({
                "title": "Dressed up", "body_markdown": "one two three",
                "featured": true,
                "cover_image_url": "https://cdn.example.com/cover.jpg", "cover_image_alt": "A cover",
                "seo_title": "Dressed up | Masthead", "seo_description": "All the fields.",
                "canonical_url": "https://example.org/original"
            }),
        )
        .await;
    assert_eq!(article["featured"], true);
    assert_eq!(article["word_count"], 3);
    let public = app.get("/api/v1/articles/dressed-up").await.json()["data"].clone();
    assert_eq!(public["cover_image_alt"], "A cover");
    assert_eq!(public["seo_title"], "Dressed up | Masthead");
    assert_eq!(public["canonical_url"], "https://example.org/original");
    let listed = app.get("/api/v1/articles").await.json()["data"][0].clone();
    assert_eq!(listed["featured"], true);
    assert_eq!(listed["cover_image_url"], "https://cdn.example.com/cover.jpg");
    assert!(listed.get("seo_title").is_none());

    let path = format!("/api/v1/admin/articles/{}", article["id"]);
    let problem = app
        .patch_as(&author, &path, json!({"cover_image_url": "javascript:alert(1)", "canonical_url": "/relative", "seo_title": "t".repeat(201)}))
        .await
        .assert_problem(422);
    let fields: Vec<&str> =
        problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["seo_title", "cover_image_url", "canonical_url"]);
    let cleared = app.patch_as(&author, &path, json!({"cover_image_url": null, "featured": false})).await.json();
    assert_eq!(cleared["data"]["cover_image_url"], Value::Null);
    assert_eq!(cleared["data"]["cover_image_alt"], "A cover");
    assert_eq!(cleared["data"]["featured"], false);
}

async fn revisions_record_every_change_of_content(backend: Backend) {
    let app = spawn(backend).await;
    let author = app.user(Role::Author, "Arthur").await;
    let editor = app.user(Role::Editor, "Eddie").await;
    let article = app.draft(&author, json!({"title": "First", "body_markdown": "Body one.", "tags": ["A"]})).await;
    let path = format!("/api/v1/admin/articles/{}", article["id"]);

    app.patch_as(&author, &path, json!({"title": "Second"})).await.assert_status(200);
    app.patch_as(&author, &path, json!({"featured": true})).await.assert_status(200);
    app.patch_as(&editor, &path, json!({"tags": ["B", "C"], "body_markdown": "Body two."})).await.assert_status(200);

    let history = app.get_as(&author, &format!("{path}/revisions")).await;
    history.assert_status(200);
    let history = history.json();
    assert_eq!(history["meta"]["total"], 3, "featuring is not a change of content: {history}");
    let entries = history["data"].as_array().unwrap();
    assert_eq!(entries[0]["number"], 3);
    assert_eq!(entries[0]["changes"], json!(["body_markdown", "tags"]));
    assert_eq!(entries[0]["editor"], json!({"id": editor.id, "name": "Eddie"}));
    assert_eq!(entries[1]["changes"], json!(["title"]));
    assert_eq!(entries[1]["editor"]["name"], "Arthur");
    assert_eq!(entries[2]["number"], 1);
    assert_eq!(entries[2]["note"], "created");
    assert!(entries[2]["created_at"].as_str().unwrap().ends_with('Z'));

    let first = app.get_as(&author, &format!("{path}/revisions/1")).await;
    first.assert_status(200);
    let first = first.json()["data"].clone();
    assert_eq!(first["title"], "First");
    assert_eq!(first["body_markdown"], "Body one.");
    assert_eq!(first["tags"], json!(["A"]));
    assert_eq!(first["authors"], json!([author.id]));
    app.get_as(&author, &format!("{path}/revisions/9")).await.assert_problem(404);

    let restored = app.post_as(&author, &format!("{path}/revisions/1/restore"), json!(null)).await;
    restored.assert_status(200);
    let restored = restored.json()["data"].clone();
    assert_eq!(restored["title"], "First");
    assert_eq!(restored["body_html"], "<p>Body one.</p>\n");
    assert_eq!(restored["tags"][0]["name"], "A");
    let history = app.get_as(&author, &format!("{path}/revisions")).await.json();
    assert_eq!(history["meta"]["total"], 4);
    assert_eq!(history["data"][0]["note"], "restored from revision 1");
    assert_eq!(history["data"][0]["changes"], json!(["title", "body_markdown", "tags"]));
    // Nothing was overwritten: revision 3 still holds what it held.
    let third = app.get_as(&author, &format!("{path}/revisions/3")).await.json();
    assert_eq!(third["data"]["tags"], json!(["B", "C"]));

    let stranger = app.user(Role::Author, "Stranger").await;
    app.get_as(&stranger, &format!("{path}/revisions")).await.assert_problem(404);
}

async fn stale_writes_are_refused_never_lost(backend: Backend) {
    let app = spawn(backend).await;
    let alice = app.user(Role::Editor, "Alice").await;
    let bob = app.user(Role::Editor, "Bob").await;
    let article = app.draft(&alice, json!({"title": "Shared", "body_markdown": "v1"})).await;
    let path = format!("/api/v1/admin/articles/{}", article["id"]);

    let read = app.get_as(&alice, &path).await;
    let etag = read.header("etag").unwrap().to_string();
    assert_eq!(etag, "\"v1\"");
    assert_eq!(read.json()["data"]["version"], 1);

    // Both read version 1. Alice saves first and wins; Bob is told, with the current version.
    let with_etag = |user: &crate::harness::User, body: Value| {
        TestRequest::patch()
            .uri(&path)
            .insert_header(("Authorization", format!("Bearer {}", user.token)))
            .insert_header(("If-Match", etag.clone()))
            .set_json(body)
    };
    let alice_saves = app.send(with_etag(&alice, json!({"body_markdown": "Alice's words"}))).await;
    alice_saves.assert_status(200);
    assert_eq!(alice_saves.header("etag"), Some("\"v2\""));
    let bob_saves = app.send(with_etag(&bob, json!({"body_markdown": "Bob's words"}))).await;
    let problem = bob_saves.assert_problem(412);
    assert_eq!(problem["type"], "urn:masthead:problem:precondition-failed");
    assert_eq!(problem["current_version"], 2);
    assert_eq!(app.get_as(&alice, &path).await.json()["data"]["body_markdown"], "Alice's words");

    // Bob re-reads, merges and saves with the new ETag: both edits are in the history.
    let merged = app
        .send(
            TestRequest::patch()
                .uri(&path)
                .insert_header(("Authorization", format!("Bearer {}", bob.token)))
                .insert_header(("If-Match", "\"v2\""))
                .set_json(json!({"body_markdown": "Alice's words. Bob's words"})),
        )
        .await;
    merged.assert_status(200);
    let history = app.get_as(&alice, &format!("{path}/revisions")).await.json();
    assert_eq!(history["meta"]["total"], 3, "created, Alice's edit, Bob's merge: {history}");
    assert_eq!(
        app.get_as(&alice, &format!("{path}/revisions/2")).await.json()["data"]["body_markdown"],
        "Alice's words"
    );

    // Without If-Match the last write wins, but the one before is still in the history.
    app.patch_as(&alice, &path, json!({"body_markdown": "Alice again"})).await.assert_status(200);
    app.patch_as(&bob, &path, json!({"body_markdown": "Bob again"})).await.assert_status(200);
    assert_eq!(app.get_as(&alice, &format!("{path}/revisions/4")).await.json()["data"]["body_markdown"], "Alice again");

    // Every write honours If-Match.
    let stale = |method: TestRequest, uri: String| {
        method
            .uri(&uri)
            .insert_header(("Authorization", format!("Bearer {}", alice.token)))
            .insert_header(("If-Match", "\"v1\""))
    };
    for (request, uri) in [
        (TestRequest::post(), format!("{path}/publish")),
        (TestRequest::post(), format!("{path}/unpublish")),
        (TestRequest::delete(), path.clone()),
        (TestRequest::post(), format!("{path}/restore")),
        (TestRequest::post(), format!("{path}/revisions/1/restore")),
    ] {
        app.send(stale(request, uri.clone())).await.assert_problem(412);
    }
    let any = app
        .send(
            TestRequest::post()
                .uri(&format!("{path}/publish"))
                .insert_header(("Authorization", format!("Bearer {}", alice.token)))
                .insert_header(("If-Match", "*")),
        )
        .await;
    any.assert_status(200);
    let malformed = app
        .send(
            TestRequest::delete()
                .uri(&path)
                .insert_header(("Authorization", format!("Bearer {}", alice.token)))
                .insert_header(("If-Match", "v3 with no quotes")),
        )
        .await;
    // Not an entity tag: it matches no version.
    malformed.assert_problem(412);
}

async fn the_dashboard_filters(backend: Backend) {
    let app = spawn(backend).await;
    let editor = app.user(Role::Editor, "Eddie").await;
    let ada = app.user(Role::Author, "Ada").await;
    app.published(&ada, json!({"title": "Engines", "body_markdown": "The 100% ANALYTICAL engine", "tags": ["Math"]}))
        .await;
    app.draft(&ada, json!({"title": "Looms", "body_markdown": "Jacquard cards", "tags": ["History"]})).await;
    app.draft(&editor, json!({"title": "Notes_1", "body_markdown": "misc"})).await;

    let list = |query: String| {
        let (app, editor) = (&app, &editor);
        async move { titles(&app.get_as(editor, &format!("/api/v1/admin/articles?{query}")).await.json()) }
    };
    assert_eq!(list("q=analytical".to_string()).await, ["Engines"]);
    assert_eq!(list("q=JACQUARD".to_string()).await, ["Looms"]);
    assert_eq!(list("q=100%25".to_string()).await, ["Engines"]);
    assert_eq!(list("q=s_1".to_string()).await, ["Notes_1"]);
    assert_eq!(list("q=nothing".to_string()).await, Vec::<String>::new());
    assert_eq!(list("tag=history".to_string()).await, ["Looms"]);
    assert_eq!(list(format!("author={}", ada.id)).await, ["Looms", "Engines"]);
    assert_eq!(list("status=draft".to_string()).await, ["Notes_1", "Looms"]);
    assert_eq!(list("status=published&tag=math".to_string()).await, ["Engines"]);
    app.get_as(&editor, "/api/v1/admin/articles?author=ada").await.assert_problem(400);
}
