//! Redirects: articles' former slugs (301 from the public route, never taken by another
//! article), path redirects managed by editors, and the public redirect table.

use masthead::auth::Role;
use masthead::site::PathTemplate;
use serde_json::{Value, json};

use crate::harness::{Backend, spawn, spawn_with};

backend_tests!(
    a_public_articles_former_slugs_lead_to_it_and_stay_its_own,
    path_redirects_are_checked_chained_and_never_loop,
    the_public_table_speaks_in_the_front_ends_paths,
);

fn location(response: &crate::harness::TestResponse) -> String {
    response.header("location").expect("a Location header").to_string()
}

async fn a_public_articles_former_slugs_lead_to_it_and_stay_its_own(backend: Backend) {
    let app = spawn(backend).await;
    let author = app.user(Role::Author, "Ada").await;
    let editor = app.user(Role::Editor, "Eve").await;
    let article = app.published(&author, json!({"title": "Hello", "body_markdown": "x"})).await;
    let path = format!("/api/v1/admin/articles/{}", article["id"]);
    app.patch_as(&author, &path, json!({"slug": "hello-again"})).await.assert_status(200);

    let moved = app.get("/api/v1/articles/hello").await;
    moved.assert_status(301);
    assert!(location(&moved).ends_with("/api/v1/articles/hello-again"), "{}", location(&moved));
    assert!(moved.header("cache-control").unwrap().starts_with("public"));
    app.get("/api/v1/articles/hello-again").await.assert_status(200);

    // A chain collapses: every former slug leads to the slug of today.
    app.patch_as(&author, &path, json!({"slug": "hello-three"})).await.assert_status(200);
    for old in ["hello", "hello-again"] {
        let moved = app.get(&format!("/api/v1/articles/{old}")).await;
        moved.assert_status(301);
        assert!(location(&moved).ends_with("/api/v1/articles/hello-three"), "{old}");
    }

    // Former slugs are the article's own: no other article takes them, by name or by derivation.
    let taken = app
        .post_as(&author, "/api/v1/admin/articles", json!({"title": "X", "slug": "hello", "body_markdown": ""}))
        .await;
    assert!(taken.assert_problem(409)["detail"].as_str().unwrap().contains("redirect"));
    let derived = app.draft(&author, json!({"title": "Hello", "body_markdown": ""})).await;
    assert_eq!(derived["slug"], "hello-2");
    let other = format!("/api/v1/admin/articles/{}", derived["id"]);
    app.patch_as(&author, &other, json!({"slug": "hello-again"})).await.assert_problem(409);

    // Taking a former slug back is no loop: it is the article's slug again, and the newer one
    // leads to it.
    app.patch_as(&author, &path, json!({"slug": "hello"})).await.assert_status(200);
    app.get("/api/v1/articles/hello").await.assert_status(200);
    let moved = app.get("/api/v1/articles/hello-three").await;
    moved.assert_status(301);
    assert!(location(&moved).ends_with("/api/v1/articles/hello"));
    let listed = app.get_as(&editor, &format!("/api/v1/admin/redirects?kind=slug&article_id={}", article["id"])).await;
    listed.assert_status(200);
    let listed = listed.json();
    let froms: Vec<&str> = listed["data"].as_array().unwrap().iter().map(|r| r["from"].as_str().unwrap()).collect();
    assert_eq!(froms, ["hello-again", "hello-three"]);
    assert!(listed["data"].as_array().unwrap().iter().all(|r| r["status"] == 301 && r["kind"] == "slug"));

    // An article that is no longer public leads nowhere: no redirect tells its new slug.
    app.post_as(&author, &format!("{path}/unpublish"), Value::Null).await.assert_status(200);
    app.get("/api/v1/articles/hello-three").await.assert_problem(404);
    app.post_as(&author, &format!("{path}/publish"), Value::Null).await.assert_status(200);
    app.get("/api/v1/articles/hello-three").await.assert_status(301);

    // A former slug may not be changed, only deleted, which frees it.
    let again = listed["data"][0]["id"].clone();
    let redirect = format!("/api/v1/admin/redirects/{again}");
    app.patch_as(&editor, &redirect, json!({"status": 302})).await.assert_problem(409);
    app.delete_as(&editor, &redirect).await.assert_status(204);
    app.get("/api/v1/articles/hello-again").await.assert_problem(404);
    app.patch_as(&author, &other, json!({"slug": "hello-again"})).await.assert_status(200);

    // A draft that was never public keeps no former slug.
    let draft = app.draft(&author, json!({"title": "Secret plan", "body_markdown": ""})).await;
    app.patch_as(&author, &format!("/api/v1/admin/articles/{}", draft["id"]), json!({"slug": "open-plan"}))
        .await
        .assert_status(200);
    let none = app.get_as(&editor, &format!("/api/v1/admin/redirects?article_id={}", draft["id"])).await;
    assert_eq!(none.json()["meta"]["total"], 0);
    assert_eq!(app.draft(&author, json!({"title": "Secret plan", "body_markdown": ""})).await["slug"], "secret-plan");

    // Only slugs readers saw are kept: not a scheduled article's, nor one given while unpublished.
    let scheduled = app.draft(&author, json!({"title": "Soon", "body_markdown": ""})).await;
    let soon = format!("/api/v1/admin/articles/{}", scheduled["id"]);
    let at = (app.now() + chrono::Duration::days(1)).to_rfc3339();
    app.post_as(&author, &format!("{soon}/publish"), json!({"published_at": at})).await.assert_status(200);
    app.patch_as(&author, &soon, json!({"slug": "soon-renamed"})).await.assert_status(200);
    let kept = |id: Value| {
        let (app, editor) = (&app, &editor);
        async move {
            let listed = app.get_as(editor, &format!("/api/v1/admin/redirects?article_id={id}")).await.json();
            listed["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["from"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    assert!(kept(scheduled["id"].clone()).await.is_empty(), "a scheduled article's slug was never shown");
    let seen = app.published(&author, json!({"title": "Seen", "body_markdown": ""})).await;
    let seen_path = format!("/api/v1/admin/articles/{}", seen["id"]);
    app.post_as(&author, &format!("{seen_path}/unpublish"), Value::Null).await.assert_status(200);
    app.patch_as(&author, &seen_path, json!({"slug": "unseen"})).await.assert_status(200);
    app.patch_as(&author, &seen_path, json!({"slug": "unseen-either"})).await.assert_status(200);
    assert_eq!(kept(seen["id"].clone()).await, ["seen"], "the slug readers saw, not the one given while unpublished");

    // Deleting the article for good deletes its redirects, and frees its slugs.
    app.delete_as(&editor, &format!("{path}?permanent=true")).await.assert_status(204);
    app.get("/api/v1/articles/hello-three").await.assert_problem(404);
    let left = app.get_as(&editor, &format!("/api/v1/admin/redirects?kind=slug&article_id={}", article["id"])).await;
    assert_eq!(left.json()["meta"]["total"], 0);
    app.draft(&author, json!({"title": "x", "slug": "hello-three", "body_markdown": ""})).await;
    // Not a slug at all: a 404, not a database error.
    app.get("/api/v1/articles/%00bad").await.assert_problem(404);
}

async fn path_redirects_are_checked_chained_and_never_loop(backend: Backend) {
    let app = spawn(backend).await;
    let editor = app.user(Role::Editor, "Eve").await;
    let article = app.published(&editor, json!({"title": "Hello world", "body_markdown": "x"})).await;
    let create = |body: Value| app.post_as(&editor, "/api/v1/admin/redirects", body);

    let made = create(json!({"from": "/2016/01/hello-world/", "to": {"article_id": article["id"]}})).await;
    made.assert_status(201);
    let data = made.json()["data"].clone();
    assert_eq!(location(&made), format!("/api/v1/admin/redirects/{}", data["id"]));
    assert_eq!(data["kind"], "path");
    assert_eq!(data["from"], "/2016/01/hello-world/");
    assert_eq!(data["to"], json!({"article_id": article["id"]}));
    assert_eq!(data["status"], 301);
    let one = app.get_as(&editor, &location(&made)).await;
    one.assert_status(200);
    assert_eq!(one.json()["data"], data);
    assert_eq!(one.header("cache-control"), Some("private, no-store"));

    for (body, field) in [
        (json!({"from": "no-slash", "to": {"path": "/x"}}), "from"),
        (json!({"from": "//evil.example/x", "to": {"path": "/x"}}), "from"),
        (json!({"from": "/a b", "to": {"path": "/x"}}), "from"),
        (json!({"from": "/a#frag", "to": {"path": "/x"}}), "from"),
        (json!({"from": "/a", "to": {"path": "javascript:alert(1)"}}), "to.path"),
        (json!({"from": "/a", "to": {"path": "/a b"}}), "to.path"),
        (json!({"from": "/a"}), "to"),
        (json!({"from": "/a", "to": {"path": "/b", "article_id": article["id"]}}), "to"),
        (json!({"from": "/a", "to": {}}), "to"),
        (json!({"from": "/a", "to": {"path": "/b"}, "status": 303}), "status"),
        (json!({"from": format!("/{}", "a".repeat(2000)), "to": {"path": "/b"}}), "from"),
    ] {
        let problem = create(body.clone()).await.assert_problem(422);
        assert_eq!(problem["errors"][0]["field"], field, "{body}");
    }
    create(json!({"from": "/a", "to": {"article_id": 999_999}})).await.assert_problem(404);
    // A whole float is an integer, as JSON Schema says, also in a value of several shapes.
    let float = create(json!({"from": "/float", "to": {"article_id": article["id"].as_f64()}, "status": 301.0})).await;
    float.assert_status(201);
    app.delete_as(&editor, &location(&float)).await.assert_status(204);
    create(json!({"from": "/a", "to": {"path": "/b"}, "extra": 1})).await.assert_problem(400);
    let itself = create(json!({"from": "/a", "to": {"path": "/a"}})).await.assert_problem(409);
    assert!(itself["detail"].as_str().unwrap().contains("loop"));
    let taken = create(json!({"from": "/2016/01/hello-world/", "to": {"path": "/b"}})).await.assert_problem(409);
    assert!(taken["detail"].as_str().unwrap().contains(&format!("redirect {}", data["id"])));

    // Chains are kept as written and followed when read; a loop is refused however long.
    let ab = create(json!({"from": "/a", "to": {"path": "/b"}, "status": 302})).await.json()["data"].clone();
    create(json!({"from": "/b", "to": {"path": "/c"}})).await.assert_status(201);
    create(json!({"from": "/c", "to": {"path": "https://elsewhere.example/c?x=1"}})).await.assert_status(201);
    let looped = create(json!({"from": "/d", "to": {"path": "/e"}})).await;
    looped.assert_status(201);
    create(json!({"from": "/e", "to": {"path": "/a"}})).await.assert_status(201);
    let problem = create(json!({"from": "/b2", "to": {"path": "/d"}})).await;
    problem.assert_status(201);
    let closing =
        app.patch_as(&editor, &format!("/api/v1/admin/redirects/{}", ab["id"]), json!({"to": {"path": "/d"}})).await;
    assert!(closing.assert_problem(409)["detail"].as_str().unwrap().contains("loop"));
    let table = app.get("/api/v1/redirects").await;
    table.assert_status(200);
    let entries = table.json()["data"].clone();
    let to_of = |from: &str| {
        entries.as_array().unwrap().iter().find(|entry| entry["from"] == from).map(|entry| entry["to"].clone())
    };
    assert_eq!(to_of("/a"), Some(json!("https://elsewhere.example/c?x=1")));
    assert_eq!(to_of("/e"), Some(json!("https://elsewhere.example/c?x=1")));
    assert_eq!(to_of("/2016/01/hello-world/"), Some(json!("/hello-world")));
    let a = entries.as_array().unwrap().iter().find(|entry| entry["from"] == "/a").unwrap();
    assert_eq!(a["status"], 302, "each entry keeps its own status");

    // PATCH: a new target replaces the old; both at once is refused.
    let path = format!("/api/v1/admin/redirects/{}", ab["id"]);
    let changed = app.patch_as(&editor, &path, json!({"to": {"article_id": article["id"]}, "status": 308})).await;
    changed.assert_status(200);
    assert_eq!(changed.json()["data"]["to"], json!({"article_id": article["id"]}));
    assert_eq!(changed.json()["data"]["status"], 308);
    app.patch_as(&editor, &path, json!({"to": {"article_id": article["id"], "path": "/x"}})).await.assert_problem(422);
    app.patch_as(&editor, &path, json!({"from": "/b"})).await.assert_problem(409);
    app.patch_as(&editor, &path, json!({"to": null})).await.assert_problem(422);
    app.patch_as(&editor, "/api/v1/admin/redirects/999999", json!({"status": 301})).await.assert_problem(404);

    // A run of more than eight redirects is refused, however it would be made: here by adding at
    // its end, and by putting one before its start.
    for hop in 1..=7 {
        let body = json!({"from": format!("/run{hop}"), "to": {"path": format!("/run{}", hop + 1)}});
        create(body).await.assert_status(201);
    }
    create(json!({"from": "/run8", "to": {"path": "/run9"}})).await.assert_status(201);
    let longer = create(json!({"from": "/run9", "to": {"path": "/run10"}})).await.assert_problem(409);
    assert!(longer["detail"].as_str().unwrap().contains("more than 8 redirects"), "{longer}");
    create(json!({"from": "/run0", "to": {"path": "/run1"}})).await.assert_problem(409);
    let made = app.get_as(&editor, "/api/v1/admin/redirects?kind=path&per_page=100").await.json();
    for run in made["data"].as_array().unwrap().iter().filter(|r| r["from"].as_str().unwrap().starts_with("/run")) {
        app.delete_as(&editor, &format!("/api/v1/admin/redirects/{}", run["id"])).await.assert_status(204);
    }
    // An article's own path on the front end (`/{slug}` here) cannot lead to it.
    let own = create(json!({"from": "/hello-world", "to": {"article_id": article["id"]}})).await.assert_problem(409);
    assert!(own["detail"].as_str().unwrap().contains("loop"), "{own}");

    let kinds = app.get_as(&editor, "/api/v1/admin/redirects?kind=path&per_page=2").await;
    assert_eq!(kinds.json()["meta"]["total"], 7);
    assert_eq!(kinds.json()["data"].as_array().unwrap().len(), 2);
    app.delete_as(&editor, &path).await.assert_status(204);
    app.delete_as(&editor, &path).await.assert_problem(404);
    app.get_as(&editor, &path).await.assert_problem(404);
}

async fn the_public_table_speaks_in_the_front_ends_paths(backend: Backend) {
    let app = spawn_with(backend, |config| {
        config.site.article_path = PathTemplate::parse("/{year}/{month}/{slug}/", true).unwrap();
    })
    .await;
    let editor = app.user(Role::Editor, "Eve").await;
    let article = app.published(&editor, json!({"title": "Old name", "body_markdown": "x"})).await;
    let year_month = app.now().format("%Y/%m").to_string();
    app.patch_as(&editor, &format!("/api/v1/admin/articles/{}", article["id"]), json!({"slug": "new-name"}))
        .await
        .assert_status(200);
    let draft = app.draft(&editor, json!({"title": "Coming", "body_markdown": "x"})).await;
    app.post_as(&editor, "/api/v1/admin/redirects", json!({"from": "/?p=7", "to": {"article_id": draft["id"]}}))
        .await
        .assert_status(201);

    let table = app.get("/api/v1/redirects").await;
    table.assert_status(200);
    assert!(table.header("cache-control").unwrap().starts_with("public"));
    assert!(table.header("etag").is_some());
    assert_eq!(
        table.json()["data"],
        json!([{"from": format!("/{year_month}/old-name/"), "to": format!("/{year_month}/new-name/"), "status": 301}]),
        "the redirect to a draft stays out of the table"
    );
    app.post_as(&editor, &format!("/api/v1/admin/articles/{}/publish", draft["id"]), Value::Null)
        .await
        .assert_status(200);
    let table = app.get("/api/v1/redirects?per_page=1000").await.json();
    assert_eq!(table["data"][1], json!({"from": "/?p=7", "to": format!("/{year_month}/coming/"), "status": 301}));
    assert_eq!(table["meta"]["total"], 2);
    let page_two = app.get("/api/v1/redirects?per_page=1&page=2").await.json();
    assert_eq!(page_two["data"][0]["from"], "/?p=7");
    app.get("/api/v1/redirects?per_page=1001").await.assert_problem(422);
    app.get("/api/v1/redirects?kind=slug").await.assert_problem(400);
}
