//! Concurrent writers: what PostgreSQL lets happen in parallel must not turn into errors or
//! lost data.

use futures_util::future::join_all;
use masthead::auth::Role;
use serde_json::json;

use crate::harness::{Backend, spawn};

backend_tests!(parallel_creates_get_unique_slugs_and_share_new_tags);

async fn parallel_creates_get_unique_slugs_and_share_new_tags(backend: Backend) {
    let app = spawn(backend).await;
    let author = app.user(Role::Author, "Arthur").await;
    let requests = (0..12).map(|_| {
        app.post_as(
            &author,
            "/api/v1/admin/articles",
            json!({"title": "Same title", "body_markdown": "x", "tags": ["Brand new"]}),
        )
    });
    let responses = join_all(requests).await;
    let mut slugs: Vec<String> = responses
        .iter()
        .map(|r| {
            r.assert_status(201);
            r.json()["data"]["slug"].as_str().unwrap().to_string()
        })
        .collect();
    slugs.sort();
    slugs.dedup();
    assert_eq!(slugs.len(), 12, "{slugs:?}");
    assert!(slugs.contains(&"same-title".to_string()));
    let tags = app.get_as(&author, "/api/v1/admin/tags").await.json();
    assert_eq!(tags["meta"]["total"], 1);
}
