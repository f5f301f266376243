//! Overload and faults: a busy pool, a runaway query, a full disk, a database that goes away.
//! Each is answered quickly with a 503 problem that says which, and the node recovers by itself.

use std::time::Duration;

use masthead::auth::Role;
use masthead::error::ApiError;
use serde_json::json;

use crate::harness::{Backend, TestDb, eventually, spawn_watched_with};

backend_tests!(a_busy_pool_sheds_load_and_readiness_still_answers, runaway_database_work_is_cancelled_at_its_budget,);

async fn a_busy_pool_sheds_load_and_readiness_still_answers(backend: Backend) {
    let app = spawn_watched_with(backend, |config| {
        config.db.pool_size = 1;
        config.db.acquire_timeout = Duration::from_millis(300);
        config.cache_bytes = 0;
    })
    .await;
    app.get("/api/v1/articles").await.assert_status(200);

    let held = crate::harness::HeldConnection::take(&app.state.db);
    eventually("the connection is taken", || async {
        let response = app.get("/api/v1/articles").await;
        (response.status == 503).then_some(response)
    })
    .await;
    let response = app.get("/api/v1/articles").await;
    let problem = response.assert_problem(503);
    assert_eq!(problem["type"], "urn:masthead:problem:busy");
    assert_eq!(response.header("retry-after"), Some("1"));
    // Readiness does not queue behind the work: it answers from the watcher's last probe.
    app.get("/readyz").await.assert_status(200);

    held.release().await;
    app.get("/api/v1/articles").await.assert_status(200);
}

async fn runaway_database_work_is_cancelled_at_its_budget(backend: Backend) {
    let app = spawn_watched_with(backend, |config| config.db.query_timeout = Some(Duration::from_millis(200))).await;
    // The same endless work on each backend, in its own SQL.
    let endless = match backend {
        Backend::Sqlite => "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n",
        Backend::Postgres => "SELECT pg_sleep(60)",
    };
    let outcome = app
        .state
        .db
        .run(move |conn| {
            use diesel::RunQueryDsl;
            diesel::sql_query(endless).execute(conn)?;
            Ok(())
        })
        .await;
    assert!(matches!(outcome, Err(ApiError::QueryTimeout(_))), "{outcome:?}");
    // The connection it used serves the next request normally.
    app.get("/api/v1/articles").await.assert_status(200);
    app.get("/readyz").await.assert_status(200);
}

/// SQLite only: its `max_page_count` makes the database "full" (SQLITE_FULL, the error a full disk
/// gives) without filling a disk. PostgreSQL's disk_full is mapped from its message the same way.
#[actix_web::test]
async fn sqlite_a_full_disk_refuses_writes_plainly_and_recovers() {
    let app = spawn_watched_with(Backend::Sqlite, |config| config.db.pool_size = 1).await;
    let editor = app.user(Role::Editor, "Edith").await;
    app.published(&editor, json!({"title": "Before", "body_markdown": "x"})).await;
    let set_limit = |limit: Option<i64>| {
        let db = app.state.db.clone();
        async move {
            db.run(move |conn| {
                use diesel::connection::SimpleConnection;
                #[derive(diesel::QueryableByName)]
                struct Pages {
                    #[diesel(sql_type = diesel::sql_types::BigInt)]
                    page_count: i64,
                }
                use diesel::RunQueryDsl;
                let pages = diesel::sql_query("PRAGMA page_count").get_result::<Pages>(conn)?.page_count;
                conn.batch_execute(&format!("PRAGMA max_page_count = {}", limit.unwrap_or(pages)))?;
                Ok(())
            })
            .await
            .unwrap()
        }
    };
    set_limit(None).await;
    let big = "word ".repeat(10_000);
    let response =
        app.post_as(&editor, "/api/v1/admin/articles", json!({"title": "After", "body_markdown": big})).await;
    let problem = response.assert_problem(503);
    assert_eq!(problem["type"], "urn:masthead:problem:storage-full");
    assert_eq!(response.header("retry-after"), Some("60"));
    // Reads work; readiness says what is wrong without taking the node out of service.
    app.get("/api/v1/articles/before").await.assert_status(200);
    let ready = app.get("/readyz").await;
    ready.assert_status(200);
    assert_eq!(ready.json()["status"], "degraded");
    assert!(ready.json()["detail"].as_str().unwrap().contains("disk"), "{}", ready.text());
    // Nothing of the refused article was kept.
    assert_eq!(app.get_as(&editor, "/api/v1/admin/articles").await.json()["meta"]["total"], 1);

    set_limit(Some(1_000_000_000)).await;
    app.post_as(&editor, "/api/v1/admin/articles", json!({"title": "After", "body_markdown": "x"}))
        .await
        .assert_status(201);
    assert_eq!(app.get("/readyz").await.json()["status"], "ok");
}

/// PostgreSQL only: the database goes away behind a proxy (a TCP proxy on loopback that the test
/// cuts), and comes back. Requests are refused with 503 while it is away, readiness says so, and
/// the node recovers by itself.
#[actix_web::test]
async fn postgres_an_outage_is_answered_503_and_recovered_from() {
    if !crate::harness::postgres_enabled() {
        return;
    }
    let db = TestDb::create(Backend::Postgres);
    let masthead::settings::DatabaseUrl::Postgres(direct) = &db.url else { unreachable!() };
    let proxy = crate::tcp_proxy::TcpProxy::start(direct);
    let through_proxy = masthead::settings::DatabaseUrl::Postgres(proxy.url(direct));
    let app = crate::harness::spawn_node_with(through_proxy, |config| {
        config.db.acquire_timeout = Duration::from_millis(500);
        config.cache_bytes = 0;
    })
    .await;
    app.get("/api/v1/articles").await.assert_status(200);

    proxy.cut();
    // The first request finds out (its connection is gone, a new one is refused); the next ones
    // are told at once that the database is out of reach.
    app.get("/api/v1/articles").await.assert_problem(503);
    for _ in 0..5 {
        let response = app.get("/api/v1/articles").await;
        let problem = response.assert_problem(503);
        assert_eq!(problem["type"], "urn:masthead:problem:unavailable");
        assert_eq!(response.header("retry-after"), Some("5"));
    }
    eventually("readiness reports the outage", || async { (app.get("/readyz").await.status == 503).then_some(()) })
        .await;

    proxy.restore();
    eventually("the node recovers", || async {
        (app.get("/readyz").await.status == 200 && app.get("/api/v1/articles").await.status == 200).then_some(())
    })
    .await;
}
