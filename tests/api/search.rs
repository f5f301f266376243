//! Full-text search on the public list (SQLite FTS5, PostgreSQL tsvector), kept in step with writes.

use masthead::auth::Role;
use serde_json::{Value, json};

use crate::harness::{Backend, spawn};

backend_tests!(search_finds_ranks_and_follows_edits, search_input_is_checked);

fn slugs(body: &Value) -> Vec<String> {
    body["data"].as_array().unwrap().iter().map(|a| a["slug"].as_str().unwrap().to_string()).collect()
}

async fn search_finds_ranks_and_follows_edits(backend: Backend) {
    let app = spawn(backend).await;
    let author = app.user(Role::Author, "Ada").await;
    app.published(&author, json!({"title": "Looms", "slug": "looms", "body_markdown": "Cards drive the loom, as they could drive an engine."})).await;
    app.published(
        &author,
        json!({"title": "The Analytical Engine", "slug": "engine", "body_markdown": "An engine that weaves algebra."}),
    )
    .await;
    app.published(
        &author,
        json!({"title": "Gardening", "slug": "gardening", "body_markdown": "Nothing mechanical here."}),
    )
    .await;
    app.published(
        &author,
        json!({"title": "Café society", "slug": "cafe", "body_markdown": "A naïve Zoë, über alles."}),
    )
    .await;
    let draft = app.draft(&author, json!({"title": "Secret engine", "body_markdown": "engine engine"})).await;
    let trashed = app.published(&author, json!({"title": "Old engine", "body_markdown": "engine"})).await;
    app.delete_as(&author, &format!("/api/v1/admin/articles/{}", trashed["id"])).await.assert_status(204);

    let search = |query: &str| {
        let uri = format!("/api/v1/articles?{query}");
        let app = &app;
        async move {
            let response = app.get(&uri).await;
            response.assert_status(200);
            slugs(&response.json())
        }
    };
    // Drafts and trashed articles are never found.
    let mut found = search("q=engine").await;
    found.sort();
    assert_eq!(found, ["engine", "looms"]);
    // The title counts most.
    assert_eq!(search("q=engine&sort=relevance").await, ["engine", "looms"]);
    assert_eq!(search("q=ENGINE&sort=relevance").await, ["engine", "looms"]);
    // Accents are ignored both ways, on both backends.
    assert_eq!(search("q=cafe").await, ["cafe"]);
    assert_eq!(search("q=caf%C3%A9%20naive%20zoe%20UBER").await, ["cafe"]);
    assert_eq!(search("q=na%C3%AFve").await, ["cafe"]);
    // Every word must match.
    assert_eq!(search("q=engine%20cards").await, ["looms"]);
    assert_eq!(search("q=engine%20gardening").await, Vec::<String>::new());
    // Filters still apply.
    assert_eq!(search("q=engine&tag=none").await, Vec::<String>::new());
    // Edits are searchable at once; so is a new publication.
    let looms = app.get_as(&author, "/api/v1/admin/articles?q=looms").await.json()["data"][0]["id"].clone();
    app.patch_as(&author, &format!("/api/v1/admin/articles/{looms}"), json!({"body_markdown": "Jacquard cards."}))
        .await
        .assert_status(200);
    assert_eq!(search("q=engine").await, ["engine"]);
    assert_eq!(search("q=jacquard").await, ["looms"]);
    app.post_as(&author, &format!("/api/v1/admin/articles/{}/publish", draft["id"]), Value::Null)
        .await
        .assert_status(200);
    assert_eq!(search("q=secret").await, ["secret-engine"]);

    // Relevance pages by cursor too, in the same order as one big page.
    let all = search("q=engine&sort=relevance").await;
    assert_eq!(all.len(), 2);
    let first = app.get("/api/v1/articles?q=engine&sort=relevance&per_page=1").await.json();
    let cursor = first["meta"]["next_cursor"].as_str().unwrap().to_string();
    let second = app.get(&format!("/api/v1/articles?q=engine&sort=relevance&per_page=1&cursor={cursor}")).await;
    second.assert_status(200);
    let second = second.json();
    assert_eq!([slugs(&first), slugs(&second)].concat(), all);
    assert_eq!(second["meta"]["next_cursor"], Value::Null);
}

async fn search_input_is_checked(backend: Backend) {
    let app = spawn(backend).await;
    let author = app.user(Role::Author, "Ada").await;
    app.published(&author, json!({"title": "Quotes", "body_markdown": "He said \"OR\" 1 = 1 -- and left"})).await;
    // Text without a word finds nothing; relevance without `q` is newest first.
    let nothing = app.get("/api/v1/articles?q=%22%2A%28%29").await;
    nothing.assert_status(200);
    assert_eq!(nothing.json()["data"], json!([]));
    assert_eq!(slugs(&app.get("/api/v1/articles?sort=relevance").await.json()), ["quotes"]);
    let problem = app.get(&format!("/api/v1/articles?q={}", "a".repeat(201))).await.assert_problem(422);
    assert_eq!(problem["errors"][0]["field"], "q");
    // Counted before trimming, as the document's maxLength counts.
    app.get(&format!("/api/v1/articles?q=a{}", "%20".repeat(200))).await.assert_problem(422);
    // Query syntax of either engine is not interpreted: these are just words.
    for q in ["%22OR%22%201%3D1%20--", "NEAR(he%20said)", "he%20%26%20said", "title%3Aquotes"] {
        app.get(&format!("/api/v1/articles?q={q}")).await.assert_status(200);
    }
    assert_eq!(slugs(&app.get("/api/v1/articles?q=he%20said").await.json()), ["quotes"]);
}
