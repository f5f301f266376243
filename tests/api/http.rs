//! HTTP as the web expects: validators and 304s, cache headers, compression, CORS.

use actix_web::test::TestRequest;
use masthead::auth::Role;
use serde_json::json;

use crate::harness::{Backend, spawn};

backend_tests!(
    public_responses_are_cacheable_and_revalidate,
    single_resources_answer_if_modified_since,
    responses_are_compressed_on_request,
    cors_serves_the_configured_front_ends_only,
    head_answers_as_get_does_without_the_body,
);

async fn public_responses_are_cacheable_and_revalidate(backend: Backend) {
    let app = spawn(backend).await;
    let author = app.user(Role::Author, "Arthur").await;
    app.published(&author, json!({"title": "One", "body_markdown": "x", "tags": ["T"]})).await;
    for path in [
        "/api/v1/articles",
        "/api/v1/articles/one",
        "/api/v1/authors",
        "/api/v1/authors/arthur",
        "/api/v1/tags",
        "/api/v1/tags/t",
    ] {
        let first = app.get(path).await;
        first.assert_status(200);
        assert_eq!(first.header("cache-control"), Some("public, max-age=60, stale-while-revalidate=300"), "{path}");
        let etag = first.header("etag").unwrap_or_else(|| panic!("{path} has no ETag")).to_string();
        assert!(etag.starts_with('"') && !etag.starts_with("W/"), "a strong ETag: {etag}");
        let again = app.send(TestRequest::get().uri(path).insert_header(("If-None-Match", etag.clone()))).await;
        again.assert_status(304);
        assert!(again.body.is_empty());
        assert_eq!(again.header("etag"), Some(etag.as_str()));
        assert_eq!(again.header("cache-control"), first.header("cache-control"));
        let weak = app.send(TestRequest::get().uri(path).insert_header(("If-None-Match", format!("W/{etag}")))).await;
        weak.assert_status(304);
        let other = app.send(TestRequest::get().uri(path).insert_header(("If-None-Match", "\"other\""))).await;
        other.assert_status(200);
    }
    // A change of content is a new ETag.
    let before = app.get("/api/v1/articles").await.header("etag").unwrap().to_string();
    app.published(&author, json!({"title": "Two", "body_markdown": "y"})).await;
    let after =
        app.send(TestRequest::get().uri("/api/v1/articles").insert_header(("If-None-Match", before.clone()))).await;
    after.assert_status(200);
    assert_ne!(after.header("etag"), Some(before.as_str()));
    // Errors and editor routes are never stored.
    assert_eq!(app.get("/api/v1/articles/nope").await.header("cache-control"), Some("no-store"));
    assert_eq!(app.get_as(&author, "/api/v1/admin/articles").await.header("cache-control"), Some("private, no-store"));
}

async fn single_resources_answer_if_modified_since(backend: Backend) {
    let app = spawn(backend).await;
    let author = app.user(Role::Author, "Arthur").await;
    app.published(&author, json!({"title": "One", "body_markdown": "x"})).await;
    let first = app.get("/api/v1/articles/one").await;
    let last_modified = first.header("last-modified").expect("Last-Modified").to_string();
    assert!(last_modified.ends_with(" GMT"), "{last_modified}");
    let same = app
        .send(
            TestRequest::get().uri("/api/v1/articles/one").insert_header(("If-Modified-Since", last_modified.clone())),
        )
        .await;
    same.assert_status(304);
    let earlier = app
        .send(
            TestRequest::get()
                .uri("/api/v1/articles/one")
                .insert_header(("If-Modified-Since", "Sat, 01 Jan 2000 00:00:00 GMT")),
        )
        .await;
    earlier.assert_status(200);
    // If-None-Match wins over If-Modified-Since.
    let both = app
        .send(
            TestRequest::get()
                .uri("/api/v1/articles/one")
                .insert_header(("If-None-Match", "\"stale\""))
                .insert_header(("If-Modified-Since", last_modified)),
        )
        .await;
    both.assert_status(200);
    assert!(app.get("/api/v1/articles").await.header("last-modified").is_none(), "lists have no Last-Modified");
}

async fn responses_are_compressed_on_request(backend: Backend) {
    let app = spawn(backend).await;
    let author = app.user(Role::Author, "Arthur").await;
    app.published(&author, json!({"title": "Long", "body_markdown": "word ".repeat(2000)})).await;
    for encoding in ["gzip", "br"] {
        let response = app
            .send(TestRequest::get().uri("/api/v1/articles/long").insert_header(("Accept-Encoding", encoding)))
            .await;
        response.assert_status(200);
        assert_eq!(response.header("content-encoding"), Some(encoding));
        assert!(response.body.len() < 2000, "{encoding}: {} bytes", response.body.len());
    }
    assert!(app.get("/api/v1/articles/long").await.header("content-encoding").is_none());
}

async fn cors_serves_the_configured_front_ends_only(backend: Backend) {
    let app = spawn(backend).await;
    // The test configuration allows https://front.example.com.
    let allowed = app
        .send(TestRequest::get().uri("/api/v1/articles").insert_header(("Origin", "https://front.example.com")))
        .await;
    allowed.assert_status(200);
    assert_eq!(allowed.header("access-control-allow-origin"), Some("https://front.example.com"));
    assert!(allowed.header("access-control-expose-headers").is_some_and(|h| h.to_lowercase().contains("etag")));

    let preflight = app
        .send(
            TestRequest::default()
                .method(actix_web::http::Method::OPTIONS)
                .uri("/api/v1/admin/articles/1")
                .insert_header(("Origin", "https://front.example.com"))
                .insert_header(("Access-Control-Request-Method", "PATCH"))
                .insert_header(("Access-Control-Request-Headers", "authorization, content-type, if-match")),
        )
        .await;
    preflight.assert_status(200);
    assert!(preflight.header("access-control-allow-methods").is_some_and(|m| m.contains("PATCH")));

    let stranger =
        app.send(TestRequest::get().uri("/api/v1/articles").insert_header(("Origin", "https://evil.example"))).await;
    assert!(stranger.header("access-control-allow-origin").is_none());
}

async fn head_answers_as_get_does_without_the_body(backend: Backend) {
    use actix_web::http::Method;
    let app = spawn(backend).await;
    let author = app.user(Role::Author, "Arthur").await;
    app.published(&author, json!({"title": "One", "body_markdown": "x"})).await;
    for path in ["/api/v1/articles", "/api/v1/articles/one", "/api/v1/feed.atom", "/openapi.json", "/healthz"] {
        let get = app.get(path).await;
        get.assert_status(200);
        let head = app.send(TestRequest::default().method(Method::HEAD).uri(path)).await;
        head.assert_status(200);
        for name in ["content-type", "etag", "cache-control", "last-modified", "link"] {
            assert_eq!(head.header(name), get.header(name), "{name} of HEAD {path}");
        }
        if let Some(etag) = get.header("etag") {
            let revalidated = app
                .send(TestRequest::default().method(Method::HEAD).uri(path).insert_header(("If-None-Match", etag)))
                .await;
            revalidated.assert_status(304);
        }
    }
    // Where there is no GET, HEAD is a 405 like any other method, and every GET path allows it.
    let login = app.send(TestRequest::default().method(Method::HEAD).uri("/api/v1/auth/login")).await;
    login.assert_status(405);
    assert_eq!(login.header("allow"), Some("POST"));
    let missing = app.send(TestRequest::default().method(Method::HEAD).uri("/api/v1/articles/none")).await;
    missing.assert_status(404);

    // On the wire: the GET's status line and Content-Length, and no body at all.
    let listener = app.listen();
    let request =
        |method: &str| format!("{method} /api/v1/articles/one HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
    let get = listener.exchange(&request("GET")).await;
    let head = listener.exchange(&request("HEAD")).await;
    let (get_head, get_body) = get.split_once("\r\n\r\n").expect("a GET answer");
    let (head_head, head_body) = head.split_once("\r\n\r\n").expect("a HEAD answer");
    assert!(get_head.starts_with("HTTP/1.1 200") && head_head.starts_with("HTTP/1.1 200"), "{head_head}");
    assert!(!get_body.is_empty());
    assert_eq!(head_body, "", "a HEAD answer has no body");
    let length = format!("content-length: {}", get_body.len());
    assert!(get_head.lines().any(|line| line.eq_ignore_ascii_case(&length)), "{get_head}");
    assert!(head_head.lines().any(|line| line.eq_ignore_ascii_case(&length)), "HEAD has the GET's length: {head_head}");
}
