//! `/sitemap.xml`: the front end's public URLs, read back with an XML parser; an index of parts
//! past the part size.

use std::collections::BTreeSet;

use masthead::auth::Role;
use masthead::site::PathTemplate;
use quick_xml::Reader;
use quick_xml::events::Event;
use serde_json::json;

use crate::harness::{Backend, TestResponse, spawn, spawn_with};

backend_tests!(
    without_a_site_address_there_is_no_sitemap,
    the_sitemap_lists_public_urls_only,
    a_large_sitemap_is_an_index_of_parts
);

const SITE: &str = "https://www.example.com";

/// The texts of every `<tag>` in a sitemap, which must be well-formed XML with the protocol's
/// namespace on its root.
fn texts(response: &TestResponse, tag: &str) -> Vec<String> {
    response.assert_status(200);
    assert_eq!(response.header("content-type"), Some("application/xml"));
    let body = response.text();
    assert!(body.contains("xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\""), "{body}");
    let mut reader = Reader::from_str(&body);
    let (mut found, mut current): (Vec<String>, Option<String>) = (Vec::new(), None);
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(start) if start.name().as_ref() == tag.as_bytes() => current = Some(String::new()),
            Event::Text(text) => {
                if let Some(current) = &mut current {
                    current.push_str(&text.decode().expect("UTF-8"));
                }
            }
            Event::GeneralRef(entity) => {
                if let Some(current) = &mut current {
                    let name = entity.decode().expect("UTF-8");
                    current.push_str(quick_xml::escape::resolve_predefined_entity(&name).expect("a predefined entity"));
                }
            }
            Event::End(_) => found.extend(current.take()),
            Event::Eof => break,
            _ => {}
        }
    }
    found
}

async fn without_a_site_address_there_is_no_sitemap(backend: Backend) {
    let app = spawn(backend).await;
    let problem = app.get("/sitemap.xml").await.assert_problem(404);
    assert!(problem["detail"].as_str().unwrap().contains("MASTHEAD_SITE_URL"));
    app.get("/sitemap-1.xml").await.assert_problem(404);
}

async fn the_sitemap_lists_public_urls_only(backend: Backend) {
    let app = spawn_with(backend, |config| {
        config.site.url = Some(SITE.into());
        config.site.article_path = PathTemplate::parse("/{year}/{slug}/", true).unwrap();
        config.site.tag_path = PathTemplate::parse("/topics/{slug}", false).unwrap();
    })
    .await;
    let ada = app.user(Role::Author, "Ada").await;
    let idle = app.user(Role::Author, "Idle").await;
    let editor = app.user(Role::Editor, "Eve").await;
    app.published(&ada, json!({"title": "Fish & chips", "body_markdown": "x", "tags": ["Food", "Ünïcode"]})).await;
    app.published(&ada, json!({"title": "Second", "body_markdown": "x", "tags": ["Food"]})).await;
    app.draft(&idle, json!({"title": "Draft", "body_markdown": "x", "tags": ["Secret"]})).await;
    let trashed = app.published(&editor, json!({"title": "Trashed", "body_markdown": "x", "tags": ["Gone"]})).await;
    app.delete_as(&editor, &format!("/api/v1/admin/articles/{}", trashed["id"])).await.assert_status(204);
    let scheduled = app.draft(&idle, json!({"title": "Later", "body_markdown": "x", "tags": ["Soon"]})).await;
    let at = app.now() + chrono::Duration::days(2);
    app.post_as(
        &editor,
        &format!("/api/v1/admin/articles/{}/publish", scheduled["id"]),
        json!({"published_at": at.to_rfc3339()}),
    )
    .await
    .assert_status(200);

    let year = app.now().format("%Y").to_string();
    let expected = |extra: &[String]| {
        let mut urls: BTreeSet<String> = [
            format!("{SITE}/{year}/fish-chips/"),
            format!("{SITE}/{year}/second/"),
            format!("{SITE}/topics/food"),
            format!("{SITE}/topics/unicode"),
            format!("{SITE}/author/ada"),
        ]
        .into_iter()
        .collect();
        urls.extend(extra.iter().cloned());
        urls
    };
    let response = app.get("/sitemap.xml").await;
    assert!(response.header("etag").is_some());
    assert!(response.header("cache-control").unwrap().starts_with("public"));
    let locs: BTreeSet<String> = texts(&response, "loc").into_iter().collect();
    assert_eq!(locs, expected(&[]), "no draft, scheduled or trashed article, nor their tags and authors");
    let lastmods = texts(&response, "lastmod");
    assert_eq!(lastmods.len(), 5);
    for lastmod in &lastmods {
        chrono::DateTime::parse_from_rfc3339(lastmod).unwrap_or_else(|e| panic!("{lastmod}: {e}"));
    }

    // The scheduled article appears when its time comes, with its tag and its author.
    app.advance(chrono::Duration::days(3));
    let locs: BTreeSet<String> = texts(&app.get("/sitemap.xml").await, "loc").into_iter().collect();
    let year_then = at.format("%Y").to_string();
    let extra = [format!("{SITE}/{year_then}/later/"), format!("{SITE}/topics/soon"), format!("{SITE}/author/idle")];
    assert_eq!(locs, expected(&extra));
}

async fn a_large_sitemap_is_an_index_of_parts(backend: Backend) {
    let app = spawn_with(backend, |config| {
        config.site.url = Some(format!("{SITE}/news"));
        config.site.sitemap_part_urls = 2;
    })
    .await;
    let ada = app.user(Role::Author, "Ada").await;
    for n in 1..=4 {
        app.published(&ada, json!({"title": format!("Story {n}"), "body_markdown": "x", "tags": ["News"]})).await;
    }
    // Four articles, a tag and an author: three parts of two.
    let index = app.get("/sitemap.xml").await;
    assert!(index.text().contains("<sitemapindex"));
    let parts = texts(&index, "loc");
    assert_eq!(parts, (1..=3).map(|n| format!("{SITE}/news/sitemap-{n}.xml")).collect::<Vec<_>>());
    let mut seen = Vec::new();
    for n in 1..=3 {
        let part = app.get(&format!("/sitemap-{n}.xml")).await;
        assert!(part.text().contains("<urlset"));
        let locs = texts(&part, "loc");
        assert_eq!(locs.len(), 2, "part {n}");
        seen.extend(locs);
    }
    let unique: BTreeSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), 6, "no URL twice: {seen:?}");
    assert!(seen.contains(&format!("{SITE}/news/story-4")) && seen.contains(&format!("{SITE}/news/author/ada")));
    for missing in ["/sitemap-4.xml", "/sitemap-0.xml", "/sitemap-x.xml", "/sitemap-99999999999999999999.xml"] {
        app.get(missing).await.assert_problem(404);
    }
}
