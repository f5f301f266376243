//! Querying the public list: filters, sort orders, cursors, `Link`, light and full items.

use std::collections::HashSet;

use actix_web::test::TestRequest;
use masthead::auth::Role;
use serde_json::{Value, json};

use crate::harness::{Backend, spawn};

backend_tests!(
    filters_combine,
    sort_orders,
    cursors_walk_the_whole_list_once,
    link_headers_point_to_the_neighbours,
    items_are_light_unless_asked,
    times_beyond_the_stored_range_are_bounds_or_refusals,
);

fn slugs(body: &Value) -> Vec<String> {
    body["data"].as_array().unwrap().iter().map(|a| a["slug"].as_str().unwrap().to_string()).collect()
}

async fn filters_combine(backend: Backend) {
    let app = spawn(backend).await;
    let ada = app.user(Role::Author, "Ada").await;
    let grace = app.user(Role::Author, "Grace").await;
    let publish_at = |day: u32| json!({"published_at": format!("2024-01-{day:02}T12:00:00Z")});
    for (author, slug, tags, featured, day) in [
        (&ada, "a1", vec!["math"], true, 1),
        (&ada, "a2", vec!["math", "history"], false, 2),
        (&grace, "g1", vec!["compilers"], false, 3),
        (&grace, "g2", vec!["compilers", "math"], true, 4),
    ] {
        let draft = app
            .draft(
                author,
                json!({"title": slug, "slug": slug, "body_markdown": "", "tags": tags, "featured": featured}),
            )
            .await;
        app.post_as(author, &format!("/api/v1/admin/articles/{}/publish", draft["id"]), publish_at(day))
            .await
            .assert_status(200);
    }
    let list = |query: &str| {
        let uri = format!("/api/v1/articles?{query}");
        let app = &app;
        async move { slugs(&app.get(&uri).await.json()) }
    };
    assert_eq!(list("tag=history,compilers").await, ["g2", "g1", "a2"]);
    assert_eq!(list("tag_all=math,compilers").await, ["g2"]);
    assert_eq!(list("tag_all=math&author=ada").await, ["a2", "a1"]);
    assert_eq!(list("featured=true").await, ["g2", "a1"]);
    assert_eq!(list("featured=false&tag=math").await, ["a2"]);
    assert_eq!(list("published_after=2024-01-02T12:00:00Z").await, ["g2", "g1", "a2"]);
    assert_eq!(list("published_before=2024-01-02T12:00:00Z").await, ["a1"]);
    assert_eq!(list("published_after=2024-01-02T00:00:00Z&published_before=2024-01-04T00:00:00Z").await, ["g1", "a2"]);
    assert_eq!(list("tag=no-such-tag").await, Vec::<String>::new());
    assert_eq!(list("tag=Not%20A%20Slug").await, Vec::<String>::new());

    for (query, parameter) in [
        ("published_after=yesterday", "published_after"),
        ("featured=maybe", "featured"),
        ("sort=random", "sort"),
        ("include=everything", "include"),
    ] {
        let problem = app.get(&format!("/api/v1/articles?{query}")).await.assert_problem(400);
        assert!(problem["detail"].as_str().unwrap().contains(parameter), "{query}: {problem}");
    }
    let many: Vec<String> = (0..11).map(|i| format!("t{i}")).collect();
    let problem = app.get(&format!("/api/v1/articles?tag={}", many.join(","))).await.assert_problem(422);
    assert_eq!(problem["errors"][0]["field"], "tag");
}

async fn sort_orders(backend: Backend) {
    let app = spawn(backend).await;
    let author = app.user(Role::Author, "Arthur").await;
    for (title, day) in [("Banana", 2), ("apple", 3), ("Cherry", 1)] {
        let draft = app.draft(&author, json!({"title": title, "body_markdown": ""})).await;
        let at = json!({"published_at": format!("2024-02-{day:02}T00:00:00Z")});
        app.post_as(&author, &format!("/api/v1/admin/articles/{}/publish", draft["id"]), at).await.assert_status(200);
    }
    // Touch Banana last.
    let banana = app.get_as(&author, "/api/v1/admin/articles?q=banana").await.json()["data"][0]["id"].clone();
    app.patch_as(&author, &format!("/api/v1/admin/articles/{banana}"), json!({"featured": true}))
        .await
        .assert_status(200);
    let list = |sort: &str| {
        let uri = format!("/api/v1/articles?sort={sort}");
        let app = &app;
        async move { slugs(&app.get(&uri).await.json()) }
    };
    assert_eq!(list("-published_at").await, ["apple", "banana", "cherry"]);
    assert_eq!(list("published_at").await, ["cherry", "banana", "apple"]);
    assert_eq!(list("-updated_at").await[0], "banana");
    assert_eq!(list("title").await, ["apple", "banana", "cherry"], "case-insensitive");
}

async fn cursors_walk_the_whole_list_once(backend: Backend) {
    let app = spawn(backend).await;
    let author = app.user(Role::Author, "Arthur").await;
    // Several share a publication time: ties are broken by id.
    for i in 0..7 {
        // Titles that sort differently by bytes, by case and by accent.
        let title = ["Zebra", "über", "Apple", "éclair", "apple", "Ábaco", "mango"][i];
        let draft = app.draft(&author, json!({"title": title, "body_markdown": ""})).await;
        let at = json!({"published_at": format!("2024-03-0{}T00:00:00Z", 1 + i / 3)});
        app.post_as(&author, &format!("/api/v1/admin/articles/{}/publish", draft["id"]), at).await.assert_status(200);
    }
    // Scheduled: newer than every cursor, so no page of any walk may show it.
    let scheduled = app.draft(&author, json!({"title": "Tomorrow", "body_markdown": ""})).await;
    let at = json!({"published_at": "2999-01-01T00:00:00Z"});
    app.post_as(&author, &format!("/api/v1/admin/articles/{}/publish", scheduled["id"]), at).await.assert_status(200);
    for sort in ["-published_at", "published_at", "title", "-updated_at"] {
        let expected = slugs(&app.get(&format!("/api/v1/articles?sort={sort}&per_page=100")).await.json());
        let mut walked = Vec::new();
        let mut uri = format!("/api/v1/articles?sort={sort}&per_page=3");
        let mut pages = 0;
        loop {
            let page = app.get(&uri).await;
            page.assert_status(200);
            let body = page.json();
            walked.extend(slugs(&body));
            pages += 1;
            match body["meta"]["next_cursor"].as_str() {
                Some(cursor) => {
                    assert!(page.header("link").unwrap().contains("rel=\"next\""));
                    uri = format!("/api/v1/articles?sort={sort}&per_page=3&cursor={cursor}");
                }
                None => break,
            }
            assert!(pages < 10, "the walk does not end");
        }
        assert_eq!(pages, 3, "{sort}");
        assert_eq!(walked, expected, "{sort}");
        assert_eq!(walked.iter().collect::<HashSet<_>>().len(), 7);
    }
    // By title: case and accents ignored, the same on both backends; ties by id.
    let by_title = ["abaco", "apple", "apple-2", "eclair", "mango", "uber", "zebra"];
    assert_eq!(slugs(&app.get("/api/v1/articles?sort=title").await.json()), by_title);
    // Rows written before the title key existed get theirs when the database is next opened.
    {
        use diesel::prelude::*;
        use masthead::schema::articles;
        let mut conn = app.state.db.conn().unwrap();
        diesel::update(articles::table).set(articles::title_key.eq("")).execute(&mut conn).unwrap();
    }
    app.state.db.migrate().unwrap();
    assert_eq!(slugs(&app.get("/api/v1/articles?sort=title&per_page=50").await.json()), by_title);

    let first = app.get("/api/v1/articles?per_page=3").await.json();
    let cursor = first["meta"]["next_cursor"].as_str().unwrap().to_string();
    assert!(first["meta"].get("total").is_some(), "page-number pages keep their totals");
    let second = app.get(&format!("/api/v1/articles?per_page=3&cursor={cursor}")).await.json();
    assert!(second["meta"].get("total").is_none() && second["meta"].get("page").is_none());
    // A cursor carries its order and replaces `page`.
    let with_page = app.get(&format!("/api/v1/articles?page=2&per_page=3&cursor={cursor}")).await.json();
    assert_eq!(with_page["data"], second["data"]);
    let other_sort = app.get(&format!("/api/v1/articles?sort=title&per_page=3&cursor={cursor}")).await.json();
    assert_eq!(other_sort["data"], second["data"]);
    for garbage in ["not-a-cursor", "n.1", "t.zz.1", "r.-1", "eyJzIjoiLXB1Ymxpc2hlZF9hdCJ9"] {
        let problem = app.get(&format!("/api/v1/articles?cursor={garbage}")).await.assert_problem(400);
        assert!(problem["detail"].as_str().unwrap().contains("cursor"));
    }
}

async fn link_headers_point_to_the_neighbours(backend: Backend) {
    let app = spawn(backend).await;
    let author = app.user(Role::Author, "Arthur").await;
    for i in 0..7 {
        app.published(&author, json!({"title": format!("Item {i}"), "body_markdown": "", "tags": ["t"]})).await;
    }
    let page = app.get("/api/v1/articles?tag=t&page=2&per_page=3").await;
    let link = page.header("link").unwrap().to_string();
    let cursor = page.json()["meta"]["next_cursor"].as_str().unwrap().to_string();
    assert!(link.contains(&format!("</api/v1/articles?tag=t&per_page=3&cursor={cursor}>; rel=\"next\"")), "{link}");
    assert!(link.contains("</api/v1/articles?tag=t&per_page=3&page=1>; rel=\"prev\""), "{link}");
    assert!(link.contains("</api/v1/articles?tag=t&per_page=3>; rel=\"first\""), "{link}");
    assert!(link.contains("</api/v1/articles?tag=t&per_page=3&page=3>; rel=\"last\""), "{link}");
    let last = app.get("/api/v1/articles?tag=t&page=3&per_page=3").await;
    assert!(!last.header("link").unwrap().contains("rel=\"next\""));
    assert_eq!(last.json()["meta"]["next_cursor"], Value::Null);
    let cors = app
        .send(TestRequest::get().uri("/api/v1/articles").insert_header(("Origin", "https://front.example.com")))
        .await;
    assert!(cors.header("access-control-expose-headers").unwrap().to_lowercase().contains("link"));
}

async fn items_are_light_unless_asked(backend: Backend) {
    let app = spawn(backend).await;
    let author = app.user(Role::Author, "Arthur").await;
    app.published(&author, json!({"title": "Full", "body_markdown": "Some *body* here."})).await;
    let light = app.get("/api/v1/articles").await.json()["data"][0].clone();
    assert!(light.get("body_html").is_none() && light.get("body_text").is_none());
    let full = app.get("/api/v1/articles?include=body").await.json()["data"][0].clone();
    assert_eq!(full["body_html"], "<p>Some <em>body</em> here.</p>\n");
    assert!(full.get("body_text").is_none(), "the text only when asked for by name");
    let picked = app.get("/api/v1/articles?fields=slug,title,body_text").await.json();
    assert_eq!(picked["data"][0], json!({"slug": "full", "title": "Full", "body_text": "Some body here."}));
    assert_eq!(picked["meta"]["total"], 1);
    let problem = app.get("/api/v1/articles?fields=slug,password").await.assert_problem(400);
    assert!(problem["detail"].as_str().unwrap().contains("password"));
    let single = app.get("/api/v1/articles/full").await.json();
    assert_eq!(single["data"]["body_text"], "Some body here.");
}

/// Stored times are years 1 to 9999 (UTC) on both backends. A filter beyond them selects what
/// the range's end would (PostgreSQL answered 500 to `-5000-…`); a publication time beyond them is
/// a 422 naming the field, never a 500 and never a row SQLite would order wrongly.
async fn times_beyond_the_stored_range_are_bounds_or_refusals(backend: Backend) {
    let app = spawn(backend).await;
    let author = app.user(Role::Author, "Arthur").await;
    let early = app.draft(&author, json!({"title": "Early", "body_markdown": "x"})).await["id"].clone();
    let publish = |id: Value, at: &str| {
        let body = json!({"published_at": at});
        let path = format!("/api/v1/admin/articles/{id}/publish");
        let app = &app;
        let author = &author;
        async move { app.post_as(author, &path, body).await }
    };
    for at in
        ["-4714-11-23T00:00:00Z", "0001-01-01T05:00:00+06:00", "9999-12-31T23:00:00-05:00", "+10000-01-01T00:00:00Z"]
    {
        let problem = publish(early.clone(), at).await.assert_problem(422);
        assert_eq!(problem["errors"][0]["field"], "published_at", "{at}: {problem}");
    }
    publish(early, "0001-01-01T00:00:00Z").await.assert_status(200);
    app.published(&author, json!({"title": "Now", "body_markdown": "x"})).await;

    for (query, expected) in [
        ("published_after=-5000-01-01T00:00:00Z", vec!["now", "early"]),
        ("published_after=%2B10000-01-01T00:00:00Z", vec![]),
        ("published_before=-5000-01-01T00:00:00Z", vec![]),
        ("published_before=0001-01-01T00:00:00.000001Z", vec!["early"]),
        ("published_before=%2B20000-01-01T00:00:00Z", vec!["now", "early"]),
    ] {
        let response = app.get(&format!("/api/v1/articles?{query}")).await;
        response.assert_status(200);
        assert_eq!(slugs(&response.json()), expected, "{query}");
    }
}
