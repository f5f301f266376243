//! Operations routes and the live documentation.

use crate::harness::{Backend, spawn_watched};

backend_tests!(health_and_readiness, not_ready_when_the_database_is_unusable, docs_are_served_offline);

async fn health_and_readiness(backend: Backend) {
    let app = spawn_watched(backend).await;
    let health = app.get("/healthz").await;
    health.assert_status(200);
    assert_eq!(health.json(), serde_json::json!({"status": "ok"}));
    assert!(health.header("x-request-id").is_some_and(|id| !id.is_empty()));
    let ready = app.get("/readyz").await;
    ready.assert_status(200);
    assert_eq!(ready.json()["status"], "ok");
    // Draining before a stop (SIGTERM): not ready, alive, and still serving.
    app.state.draining.store(true, std::sync::atomic::Ordering::SeqCst);
    let draining = app.get("/readyz").await;
    assert_eq!(draining.assert_problem(503)["type"], "urn:masthead:problem:unavailable");
    app.get("/healthz").await.assert_status(200);
    app.get("/api/v1/articles").await.assert_status(200);
}

async fn not_ready_when_the_database_is_unusable(backend: Backend) {
    let app = spawn_watched(backend).await;
    app.get("/readyz").await.assert_status(200);
    app.state
        .db
        .run(|conn| {
            use diesel::connection::SimpleConnection;
            conn.batch_execute("DROP TABLE __diesel_schema_migrations").expect("drop the migrations table");
            Ok(())
        })
        .await
        .unwrap();
    // The watcher probes twice a second, on a connection of its own.
    let response = crate::harness::eventually("/readyz answers 503", || async {
        let response = app.get("/readyz").await;
        (response.status == 503).then_some(response)
    })
    .await;
    let problem = response.assert_problem(503);
    assert_eq!(problem["type"], "urn:masthead:problem:unavailable");
    assert_eq!(response.header("retry-after"), Some("5"));
    assert!(!response.text().contains("__diesel"), "the cause is logged, not sent");
    app.get("/healthz").await.assert_status(200);
}

async fn docs_are_served_offline(backend: Backend) {
    let app = spawn_watched(backend).await;
    let spec = app.get("/openapi.json").await;
    spec.assert_status(200);
    assert_eq!(spec.json(), serde_json::to_value(masthead::app::document()).unwrap());

    let redirect = app.get("/docs").await;
    redirect.assert_status(308);
    assert_eq!(redirect.header("location"), Some("/docs/"));
    let page = app.get("/docs/").await;
    page.assert_status(200);
    assert!(page.text().contains("swagger-ui"), "{}", page.text());
    // The assets come from the binary, not from a CDN.
    assert!(!page.text().contains("https://"), "{}", page.text());
    app.get("/docs/swagger-ui-bundle.js").await.assert_status(200);
    let initializer = app.get("/docs/swagger-initializer.js").await;
    initializer.assert_status(200);
    assert!(initializer.text().contains("/openapi.json"));
}
