//! Bad input of every kind gets a clear problem+json, never a 500, and writes nothing.

use actix_web::test::TestRequest;
use masthead::auth::Role;
use serde_json::json;

use crate::harness::{Backend, spawn};

backend_tests!(malformed_bodies_are_refused_clearly, unknown_routes_are_problems);

async fn malformed_bodies_are_refused_clearly(backend: Backend) {
    let app = spawn(backend).await;
    let user = app.user(Role::Editor, "Eddie").await;
    let auth = ("Authorization", format!("Bearer {}", user.token));
    let post = |body: &'static str, content_type: &'static str| {
        TestRequest::post()
            .uri("/api/v1/admin/articles")
            .insert_header(auth.clone())
            .insert_header(("Content-Type", content_type))
            .set_payload(body)
    };

    let problem = app.send(post("{\"title\": ", "application/json")).await.assert_problem(400);
    assert!(problem["detail"].as_str().unwrap().starts_with("malformed JSON"), "{problem}");
    app.send(post(r#"{"title": "a", "body_markdown": "b"} trailing"#, "application/json")).await.assert_problem(400);

    let problem = app
        .send(post(r#"{"title": "a", "body_markdown": "b", "status": "published"}"#, "application/json"))
        .await
        .assert_problem(400);
    assert!(problem["detail"].as_str().unwrap().contains("unknown field `status`"), "{problem}");

    let problem = app.send(post(r#"{"body_markdown": "b"}"#, "application/json")).await.assert_problem(422);
    assert_eq!(problem["errors"], json!([{"field": "title", "message": "is required"}]));

    let problem = app.send(post(r#"{"title": 5, "body_markdown": "b"}"#, "application/json")).await.assert_problem(422);
    assert_eq!(problem["errors"][0]["field"], "title");
    let problem = app
        .send(post(r#"{"title": "t", "body_markdown": "b", "tags": ["ok", 7]}"#, "application/json"))
        .await
        .assert_problem(422);
    assert_eq!(problem["errors"][0]["field"], "tags[1]");

    app.send(post(r#"{"title": "a", "body_markdown": "b"}"#, "text/plain")).await.assert_problem(415);
    let no_type = TestRequest::post().uri("/api/v1/admin/articles").insert_header(auth.clone()).set_payload("{}");
    app.send(no_type).await.assert_problem(415);

    let huge = json!({"title": "big", "body_markdown": "x".repeat(100 * 1024)});
    let problem = app.post_as(&user, "/api/v1/admin/articles", huge).await.assert_problem(413);
    assert_eq!(problem["type"], "urn:masthead:problem:payload-too-large");

    app.patch_as(&user, "/api/v1/admin/articles/not-a-number", json!({})).await.assert_problem(404);

    // None of it was written.
    assert_eq!(app.get_as(&user, "/api/v1/admin/articles").await.json()["meta"]["total"], 0);
}

async fn unknown_routes_are_problems(backend: Backend) {
    let app = spawn(backend).await;
    let problem = app.get("/api/v1/nothing-here").await.assert_problem(404);
    assert_eq!(problem["type"], "urn:masthead:problem:not-found");
    app.get("/").await.assert_problem(404);
}
