//! Reader comments: posting, threads, moderation, abuse rules, and that no public route ever
//! shows a commenter's e-mail.

use actix_web::test::TestRequest;
use masthead::auth::Role;
use serde_json::{Value, json};

use crate::harness::{Backend, spawn, spawn_with};

backend_tests!(
    readers_comment_and_see_approved_threads,
    replies_nest_to_the_configured_depth,
    markup_in_comments_is_neutralised,
    no_public_route_shows_an_email,
    abuse_rules_hold_or_refuse,
    approval_rules_and_staff_comments,
    closed_unpublished_and_unknown_articles,
    moderators_list_approve_and_remove,
    comment_input_is_checked,
);

fn comment(name: &str, body: &str) -> Value {
    json!({"author_name": name, "author_email": format!("{}@readers.example", name.to_lowercase()), "body": body})
}

fn ids(thread: &Value) -> Vec<i64> {
    thread["data"].as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).collect()
}

async fn readers_comment_and_see_approved_threads(backend: Backend) {
    let app = spawn(backend).await;
    let editor = app.user(Role::Editor, "Edna").await;
    let article = app.published(&editor, json!({"title": "Talk", "body_markdown": "Hi"})).await;
    let thread_uri = "/api/v1/articles/talk/comments";

    let posted = app.comment_from("10.0.0.1", "talk", comment("Grace", "First! *Nice*")).await;
    posted.assert_status(202);
    let receipt = posted.json()["data"].clone();
    assert_eq!(receipt["status"], "pending");
    assert_eq!(receipt["author_name"], "Grace");
    assert_eq!(receipt["staff"], false);
    assert_eq!(receipt["body_html"], "<p>First! <em>Nice</em></p>\n");
    assert!(receipt.get("author_email").is_none() && receipt.get("body").is_none());
    assert_eq!(posted.header("cache-control"), Some("private, no-store"));

    // Pending: not public, not counted.
    let thread = app.get(thread_uri).await;
    thread.assert_status(200);
    assert_eq!(thread.json()["data"], json!([]));
    assert_eq!(thread.json()["meta"]["total"], 0);
    assert_eq!(app.get("/api/v1/articles/talk").await.json()["data"]["comment_count"], 0);
    let before = app.get("/api/v1/articles/talk").await;
    let last_modified = before.header("last-modified").unwrap().to_string();

    let id = receipt["id"].as_i64().unwrap();
    // Last-Modified counts whole seconds: let one pass so that the approval can move it.
    app.advance(chrono::Duration::seconds(1));
    let approved = app.patch_as(&editor, &format!("/api/v1/admin/comments/{id}"), json!({"status": "approved"})).await;
    approved.assert_status(200);
    assert_eq!(approved.json()["data"]["status"], "approved");
    assert_eq!(approved.json()["data"]["article"]["id"], article["id"]);

    let thread = app.get(thread_uri).await.json();
    assert_eq!(ids(&thread), [id]);
    let first = &thread["data"][0];
    assert_eq!(first["author_name"], "Grace");
    assert_eq!(first["body_html"], "<p>First! <em>Nice</em></p>\n");
    assert_eq!(first["removed"], false);
    assert_eq!(first["replies"], json!([]));
    assert!(first.get("author_email").is_none() && first.get("body").is_none());
    let public = app.get("/api/v1/articles/talk").await;
    assert_eq!(public.json()["data"]["comment_count"], 1);
    assert_eq!(public.json()["data"]["comments_enabled"], true);
    assert_eq!(public.json()["data"]["comments_close_at"], Value::Null);
    // The count is part of the article: its validators move with it.
    let stale = app
        .send(TestRequest::get().uri("/api/v1/articles/talk").insert_header(("If-Modified-Since", last_modified)))
        .await;
    stale.assert_status(200);
    assert_eq!(app.get("/api/v1/articles").await.json()["data"][0]["comment_count"], 1);
    assert_eq!(
        app.get_as(&editor, &format!("/api/v1/admin/articles/{}", article["id"])).await.json()["data"]["comment_count"],
        1
    );

    // Pagination is over top-level comments, oldest first by default.
    let mut all = vec![id];
    for name in ["Ada", "Linus"] {
        let posted = app.comment_from("10.0.0.2", "talk", comment(name, "More")).await.json();
        let id = posted["data"]["id"].as_i64().unwrap();
        app.patch_as(&editor, &format!("/api/v1/admin/comments/{id}"), json!({"status": "approved"}))
            .await
            .assert_status(200);
        all.push(id);
    }
    let page = app.get(&format!("{thread_uri}?per_page=2")).await.json();
    assert_eq!(ids(&page), all[..2]);
    assert_eq!(page["meta"], json!({"page": 1, "per_page": 2, "total": 3, "total_pages": 2}));
    assert_eq!(ids(&app.get(&format!("{thread_uri}?per_page=2&page=2")).await.json()), all[2..]);
    let newest: Vec<i64> = all.iter().rev().copied().collect();
    assert_eq!(ids(&app.get(&format!("{thread_uri}?sort=-created_at")).await.json()), newest);
    app.get(&format!("{thread_uri}?sort=best")).await.assert_problem(400);
    app.get(&format!("{thread_uri}?per_page=0")).await.assert_problem(422);
    app.get(&format!("{thread_uri}?color=red")).await.assert_problem(400);
    app.get("/api/v1/articles/nope/comments").await.assert_problem(404);
}

async fn replies_nest_to_the_configured_depth(backend: Backend) {
    let app = spawn_with(backend, |config| config.comments.auto_approve = true).await;
    let editor = app.user(Role::Editor, "Edna").await;
    app.published(&editor, json!({"title": "Deep", "body_markdown": "Hi"})).await;
    app.published(&editor, json!({"title": "Other", "body_markdown": "Hi"})).await;
    let post = |parent: Option<i64>, name: &'static str| {
        let mut body = comment(name, "Reply");
        body["parent_id"] = json!(parent);
        app.comment_from("10.0.0.3", "deep", body)
    };
    let top = post(None, "One").await.json()["data"]["id"].as_i64().unwrap();
    let reply = post(Some(top), "Two").await;
    reply.assert_status(202);
    assert_eq!(reply.json()["data"]["status"], "approved");
    assert_eq!(reply.json()["data"]["parent_id"], top);
    let second = reply.json()["data"]["id"].as_i64().unwrap();
    let third = post(Some(second), "Three").await.json()["data"]["id"].as_i64().unwrap();
    // Three levels by default: no reply to the third.
    let too_deep = post(Some(third), "Four").await.assert_problem(409);
    assert!(too_deep["detail"].as_str().unwrap().starts_with("`parent_id`"));
    assert!(too_deep["detail"].as_str().unwrap().contains("3 levels"));

    let thread = app.get("/api/v1/articles/deep/comments").await.json();
    assert_eq!(ids(&thread), [top]);
    assert_eq!(thread["meta"]["total"], 1);
    let level2 = &thread["data"][0]["replies"];
    assert_eq!(level2[0]["id"], second);
    assert_eq!(level2[0]["replies"][0]["id"], third);
    assert_eq!(level2[0]["replies"][0]["replies"], json!([]));
    assert_eq!(app.get("/api/v1/articles/deep").await.json()["data"]["comment_count"], 3);

    // A parent must be an approved comment of the same article.
    let on_other = app
        .comment_from(
            "10.0.0.4",
            "other",
            json!({"author_name": "X", "author_email": "x@example.com", "body": "Hi", "parent_id": top}),
        )
        .await;
    assert!(on_other.assert_problem(404)["detail"].as_str().unwrap().starts_with("`parent_id`"));
    let missing = post(Some(999_999), "Five").await.assert_problem(404);
    assert!(missing["detail"].as_str().unwrap().contains("999999"));

    // A shallower setting: replies are refused at once.
    let flat = spawn_with(backend, |config| {
        config.comments.auto_approve = true;
        config.comments.max_depth = 1;
    })
    .await;
    let editor = flat.user(Role::Editor, "Edna").await;
    flat.published(&editor, json!({"title": "Flat", "body_markdown": "Hi"})).await;
    let top = flat.comment_from("10.0.0.5", "flat", comment("One", "Hi")).await.json()["data"]["id"].as_i64().unwrap();
    let mut reply = comment("Two", "Hi");
    reply["parent_id"] = json!(top);
    flat.comment_from("10.0.0.5", "flat", reply).await.assert_problem(409);
}

async fn markup_in_comments_is_neutralised(backend: Backend) {
    let app = spawn_with(backend, |config| {
        config.comments.auto_approve = true;
        config.comments.per_minute = 100;
    })
    .await;
    let editor = app.user(Role::Editor, "Edna").await;
    app.published(&editor, json!({"title": "Safe", "body_markdown": "Hi"})).await;
    let payloads = [
        "<script>alert(1)</script>hello",
        "<img src=x onerror=alert(1)>",
        "[click](javascript:alert(1))",
        "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "<svg onload=alert(1)><circle r=1 /></svg>",
        "<a href=\"https://x.example\" onclick=\"alert(1)\">x</a>",
        "<iframe src=\"https://evil.example\"></iframe>",
        "![x](https://x.example/x.png \"onerror=alert(1)\")",
        "<div style=\"background:url(javascript:alert(1))\">x</div>",
        "[x](JaVaScRiPt:alert(1))",
        "<<script>script>alert(1)<</script>/script>",
    ];
    for payload in payloads {
        let posted = app.comment_from("10.0.0.6", "safe", comment("Mallory", payload)).await;
        posted.assert_status(202);
        let html = posted.json()["data"]["body_html"].as_str().unwrap().to_lowercase();
        for banned in
            ["<script", "javascript:", "onerror", "onload", "onclick", "<svg", "<img", "<iframe", "data:", "style="]
        {
            assert!(!html.contains(banned), "{banned} survived in {html} (from {payload})");
        }
    }
    let thread = app.get("/api/v1/articles/safe/comments?per_page=100").await;
    let text = thread.text().to_lowercase();
    assert_eq!(thread.json()["data"].as_array().unwrap().len(), payloads.len());
    for banned in ["<script", "javascript:", "onerror", "<svg", "<iframe"] {
        assert!(!text.contains(banned), "{banned} in the thread");
    }
    // Light Markdown stays, links are marked as user content.
    let posted =
        app.comment_from("10.0.0.6", "safe", comment("Grace", "See [docs](https://docs.example) and `x`")).await;
    let html = posted.json()["data"]["body_html"].as_str().unwrap().to_string();
    assert!(
        html.contains("<a href=\"https://docs.example\" rel=\"nofollow ugc noopener noreferrer\">docs</a>"),
        "{html}"
    );
    assert!(html.contains("<code>x</code>"), "{html}");
}

async fn no_public_route_shows_an_email(backend: Backend) {
    let app = spawn_with(backend, |config| config.comments.auto_approve = true).await;
    let editor = app.user(Role::Editor, "Edna").await;
    app.published(&editor, json!({"title": "Leak", "body_markdown": "Hi", "tags": ["News"]})).await;
    app.published(&editor, json!({"title": "Near", "body_markdown": "Hi", "tags": ["News"]})).await;
    let secret = "very.secret.reader@hidden.example";
    let posted = app
        .comment_from("10.0.0.7", "leak", json!({"author_name": "Quiet", "author_email": secret, "body": "Shh"}))
        .await;
    posted.assert_status(202);
    assert!(!posted.text().contains("hidden.example"));
    let top = posted.json()["data"]["id"].as_i64().unwrap();
    // A staff reply: the account's e-mail must not show either.
    let staff = app
        .post_as(
            &editor,
            "/api/v1/articles/leak/comments",
            json!({"author_name": "Edna", "author_email": "x@y.example", "body": "Thanks", "parent_id": top}),
        )
        .await;
    staff.assert_status(202);
    let public_routes = [
        "/api/v1/articles",
        "/api/v1/articles?include=body",
        "/api/v1/articles/leak",
        "/api/v1/articles/leak/comments",
        "/api/v1/articles/leak/related",
        "/api/v1/articles/near/related",
        "/api/v1/authors",
        "/api/v1/tags",
        "/api/v1/tags/news",
        "/api/v1/feed.atom",
    ];
    let editor_author = app.get("/api/v1/authors").await.json()["data"][0]["slug"].as_str().unwrap().to_string();
    let author_route = format!("/api/v1/authors/{editor_author}");
    for uri in public_routes.iter().copied().chain([author_route.as_str()]) {
        let response = app.get(uri).await;
        response.assert_status(200);
        let text = response.text();
        assert!(!text.contains("hidden.example") && !text.contains("@example.com"), "an e-mail on {uri}: {text}");
    }
    // Editors do see it.
    let queue = app.get_as(&editor, "/api/v1/admin/comments").await.json();
    assert!(queue["data"].as_array().unwrap().iter().any(|c| c["author_email"] == secret));
}

async fn abuse_rules_hold_or_refuse(backend: Backend) {
    let app = spawn(backend).await;
    let editor = app.user(Role::Editor, "Edna").await;
    app.published(&editor, json!({"title": "Busy", "body_markdown": "Hi"})).await;

    // The honeypot, a blocked word (as a whole word only), too many links: kept as spam.
    let mut bot = comment("Bot", "Nice post");
    bot["website"] = json!("https://spam.example");
    let cases = [
        (bot, "spam"),
        (comment("Sam", "Best CASINO bonuses"), "spam"),
        (comment("Occasional", "I read this occasionally"), "pending"),
        (comment("Lynx", "http://a.example http://b.example [c](https://c.example)"), "spam"),
        (comment("Link", "One link is fine: https://a.example"), "pending"),
    ];
    for (i, (body, expected)) in cases.into_iter().enumerate() {
        let posted = app.comment_from(&format!("10.1.0.{i}"), "busy", body).await;
        posted.assert_status(202);
        assert_eq!(posted.json()["data"]["status"], expected, "case {i}");
    }
    let spam = app.get_as(&editor, "/api/v1/admin/comments?status=spam").await.json();
    assert_eq!(spam["meta"]["total"], 3);

    // Five a minute from one address, then 429 with Retry-After; another address is not affected.
    for _ in 0..5 {
        app.comment_from("10.2.0.1", "busy", comment("Chatty", "Again")).await.assert_status(202);
    }
    let refused = app.comment_from("10.2.0.1", "busy", comment("Chatty", "Again")).await;
    let problem = refused.assert_problem(429);
    assert!(problem["detail"].as_str().unwrap().contains("5 comments a minute"));
    let retry: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    app.comment_from("10.2.0.2", "busy", comment("Calm", "Once")).await.assert_status(202);
    // Staff are not limited.
    for _ in 0..6 {
        app.post_as(&editor, "/api/v1/articles/busy/comments", comment("Edna", "Staff note")).await.assert_status(202);
    }
    // One IPv6 host (its /64) is one client, whatever address it takes.
    for i in 1..=5 {
        app.comment_from(&format!("[2001:db8:1:2::{i}]"), "busy", comment("Six", "Hi")).await.assert_status(202);
    }
    app.comment_from("[2001:db8:1:2::99]", "busy", comment("Six", "Hi")).await.assert_problem(429);
    app.comment_from("[2001:db8:1:3::1]", "busy", comment("Six", "Hi")).await.assert_status(202);

    // Behind a trusted proxy, the address it appends counts, not what the client wrote before it.
    let proxied = spawn_with(backend, |config| config.trust_proxy = true).await;
    let editor = proxied.user(Role::Editor, "Edna").await;
    proxied.published(&editor, json!({"title": "Busy", "body_markdown": "Hi"})).await;
    let via_proxy = |claimed: String| {
        TestRequest::post()
            .uri("/api/v1/articles/busy/comments")
            .insert_header(("X-Forwarded-For", format!("{claimed}, 203.0.113.7")))
            .set_json(comment("Rotating", "Hi"))
    };
    for i in 0..5 {
        proxied.send(via_proxy(format!("198.51.100.{i}"))).await.assert_status(202);
    }
    proxied.send(via_proxy("198.51.100.200".into())).await.assert_problem(429);
}

async fn approval_rules_and_staff_comments(backend: Backend) {
    let app = spawn(backend).await;
    let editor = app.user(Role::Editor, "Edna").await;
    let author = app.user(Role::Author, "Arthur").await;
    app.published(&author, json!({"title": "Trust", "body_markdown": "Hi"})).await;

    // A returning commenter (same e-mail, any case) whose comment was approved: approved at once.
    let first = app
        .comment_from(
            "10.3.0.1",
            "trust",
            json!({"author_name": "Grace", "author_email": "grace@example.org", "body": "One"}),
        )
        .await;
    assert_eq!(first.json()["data"]["status"], "pending");
    let second = app
        .comment_from(
            "10.3.0.1",
            "trust",
            json!({"author_name": "Grace", "author_email": "grace@example.org", "body": "Two"}),
        )
        .await;
    assert_eq!(second.json()["data"]["status"], "pending", "nothing approved yet");
    let id = first.json()["data"]["id"].as_i64().unwrap();
    app.patch_as(&editor, &format!("/api/v1/admin/comments/{id}"), json!({"status": "approved"}))
        .await
        .assert_status(200);
    // Cached by the thread route, then invalidated by the approval at once.
    assert_eq!(app.get("/api/v1/articles/trust/comments").await.json()["meta"]["total"], 1);
    let third = app
        .comment_from(
            "10.3.0.1",
            "trust",
            json!({"author_name": "Grace", "author_email": "  GRACE@Example.org ", "body": "Three"}),
        )
        .await;
    assert_eq!(third.json()["data"]["status"], "approved");
    assert_eq!(
        app.get("/api/v1/articles/trust/comments").await.json()["meta"]["total"],
        2,
        "the cached thread was refreshed"
    );

    // Staff comments: posted as the account, approved at once, marked as staff.
    let staff = app.post_as(&author, "/api/v1/articles/trust/comments", json!({"author_name": "Someone else", "author_email": "other@example.org", "body": "Author here", "parent_id": id})).await;
    staff.assert_status(202);
    let receipt = staff.json()["data"].clone();
    assert_eq!(receipt["status"], "approved");
    assert_eq!(receipt["staff"], true);
    assert_eq!(receipt["author_name"], "Arthur");
    let thread = app.get("/api/v1/articles/trust/comments").await.json();
    let reply = &thread["data"][0]["replies"][0];
    assert_eq!(reply["staff"], true);
    assert_eq!(reply["author_name"], "Arthur");
    let queue = app.get_as(&editor, "/api/v1/admin/comments?status=approved").await.json();
    let staff_row = queue["data"].as_array().unwrap().iter().find(|c| c["staff"] == true).unwrap().clone();
    assert_eq!(staff_row["author_id"], author.id);
    assert_eq!(staff_row["author_email"], author.email);
    // Staff comments do not make their e-mail trusted for readers who type it.
    let posing = app
        .comment_from(
            "10.3.0.9",
            "trust",
            json!({"author_name": "Arthur", "author_email": author.email, "body": "Me!"}),
        )
        .await;
    assert_eq!(posing.json()["data"]["status"], "pending");
    // Contributors cannot skip moderation.
    let contributor = app.user(Role::Contributor, "Connie").await;
    app.post_as(&contributor, "/api/v1/articles/trust/comments", comment("Connie", "Hi")).await.assert_problem(403);
    // A token that is sent must be valid: no silent fallback to an anonymous comment.
    let forged = TestRequest::post()
        .uri("/api/v1/articles/trust/comments")
        .insert_header(("Authorization", "Bearer not-a-token"))
        .set_json(comment("Eve", "Hi"));
    app.send(forged).await.assert_problem(401);

    // Auto-approval for the whole site.
    let open = spawn_with(backend, |config| config.comments.auto_approve = true).await;
    let editor = open.user(Role::Editor, "Edna").await;
    open.published(&editor, json!({"title": "Open", "body_markdown": "Hi"})).await;
    let posted = open.comment_from("10.3.0.2", "open", comment("New", "Hello")).await;
    assert_eq!(posted.json()["data"]["status"], "approved");
    assert_eq!(open.get("/api/v1/articles/open/comments").await.json()["meta"]["total"], 1);
}

async fn closed_unpublished_and_unknown_articles(backend: Backend) {
    let app = spawn_with(backend, |config| config.comments.close_after_days = Some(30)).await;
    let editor = app.user(Role::Editor, "Edna").await;
    let open = app.published(&editor, json!({"title": "Open", "body_markdown": "Hi"})).await;
    let closed =
        app.published(&editor, json!({"title": "Closed", "body_markdown": "Hi", "comments_enabled": false})).await;
    assert_eq!(closed["comments_enabled"], false);
    app.draft(&editor, json!({"title": "Draft", "body_markdown": "Hi"})).await;
    let old = app.draft(&editor, json!({"title": "Old", "body_markdown": "Hi"})).await;
    app.post_as(
        &editor,
        &format!("/api/v1/admin/articles/{}/publish", old["id"]),
        json!({"published_at": "2020-01-01T00:00:00Z"}),
    )
    .await
    .assert_status(200);

    app.comment_from("10.4.0.1", "open", comment("Grace", "Hi")).await.assert_status(202);
    let problem = app.comment_from("10.4.0.1", "closed", comment("Grace", "Hi")).await.assert_problem(403);
    assert!(problem["detail"].as_str().unwrap().contains("closed"));
    let problem = app.comment_from("10.4.0.1", "old", comment("Grace", "Hi")).await.assert_problem(403);
    assert!(problem["detail"].as_str().unwrap().contains("2020-01-31"), "{problem}");
    for slug in ["draft", "nope", "NOT%20A%20SLUG"] {
        let problem = app.comment_from("10.4.0.1", slug, comment("Grace", "Hi")).await.assert_problem(404);
        assert_eq!(problem["detail"], "no published article has this slug");
        app.get(&format!("/api/v1/articles/{slug}/comments")).await.assert_problem(404);
    }
    let view = app.get("/api/v1/articles/old").await.json();
    assert_eq!(view["data"]["comments_close_at"], "2020-01-31T00:00:00Z");
    assert_eq!(app.get("/api/v1/articles/closed").await.json()["data"]["comments_enabled"], false);
    // Reopened by an editor.
    app.patch_as(&editor, &format!("/api/v1/admin/articles/{}", closed["id"]), json!({"comments_enabled": true}))
        .await
        .assert_status(200);
    app.comment_from("10.4.0.1", "closed", comment("Grace", "Hi")).await.assert_status(202);
    app.patch_as(&editor, &format!("/api/v1/admin/articles/{}", open["id"]), json!({"comments_enabled": null}))
        .await
        .assert_problem(422);
}

async fn moderators_list_approve_and_remove(backend: Backend) {
    let app = spawn(backend).await;
    let editor = app.user(Role::Editor, "Edna").await;
    let author = app.user(Role::Author, "Arthur").await;
    let contributor = app.user(Role::Contributor, "Connie").await;
    let mine = app.published(&author, json!({"title": "Mine", "body_markdown": "Hi"})).await;
    app.published(&editor, json!({"title": "Theirs", "body_markdown": "Hi"})).await;
    let mut posted = Vec::new();
    for (i, (slug, name, body)) in
        [("mine", "Ann", "About rust"), ("mine", "Bob", "About go"), ("theirs", "Cy", "About rust too")]
            .into_iter()
            .enumerate()
    {
        let response = app.comment_from(&format!("10.5.0.{i}"), slug, comment(name, body)).await;
        posted.push(response.json()["data"]["id"].as_i64().unwrap());
    }
    let (ann, bob, cy) = (posted[0], posted[1], posted[2]);

    // The queue: newest first, filtered; authors see their own articles' comments only.
    let queue = app.get_as(&editor, "/api/v1/admin/comments").await;
    queue.assert_status(200);
    assert_eq!(queue.header("cache-control"), Some("private, no-store"));
    assert_eq!(ids(&queue.json()), [cy, bob, ann]);
    assert_eq!(ids(&app.get_as(&editor, "/api/v1/admin/comments?q=RUST").await.json()), [cy, ann]);
    assert_eq!(
        ids(&app.get_as(&editor, &format!("/api/v1/admin/comments?article={}", mine["id"])).await.json()),
        [bob, ann]
    );
    assert_eq!(ids(&app.get_as(&editor, "/api/v1/admin/comments?status=approved").await.json()), Vec::<i64>::new());
    assert_eq!(ids(&app.get_as(&author, "/api/v1/admin/comments").await.json()), [bob, ann]);
    assert_eq!(ids(&app.get_as(&contributor, "/api/v1/admin/comments").await.json()), Vec::<i64>::new());
    app.get_as(&editor, "/api/v1/admin/comments?status=removed").await.assert_problem(400);
    app.get_as(&editor, "/api/v1/admin/comments?article=0").await.assert_problem(422);
    app.get("/api/v1/admin/comments").await.assert_problem(401);

    // Only editors and admins moderate.
    app.patch_as(&author, &format!("/api/v1/admin/comments/{ann}"), json!({"status": "approved"}))
        .await
        .assert_problem(403);
    app.post_as(&author, "/api/v1/admin/comments/moderate", json!({"ids": [ann], "status": "approved"}))
        .await
        .assert_problem(403);
    app.delete_as(&author, &format!("/api/v1/admin/comments/{ann}")).await.assert_problem(403);
    let back_to_pending = app
        .patch_as(&editor, &format!("/api/v1/admin/comments/{ann}"), json!({"status": "pending"}))
        .await
        .assert_problem(422);
    assert_eq!(back_to_pending["errors"][0]["field"], "status");
    app.patch_as(&editor, "/api/v1/admin/comments/999999", json!({"status": "spam"})).await.assert_problem(404);

    // The literal path is not an id: another method on it is a 405 naming the one it has.
    let wrong = app.patch_as(&editor, "/api/v1/admin/comments/moderate", json!({"status": "spam"})).await;
    wrong.assert_problem(405);
    assert_eq!(wrong.header("allow"), Some("POST"));
    // Many at once, all or none.
    let unknown = app
        .post_as(&editor, "/api/v1/admin/comments/moderate", json!({"ids": [ann, 999999], "status": "approved"}))
        .await;
    assert!(unknown.assert_problem(404)["detail"].as_str().unwrap().contains("999999"));
    assert_eq!(app.get("/api/v1/articles/mine/comments").await.json()["meta"]["total"], 0, "nothing changed");
    app.post_as(&editor, "/api/v1/admin/comments/moderate", json!({"ids": [], "status": "approved"}))
        .await
        .assert_problem(422);
    let bulk = app
        .post_as(&editor, "/api/v1/admin/comments/moderate", json!({"ids": [bob, ann, bob], "status": "approved"}))
        .await;
    bulk.assert_status(200);
    assert_eq!(ids(&bulk.json()), [bob, ann]);
    assert_eq!(app.get("/api/v1/articles/mine/comments").await.json()["meta"]["total"], 2);

    // Removing a comment with a reply keeps a placeholder; removing the reply then clears both.
    let mut reply = comment("Dee", "Reply to Ann");
    reply["parent_id"] = json!(ann);
    let dee = app.comment_from("10.5.1.1", "mine", reply).await.json()["data"]["id"].as_i64().unwrap();
    app.patch_as(&editor, &format!("/api/v1/admin/comments/{dee}"), json!({"status": "approved"}))
        .await
        .assert_status(200);
    let removed = app.delete_as(&editor, &format!("/api/v1/admin/comments/{ann}")).await;
    removed.assert_status(204);
    let thread = app.get("/api/v1/articles/mine/comments").await.json();
    let placeholder = thread["data"].as_array().unwrap().iter().find(|c| c["id"] == ann).unwrap().clone();
    assert_eq!(placeholder["removed"], true);
    assert_eq!(placeholder["author_name"], Value::Null);
    assert_eq!(placeholder["body_html"], Value::Null);
    assert_eq!(placeholder["replies"][0]["id"], dee);
    assert_eq!(app.get("/api/v1/articles/mine").await.json()["data"]["comment_count"], 2, "Bob and Dee");
    app.delete_as(&editor, &format!("/api/v1/admin/comments/{ann}")).await.assert_problem(404);
    app.patch_as(&editor, &format!("/api/v1/admin/comments/{ann}"), json!({"status": "spam"}))
        .await
        .assert_problem(404);
    assert!(!ids(&app.get_as(&editor, "/api/v1/admin/comments").await.json()).contains(&ann));
    app.delete_as(&editor, &format!("/api/v1/admin/comments/{dee}")).await.assert_status(204);
    assert_eq!(ids(&app.get("/api/v1/articles/mine/comments").await.json()), [bob]);
    app.delete_as(&editor, &format!("/api/v1/admin/comments/{cy}")).await.assert_status(204);
    assert_eq!(app.get_as(&editor, "/api/v1/admin/comments").await.json()["meta"]["total"], 1);

    // A removed comment whose only reply still waits for moderation shows nothing.
    let eve = app.comment_from("10.5.2.1", "mine", comment("Eve", "Top")).await.json()["data"]["id"].as_i64().unwrap();
    app.patch_as(&editor, &format!("/api/v1/admin/comments/{eve}"), json!({"status": "approved"}))
        .await
        .assert_status(200);
    let mut waiting = comment("Fay", "Pending reply");
    waiting["parent_id"] = json!(eve);
    let fay = app.comment_from("10.5.2.2", "mine", waiting).await.json()["data"]["id"].as_i64().unwrap();
    app.delete_as(&editor, &format!("/api/v1/admin/comments/{eve}")).await.assert_status(204);
    let thread = app.get("/api/v1/articles/mine/comments").await.json();
    assert_eq!(ids(&thread), [bob]);
    assert_eq!(thread["meta"]["total"], 1, "the hidden placeholder is not counted either");
    // Approved later, the reply appears under the placeholder.
    app.patch_as(&editor, &format!("/api/v1/admin/comments/{fay}"), json!({"status": "approved"}))
        .await
        .assert_status(200);
    let thread = app.get("/api/v1/articles/mine/comments").await.json();
    assert_eq!(ids(&thread), [bob, eve]);
    assert_eq!(thread["data"][1]["removed"], true);
    assert_eq!(thread["data"][1]["staff"], false);
    assert_eq!(thread["data"][1]["replies"][0]["id"], fay);
    assert_eq!(thread["meta"]["total"], 2);

    // Moderated away after it was answered, a comment becomes a placeholder too: its approved
    // reply keeps its place, and the counts follow what the thread shows.
    let mut answer = comment("Gus", "Reply to Bob");
    answer["parent_id"] = json!(bob);
    let gus = app.comment_from("10.5.3.1", "mine", answer).await.json()["data"]["id"].as_i64().unwrap();
    app.patch_as(&editor, &format!("/api/v1/admin/comments/{gus}"), json!({"status": "approved"}))
        .await
        .assert_status(200);
    app.patch_as(&editor, &format!("/api/v1/admin/comments/{bob}"), json!({"status": "spam"})).await.assert_status(200);
    let thread = app.get("/api/v1/articles/mine/comments").await.json();
    assert_eq!(ids(&thread), [bob, eve]);
    assert_eq!(thread["meta"]["total"], 2);
    let hidden = &thread["data"][0];
    assert_eq!(hidden["removed"], true);
    assert_eq!(hidden["author_name"], Value::Null);
    assert_eq!(hidden["body_html"], Value::Null);
    assert_eq!(hidden["replies"][0]["id"], gus);
    assert_eq!(hidden["replies"][0]["removed"], false);
    assert_eq!(app.get("/api/v1/articles/mine").await.json()["data"]["comment_count"], 2, "Gus and Fay");
    // Without an answer that shows, a spam comment is not in the thread at all.
    app.patch_as(&editor, &format!("/api/v1/admin/comments/{gus}"), json!({"status": "rejected"}))
        .await
        .assert_status(200);
    let thread = app.get("/api/v1/articles/mine/comments").await.json();
    assert_eq!(ids(&thread), [eve]);
    assert_eq!(thread["meta"]["total"], 1);
    assert_eq!(app.get("/api/v1/articles/mine").await.json()["data"]["comment_count"], 1, "Fay");
}

async fn comment_input_is_checked(backend: Backend) {
    let app = spawn(backend).await;
    let editor = app.user(Role::Editor, "Edna").await;
    app.published(&editor, json!({"title": "Strict", "body_markdown": "Hi"})).await;
    let post = |body: Value| app.comment_from("10.6.0.1", "strict", body);
    let problem = post(json!({"author_name": " ", "author_email": "nope", "body": ""})).await.assert_problem(422);
    let fields: Vec<&str> =
        problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["author_name", "author_email", "body"]);
    let long = "x".repeat(5001);
    let problem = post(json!({"author_name": "N".repeat(101), "author_email": "a@b.example", "body": long}))
        .await
        .assert_problem(422);
    assert_eq!(problem["errors"].as_array().unwrap().len(), 2);
    post(json!({"author_name": "A", "author_email": "a@b.example", "body": "Hi", "status": "approved"}))
        .await
        .assert_problem(400);
    let missing = post(json!({"author_name": "A", "author_email": "a@b.example"})).await.assert_problem(422);
    assert_eq!(missing["errors"][0], json!({"field": "body", "message": "is required"}));
    post(json!({"author_name": "A", "author_email": "a@b.example", "body": "Hi", "parent_id": 0}))
        .await
        .assert_problem(422);
    let nested = format!("{}deep", "> ".repeat(40));
    post(json!({"author_name": "A", "author_email": "a@b.example", "body": nested})).await.assert_problem(422);
    // Limits count the text as sent, spaces around it included (as the document's maxLength).
    let padded = format!(" {}", "N".repeat(100));
    let problem =
        post(json!({"author_name": padded, "author_email": "a@b.example", "body": "Hi"})).await.assert_problem(422);
    assert_eq!(problem["errors"][0]["field"], "author_name");
    // Control characters are not part of a name.
    post(json!({"author_name": "A\u{7}B", "author_email": "a@b.example", "body": "Hi"})).await.assert_problem(422);
    // Nothing of the refused ones was kept.
    assert_eq!(app.get_as(&editor, "/api/v1/admin/comments").await.json()["meta"]["total"], 0);
}
