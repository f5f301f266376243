//! The in-process cache of public responses: hits skip the database, and no write, on this node
//! or another, and no scheduled publication is ever hidden by it.

use masthead::auth::Role;
use serde_json::json;

use crate::harness::{Backend, TestDb, spawn_node, spawn_on};

backend_tests!(
    cached_responses_follow_every_write,
    other_nodes_see_writes_within_a_moment,
    a_cold_key_is_made_once_however_many_ask,
);

async fn cached_responses_follow_every_write(backend: Backend) {
    let app = spawn_on(TestDb::create(backend)).await;
    let author = app.user(Role::Author, "Arthur").await;
    app.published(&author, json!({"title": "First", "body_markdown": "x", "tags": ["t"]})).await;

    let miss = app.get("/api/v1/articles?tag=t").await;
    assert_eq!(miss.header("x-masthead-cache"), Some("miss"));
    // A repeat is a hit, once the watcher has seen the write above: its own notification (NOTIFY
    // on PostgreSQL, data_version on SQLite) may arrive just after the first read on a loaded
    // machine, and drop that first copy.
    let started = std::time::Instant::now();
    let hit = loop {
        let again = app.get("/api/v1/articles?tag=t").await;
        if again.header("x-masthead-cache") == Some("hit") {
            break again;
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "the response is never cached");
        actix_rt::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(hit.body, miss.body);
    assert_eq!(hit.header("etag"), miss.header("etag"));
    assert_eq!(hit.header("cache-control"), miss.header("cache-control"));
    // A hit answers validators like the route itself.
    let etag = hit.header("etag").unwrap().to_string();
    let revalidated = app
        .send(actix_web::test::TestRequest::get().uri("/api/v1/articles?tag=t").insert_header(("If-None-Match", etag)))
        .await;
    revalidated.assert_status(304);
    assert!(revalidated.body.is_empty());

    // Any write through the editor routes is seen at once.
    app.published(&author, json!({"title": "Second", "body_markdown": "y", "tags": ["t"]})).await;
    let after = app.get("/api/v1/articles?tag=t").await;
    assert_eq!(after.header("x-masthead-cache"), Some("miss"));
    assert_eq!(after.json()["meta"]["total"], 2);
    let article = app.get("/api/v1/articles/second").await;
    article.assert_status(200);
    let id = app.get_as(&author, "/api/v1/admin/articles?q=second").await.json()["data"][0]["id"].clone();
    app.patch_as(&author, &format!("/api/v1/admin/articles/{id}"), json!({"title": "Second, edited"}))
        .await
        .assert_status(200);
    assert_eq!(app.get("/api/v1/articles/second").await.json()["data"]["title"], "Second, edited");
    // Errors and editor routes are never cached.
    app.get("/api/v1/articles/missing").await.assert_problem(404);
    assert!(app.get("/api/v1/articles/missing").await.header("x-masthead-cache").is_none());
    assert!(app.get_as(&author, "/api/v1/admin/articles").await.header("x-masthead-cache").is_none());
}

async fn other_nodes_see_writes_within_a_moment(backend: Backend) {
    let db = TestDb::create(backend);
    let url = db.url.clone();
    let writer = spawn_on(db).await;
    let reader = spawn_node(url).await;
    let author = writer.user(Role::Author, "Arthur").await;
    writer.published(&author, json!({"title": "First", "body_markdown": "x"})).await;
    assert_eq!(reader.get("/api/v1/articles").await.json()["meta"]["total"], 1);
    // A repeat is a hit, once the writer's own notifications (which may arrive just after the
    // first read, on a loaded machine) have been seen.
    let started = std::time::Instant::now();
    while reader.get("/api/v1/articles").await.header("x-masthead-cache") != Some("hit") {
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "the reader never caches");
        actix_rt::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    // Written on one node; the other drops its copy (NOTIFY on PostgreSQL, data_version on SQLite).
    writer.published(&author, json!({"title": "Second", "body_markdown": "y"})).await;
    let started = std::time::Instant::now();
    loop {
        if reader.get("/api/v1/articles").await.json()["meta"]["total"] == 2 {
            break;
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(3), "the other node never saw the write");
        actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

async fn a_cold_key_is_made_once_however_many_ask(backend: Backend) {
    let app = spawn_on(TestDb::create(backend)).await;
    let author = app.user(Role::Author, "Arthur").await;
    app.published(&author, json!({"title": "First", "body_markdown": "x", "tags": ["t"]})).await;
    // Let the watcher see that write first (it polls every 100 ms on SQLite, where the pool's
    // commits count as another connection's): its invalidation would otherwise make a second miss.
    actix_rt::time::sleep(std::time::Duration::from_millis(400)).await;
    let responses =
        futures_util::future::join_all((0..12).map(|_| app.get("/api/v1/articles?tag=t&include=body"))).await;
    let misses = responses.iter().filter(|r| r.header("x-masthead-cache") == Some("miss")).count();
    assert_eq!(misses, 1, "one request makes the response, the others wait for it");
    assert!(responses.iter().all(|r| r.status == 200 && r.body == responses[0].body));
}
