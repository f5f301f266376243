//! The Atom feed, checked by a feed parser nobody on this project wrote (feed-rs).

use masthead::auth::Role;
use serde_json::json;

use crate::harness::{Backend, spawn, spawn_with};

backend_tests!(the_atom_feed_is_valid_and_filterable, links_come_from_the_configured_address_only);

async fn the_atom_feed_is_valid_and_filterable(backend: Backend) {
    let app = spawn(backend).await;
    let ada = app.user(Role::Author, "Ada & Co").await;
    let grace = app.user(Role::Author, "Grace").await;
    app.published(&ada, json!({"title": "Fish & <Chips> — “quoted”", "body_markdown": "A *body* with <b>raw</b> & more.", "tags": ["Food"]})).await;
    app.published(&grace, json!({"title": "Compilers", "body_markdown": "Text.", "tags": ["Code"]})).await;
    app.draft(&grace, json!({"title": "Unpublished", "body_markdown": ""})).await;

    let response = app.get("/api/v1/feed.atom").await;
    response.assert_status(200);
    assert_eq!(response.header("content-type"), Some("application/atom+xml; charset=utf-8"));
    assert!(response.header("etag").is_some());
    let feed = feed_rs::parser::parse(response.body.as_ref()).expect("a valid feed");
    assert_eq!(feed.feed_type, feed_rs::model::FeedType::Atom);
    assert_eq!(feed.entries.len(), 2, "drafts stay out");
    let newest = &feed.entries[0];
    assert_eq!(newest.title.as_ref().unwrap().content, "Compilers");
    let fish = &feed.entries[1];
    assert_eq!(fish.title.as_ref().unwrap().content, "Fish & <Chips> — “quoted”");
    assert_eq!(fish.authors[0].name.as_deref(), Some("Ada & Co"));
    assert_eq!(fish.categories[0].term, "food");
    let content = fish.content.as_ref().unwrap().body.as_deref().unwrap();
    assert!(content.contains("<em>body</em>") && !content.contains("<b>"), "{content}");
    assert!(fish.links[0].href.ends_with("/api/v1/articles/fish-chips-quoted"), "{:?}", fish.links);
    assert!(fish.published.is_some());
    assert!(fish.id.starts_with("tag:") && fish.id.contains(",2026:articles/"), "a tag URI: {}", fish.id);
    assert_ne!(fish.id, newest.id);

    // The entry id is permanent: a new slug is not a new entry to feed readers.
    let fish_id = app.get_as(&ada, "/api/v1/admin/articles?q=fish").await.json()["data"][0]["id"].clone();
    app.patch_as(&ada, &format!("/api/v1/admin/articles/{fish_id}"), json!({"slug": "fish-and-chips"}))
        .await
        .assert_status(200);
    let renamed = feed_rs::parser::parse(app.get("/api/v1/feed.atom").await.body.as_ref()).unwrap();
    assert!(renamed.entries[1].links[0].href.ends_with("/api/v1/articles/fish-and-chips"));
    assert_eq!(renamed.entries[1].id, fish.id);

    let by_tag = feed_rs::parser::parse(app.get("/api/v1/feed.atom?tag=code").await.body.as_ref()).unwrap();
    assert_eq!(by_tag.entries.len(), 1);
    assert_eq!(by_tag.entries[0].title.as_ref().unwrap().content, "Compilers");
    let by_author = feed_rs::parser::parse(app.get("/api/v1/feed.atom?author=ada-co").await.body.as_ref()).unwrap();
    assert_eq!(by_author.entries.len(), 1);
    app.get("/api/v1/feed.atom?format=rss").await.assert_problem(400);
}

/// The feed is cached and served to everyone asking for its URL, so nothing in it may come from
/// what one client sent: not `Host`, not forwarding headers (trusted proxy or not).
async fn links_come_from_the_configured_address_only(backend: Backend) {
    let app = spawn_with(backend, |config| config.trust_proxy = true).await;
    let author = app.user(Role::Author, "Ada").await;
    app.published(&author, json!({"title": "Fish", "body_markdown": "x"})).await;
    let hostile = [
        ("Host", "evil.example"),
        ("X-Forwarded-Host", "evil.example"),
        ("X-Forwarded-Proto", "javascript"),
        ("Forwarded", "host=evil.example;proto=javascript"),
    ];
    let mut request = actix_web::test::TestRequest::get().uri("/api/v1/feed.atom");
    for header in hostile {
        request = request.insert_header(header);
    }
    let poisoned = app.send(request).await;
    poisoned.assert_status(200);
    let plain = app.get("/api/v1/feed.atom").await;
    for response in [&poisoned, &plain] {
        let text = response.text();
        assert!(!text.contains("evil") && !text.contains("javascript"), "{text}");
        let feed = feed_rs::parser::parse(response.body.as_ref()).expect("a valid feed");
        assert_eq!(feed.entries[0].links[0].href, "https://news.example.com/api/v1/articles/fish");
        assert!(feed.entries[0].id.starts_with("tag:news.example.com,2026:articles/"), "{}", feed.entries[0].id);
    }
    assert_eq!(poisoned.body, plain.body);

    // Without MASTHEAD_PUBLIC_URL, links name the listen address on loopback.
    let app = spawn_with(backend, |config| {
        config.public_url = None;
        config.addr = "0.0.0.0:8080".parse().unwrap();
    })
    .await;
    let author = app.user(Role::Author, "Ada").await;
    app.published(&author, json!({"title": "Fish", "body_markdown": "x"})).await;
    let request = actix_web::test::TestRequest::get().uri("/api/v1/feed.atom").insert_header(("Host", "evil.example"));
    let feed = feed_rs::parser::parse(app.send(request).await.body.as_ref()).expect("a valid feed");
    assert_eq!(feed.entries[0].links[0].href, "http://127.0.0.1:8080/api/v1/articles/fish");
}
