//! `GET /metrics`: off unless configured, behind its token on the API, open on its own listener,
//! and what it counts.

use actix_web::test::TestRequest;
use masthead::auth::Role;
use masthead::config::Secret;
use serde_json::json;

use crate::harness::{Backend, eventually, spawn, spawn_watched_with};

backend_tests!(
    metrics_are_not_served_unless_configured,
    metrics_on_the_api_need_their_token,
    metrics_count_requests_refusals_the_cache_and_queues,
    the_metrics_listener_serves_only_metrics,
);

const TOKEN: &str = "metrics-token-0123456789abcdef";

fn scrape_request() -> TestRequest {
    TestRequest::get().uri("/metrics").insert_header(("Authorization", format!("Bearer {TOKEN}")))
}

/// The value of one series (`name{labels}` exactly as written), if present.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.trim().parse().ok())
}

async fn metrics_are_not_served_unless_configured(backend: Backend) {
    let app = spawn(backend).await;
    let response = app.send(scrape_request()).await;
    assert_eq!(response.assert_problem(404)["type"], "urn:masthead:problem:not-found");
    // The requests are not even counted.
    assert!(app.state.metrics.is_none());
}

async fn metrics_on_the_api_need_their_token(backend: Backend) {
    let app = spawn_watched_with(backend, |config| {
        config.operations.metrics.token = Some(Secret::new(TOKEN));
    })
    .await;
    let anonymous = app.get("/metrics").await;
    anonymous.assert_problem(401);
    assert_eq!(anonymous.header("www-authenticate"), Some("Bearer"));
    let wrong = TestRequest::get().uri("/metrics").insert_header(("Authorization", format!("Bearer {TOKEN}x")));
    app.send(wrong).await.assert_problem(401);
    // An editor's access token is not the metrics token.
    let admin = app.user(Role::Admin, "Ada").await;
    app.get_as(&admin, "/metrics").await.assert_problem(401);

    let scrape = app.send(scrape_request()).await;
    scrape.assert_status(200);
    assert_eq!(scrape.header("content-type"), Some("text/plain; version=0.0.4; charset=utf-8"));
    assert_eq!(scrape.header("cache-control"), Some("no-store"));
    let text = scrape.text();
    assert!(text.contains("# TYPE masthead_http_request_duration_seconds histogram"), "{text}");
    assert_eq!(sample(&text, "masthead_db_pool_size"), Some(4.0), "{text}");
    assert_eq!(sample(&text, "masthead_build_info{version=\"0.1.0\"}"), Some(1.0), "{text}");
    assert!(sample(&text, "process_resident_memory_bytes").is_some_and(|bytes| bytes > 1e6), "{text}");
    assert!(sample(&text, "process_open_fds").is_some_and(|fds| fds > 3.0), "{text}");
    // The failed scrapes are counted, under the route's template.
    let unauthorized = "masthead_http_request_duration_seconds_count{route=\"/metrics\",method=\"GET\",status=\"4xx\"}";
    assert_eq!(sample(&text, unauthorized), Some(3.0), "{text}");
}

async fn metrics_count_requests_refusals_the_cache_and_queues(backend: Backend) {
    let app = spawn_watched_with(backend, |config| {
        config.operations.metrics.token = Some(Secret::new(TOKEN));
    })
    .await;
    let author = app.user(Role::Author, "Ann").await;
    let article = app.published(&author, json!({"title": "Counted", "body_markdown": "x"})).await;
    let slug = article["slug"].as_str().unwrap();
    // Series by route template, never by path: one for every slug.
    app.get("/api/v1/articles/no-such-article").await.assert_status(404);
    app.get("/api/v1/articles/nor-this-one").await.assert_status(404);
    // On PostgreSQL the publication's notification may come back after the first read and empty
    // the cache: read until one is a hit.
    let mut reads = 0.0;
    eventually("a read is a cache hit", || {
        reads += 1.0;
        async {
            let read = app.get(&format!("/api/v1/articles/{slug}")).await;
            read.assert_status(200);
            (read.header("x-masthead-cache") == Some("hit")).then_some(())
        }
    })
    .await;
    app.comment_from(
        "203.0.113.9",
        slug,
        json!({"author_name": "Reader", "author_email": "r@example.com", "body": "Hi"}),
    )
    .await
    .assert_status(202);
    for attempt in 0..6 {
        let response = app.login(&author.email, &format!("wrong-{attempt}")).await;
        assert_eq!(response.status, if attempt < 5 { 401 } else { 429 });
    }

    let text = app.send(scrape_request()).await.text();
    let by_route = |status: &str| {
        sample(
            &text,
            &format!(
                "masthead_http_request_duration_seconds_count{{route=\"/api/v1/articles/{{slug}}\",method=\"GET\",status=\"{status}\"}}"
            ),
        )
    };
    assert_eq!((by_route("2xx"), by_route("4xx")), (Some(reads), Some(2.0)), "{text}");
    assert!(!text.contains("no-such-article") && !text.contains(slug), "{text}");
    assert_eq!(sample(&text, "masthead_refusals_total{limit=\"login_throttle\"}"), Some(1.0), "{text}");
    assert_eq!(sample(&text, "masthead_refusals_total{limit=\"comment_rate\"}"), Some(0.0), "{text}");
    assert!(sample(&text, "masthead_cache_hits_total").is_some_and(|hits| hits >= 1.0), "{text}");
    assert!(sample(&text, "masthead_cache_misses_total").is_some_and(|misses| misses >= 1.0), "{text}");
    assert!(sample(&text, "masthead_cache_invalidations_total").is_some_and(|writes| writes >= 1.0), "{text}");
    assert_eq!(sample(&text, "masthead_comments_awaiting_moderation"), Some(1.0), "{text}");
    assert_eq!(sample(&text, "masthead_webhook_deliveries_pending"), Some(0.0), "{text}");
    assert_eq!(sample(&text, "masthead_media_jobs_waiting"), Some(0.0), "{text}");
}

async fn the_metrics_listener_serves_only_metrics(backend: Backend) {
    let app = spawn_watched_with(backend, |config| {
        config.operations.metrics.addr = Some("127.0.0.1:0".parse().unwrap());
    })
    .await;
    let listener = crate::harness::Listener::serving(
        masthead::app::metrics::server(app.state.clone(), "127.0.0.1:0".parse().unwrap())
            .expect("a free loopback port"),
    );
    // Counted on the API; the API itself has no /metrics without a token.
    app.get("/api/v1/articles").await.assert_status(200);
    app.get("/metrics").await.assert_problem(404);
    let answer = eventually("the metrics listener answers", || async {
        let answer = listener.exchange("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await;
        answer.starts_with("HTTP/1.1 200").then_some(answer)
    })
    .await;
    let series =
        "masthead_http_request_duration_seconds_count{route=\"/api/v1/articles\",method=\"GET\",status=\"2xx\"}";
    assert_eq!(sample(&answer, series), Some(1.0), "{answer}");
    let elsewhere = listener.exchange("GET /api/v1/articles HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await;
    assert!(elsewhere.starts_with("HTTP/1.1 404"), "{elsewhere}");
    assert!(elsewhere.contains("application/problem+json"), "{elsewhere}");
}
