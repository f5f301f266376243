//! What every exchange carries, whatever the route: the request id, security headers, a log line
//! with nothing secret in it (and the truth about clients that went away), and no query parameter
//! an operation does not take.

use std::io::Write;

use actix_web::test::TestRequest;
use masthead::auth::Role;
use serde_json::{Value, json};

use crate::harness::{Backend, logged, request_log, spawn, spawn_with};

backend_tests!(
    unknown_query_parameters_are_refused_on_every_route,
    responses_carry_security_headers_and_the_clients_request_id,
    the_log_keeps_secrets_out_and_says_when_a_client_went_away,
);

async fn unknown_query_parameters_are_refused_on_every_route(backend: Backend) {
    let app = spawn(backend).await;
    let editor = app.user(Role::Editor, "Edith").await;
    let article = app.published(&editor, json!({"title": "Hello", "body_markdown": "x", "tags": ["t"]})).await;
    for path in [
        "/api/v1/articles/hello?bust=1",
        "/api/v1/tags/t?bust=1",
        "/api/v1/feed.atom?bust=1",
        "/healthz?x=1",
        "/api/v1/articles/hello/related?limit=2&bust=1",
        "/api/v1/%61rticles/hello?bust=1",
    ] {
        let problem = app.get(path).await.assert_problem(400);
        assert!(problem["detail"].as_str().unwrap().contains("unknown query parameter `"), "{path}: {problem}");
    }
    let problem =
        app.get_as(&editor, &format!("/api/v1/admin/articles/{}?x=1", article["id"])).await.assert_problem(400);
    assert_eq!(problem["detail"], "unknown query parameter `x`; this route takes none");
    // What a route does take still works, HEAD included; refusals are never cached.
    app.get("/api/v1/articles/hello/related?limit=2").await.assert_status(200);
    app.get("/api/v1/articles?page=1&per_page=5").await.assert_status(200);
    app.send(TestRequest::default().method(actix_web::http::Method::HEAD).uri("/api/v1/tags/t?bust=2"))
        .await
        .assert_status(400);
    let deleted = app.delete_as(&editor, &format!("/api/v1/admin/articles/{}?permanent=true", article["id"])).await;
    deleted.assert_status(204);
}

async fn responses_carry_security_headers_and_the_clients_request_id(backend: Backend) {
    let app = spawn(backend).await;
    for path in ["/api/v1/articles", "/api/v1/articles/missing", "/openapi.json", "/api/v1/feed.atom"] {
        let response = app.get(path).await;
        assert_eq!(response.header("x-content-type-options"), Some("nosniff"), "{path}");
        assert_eq!(
            response.header("content-security-policy"),
            Some("default-src 'none'; frame-ancestors 'none'"),
            "{path}"
        );
    }
    let docs = app.get("/docs/").await;
    assert_eq!(docs.header("x-content-type-options"), Some("nosniff"));
    let policy = docs.header("content-security-policy").unwrap();
    assert!(
        policy.contains("script-src 'self'") && !policy.contains("unsafe-eval") && !policy.contains("https:"),
        "{policy}"
    );

    // A well-formed id from the client (a proxy's, say) is kept; anything else is replaced.
    let kept = app.send(TestRequest::get().uri("/healthz").insert_header(("X-Request-Id", "edge-42.a_b:c"))).await;
    assert_eq!(kept.header("x-request-id"), Some("edge-42.a_b:c"));
    for odd in ["has space", "a\"quote", &"x".repeat(129)] {
        let replaced = app.send(TestRequest::get().uri("/healthz").insert_header(("X-Request-Id", odd))).await;
        let id = replaced.header("x-request-id").unwrap();
        assert!(id != odd && !id.is_empty(), "{odd} -> {id}");
    }
    // Or the trace id of a well-formed W3C `traceparent` (when there is no `X-Request-Id`).
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let traced = |traceparent: String| TestRequest::get().uri("/healthz").insert_header(("traceparent", traceparent));
    let kept = app.send(traced(format!("00-{trace}-00f067aa0ba902b7-01"))).await;
    assert_eq!(kept.header("x-request-id"), Some(trace));
    let both = traced(format!("00-{trace}-00f067aa0ba902b7-01")).insert_header(("X-Request-Id", "edge-1"));
    assert_eq!(app.send(both).await.header("x-request-id"), Some("edge-1"));
    for odd in [
        format!("00-{}-00f067aa0ba902b7-01", "0".repeat(32)),
        format!("00-{trace}-0000000000000000-01"),
        format!("ff-{trace}-00f067aa0ba902b7-01"),
        format!("00-{}-00f067aa0ba902b7-01", trace.to_uppercase()),
        format!("00-{trace}-00f067aa0ba902b7-01-extra"),
        format!("00-{trace}"),
    ] {
        let id = app.send(traced(odd.clone())).await.header("x-request-id").unwrap().to_string();
        assert!(id != trace && !id.is_empty(), "{odd} -> {id}");
    }
}

async fn the_log_keeps_secrets_out_and_says_when_a_client_went_away(backend: Backend) {
    request_log();
    let app = spawn(backend).await;
    let author = app.user(Role::Author, "Ann").await;
    let draft = app.draft(&author, json!({"title": "Soon", "body_markdown": "x"})).await;
    let link =
        app.post_as(&author, &format!("/api/v1/admin/articles/{}/preview", draft["id"]), Value::Null).await.json();
    let token = link["data"]["token"].as_str().unwrap().to_string();
    let id = format!("preview-{}", masthead::random::hex_token(6));
    let preview =
        TestRequest::get().uri(&format!("/api/v1/previews/{token}")).insert_header(("X-Request-Id", id.as_str()));
    app.send(preview).await.assert_status(200);
    let lines = logged(&id).await;
    // The caller's account, when there is one, and the route's template.
    let id_of_mine = format!("mine-{}", masthead::random::hex_token(6));
    let mine = TestRequest::get()
        .uri(&format!("/api/v1/admin/articles/{}", draft["id"]))
        .insert_header(("X-Request-Id", id_of_mine.as_str()))
        .insert_header(("Authorization", format!("Bearer {}", author.token)));
    app.send(mine).await.assert_status(200);
    let mine = logged(&id_of_mine).await;
    assert!(
        mine.iter().any(|line| line.contains(&format!("account_id={}", author.id))
            && line.contains("route=\"/api/v1/admin/articles/{id}\"")),
        "{mine:?}"
    );
    assert!(lines.iter().all(|line| !line.contains(&token)), "{lines:?}");
    assert!(
        lines.iter().any(|line| line.contains("/api/v1/previews/{token}") && line.contains("status=200")),
        "{lines:?}"
    );
    // A token in a path no route takes is not written either.
    let id = format!("stray-{}", masthead::random::hex_token(6));
    let stray =
        TestRequest::get().uri(&format!("/api/v1/preview/{token}")).insert_header(("X-Request-Id", id.as_str()));
    app.send(stray).await.assert_problem(404);
    assert!(logged(&id).await.iter().all(|line| !line.contains(&token)));

    // Clients that go away before their answer are logged as gone (499), not with an answer they
    // never got: one whose request waits for a database connection, one that sends half a body.
    let busy = spawn_with(backend, |config| config.db.pool_size = 1).await;
    let held = crate::harness::HeldConnection::take(&busy.state.db);
    let listener = busy.listen();
    sent_then_gone(listener.addr, |id| {
        format!("GET /api/v1/articles HTTP/1.1\r\nHost: x\r\nX-Request-Id: {id}\r\n\r\n")
    })
    .await;
    held.release().await;
    let listener = app.listen();
    sent_then_gone(listener.addr, |id| {
        format!(
            "POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nX-Request-Id: {id}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"email\":"
        )
    })
    .await;
}

/// Sends what `request` writes for a new request id, closes the connection at once, and checks
/// that the request is logged as the client's going away.
async fn sent_then_gone(addr: std::net::SocketAddr, request: impl FnOnce(&str) -> String) {
    let id = format!("gone-{}", masthead::random::hex_token(6));
    let bytes = request(&id);
    actix_web::web::block(move || {
        let mut stream = std::net::TcpStream::connect(addr)?;
        stream.write_all(bytes.as_bytes())?;
        stream.shutdown(std::net::Shutdown::Both)
    })
    .await
    .unwrap()
    .unwrap();
    let lines = logged(&id).await;
    assert!(
        lines.iter().any(|line| line.contains("status=499") && line.contains("closed the connection")),
        "{lines:?}"
    );
}
