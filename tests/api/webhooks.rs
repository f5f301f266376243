//! Webhooks: managing subscriptions, every event delivered signed to a receiver on loopback,
//! retries, disabling, and the SSRF guard. Delivery across restarts and nodes: `webhook_delivery`.

use masthead::auth::Role;
use serde_json::{Value, json};

use crate::harness::{Backend, User, eventually, spawn, spawn_with};
use crate::receiver::{Received, Receiver};

backend_tests!(
    webhooks_are_managed_by_editors_and_their_secret_is_shown_once,
    every_event_reaches_the_receiver_signed,
    failed_deliveries_are_retried_then_recorded,
    redirects_are_not_followed_and_one_kib_of_the_answer_is_kept,
    a_410_or_repeated_refusals_disable_the_webhook,
    tests_and_redeliveries_keep_the_message_id,
    internal_addresses_are_refused_without_the_opt_in,
);

/// Subscribes `url` to `events` as `editor`; returns the webhook's JSON (with its secret).
pub async fn subscribe<S, B>(app: &crate::harness::TestApp<S>, editor: &User, url: &str, events: Value) -> Value
where
    S: crate::harness::AppService<B>,
    B: actix_web::body::MessageBody,
{
    let created = app.post_as(editor, "/api/v1/admin/webhooks", json!({"url": url, "events": events})).await;
    created.assert_status(201);
    created.json()["data"].clone()
}

/// Waits until the receiver holds `count` requests of `event`.
pub async fn received(receiver: &Receiver, event: &str, count: usize) -> Vec<Received> {
    eventually(&format!("{count} `{event}` deliveries arrive"), || async {
        let got = receiver.of(event);
        (got.len() >= count).then_some(got)
    })
    .await
}

async fn webhooks_are_managed_by_editors_and_their_secret_is_shown_once(backend: Backend) {
    let app = spawn(backend).await;
    let editor = app.user(Role::Editor, "Eve").await;
    let author = app.user(Role::Author, "Ann").await;
    // Names need DNS, which the test machine may not have: receivers are addresses on loopback.
    let body = json!({"url": "http://127.0.0.1:9/build", "events": ["article.published", "tag.created", "article.published"], "description": "Rebuild"});
    app.post_as(&author, "/api/v1/admin/webhooks", body.clone()).await.assert_problem(403);
    let created = app.post_as(&editor, "/api/v1/admin/webhooks", body).await;
    created.assert_status(201);
    let hook = created.json()["data"].clone();
    let id = hook["id"].as_i64().unwrap();
    assert_eq!(created.header("location"), Some(format!("/api/v1/admin/webhooks/{id}").as_str()));
    let secret = hook["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_") && secret.len() > 40, "{secret}");
    assert_eq!(hook["events"], json!(["article.published", "tag.created"]));
    assert_eq!((hook["active"].clone(), hook["created_by"].clone()), (json!(true), json!(editor.id)));

    let shown = app.get_as(&editor, &format!("/api/v1/admin/webhooks/{id}")).await;
    shown.assert_status(200);
    assert!(shown.json()["data"].get("secret").is_none() && !shown.text().contains(secret));
    let list = app.get_as(&editor, "/api/v1/admin/webhooks").await.json();
    assert_eq!(list["meta"]["total"], 1);
    assert!(list["data"][0].get("secret").is_none());

    let patched = app
        .patch_as(
            &editor,
            &format!("/api/v1/admin/webhooks/{id}"),
            json!({"events": ["*"], "description": null, "active": false}),
        )
        .await;
    patched.assert_status(200);
    let patched = patched.json()["data"].clone();
    assert_eq!(
        (patched["events"].clone(), patched["description"].clone(), patched["active"].clone()),
        (json!(["*"]), Value::Null, json!(false))
    );

    let rotated = app.post_as(&editor, &format!("/api/v1/admin/webhooks/{id}/rotate-secret"), Value::Null).await;
    rotated.assert_status(200);
    let new_secret = rotated.json()["data"]["secret"].as_str().unwrap().to_string();
    assert!(new_secret.starts_with("whsec_") && new_secret != secret);

    // Bad input: clear 422s naming the field; unknown events and fields are refused.
    for (bad, field) in [
        (json!({"url": "http://127.0.0.1:9/", "events": []}), "events"),
        (json!({"url": "http://127.0.0.1:9/", "events": ["ping"]}), "events"),
        (json!({"url": "ftp://x.example.com/", "events": ["*"]}), "url"),
        (json!({"url": "not a url", "events": ["*"]}), "url"),
    ] {
        let problem = app.post_as(&editor, "/api/v1/admin/webhooks", bad).await.assert_problem(422);
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
    }
    app.post_as(&editor, "/api/v1/admin/webhooks", json!({"url": "http://127.0.0.1:9/", "events": ["article.eaten"]}))
        .await
        .assert_problem(422);

    // A token acts for an editor only with `webhooks:manage`.
    let made =
        app.post_as(&editor, "/api/v1/admin/tokens", json!({"name": "ops", "scopes": ["content:read"]})).await.json();
    let reader = User { token: made["data"]["token"].as_str().unwrap().into(), ..editor.clone() };
    let refused = app.get_as(&reader, "/api/v1/admin/webhooks").await.assert_problem(403);
    assert!(refused["detail"].as_str().unwrap().contains("webhooks:manage"), "{refused}");
    let made = app
        .post_as(&editor, "/api/v1/admin/tokens", json!({"name": "ops2", "scopes": ["webhooks:manage"]}))
        .await
        .json();
    let manager = User { token: made["data"]["token"].as_str().unwrap().into(), ..editor.clone() };
    app.get_as(&manager, "/api/v1/admin/webhooks").await.assert_status(200);

    app.delete_as(&manager, &format!("/api/v1/admin/webhooks/{id}")).await.assert_status(204);
    app.get_as(&editor, &format!("/api/v1/admin/webhooks/{id}")).await.assert_problem(404);
}

async fn every_event_reaches_the_receiver_signed(backend: Backend) {
    let app = spawn(backend).await;
    app.dispatch();
    let receiver = Receiver::start(&[]);
    let editor = app.user(Role::Editor, "Eve").await;
    let hook = subscribe(&app, &editor, &receiver.url, json!(["*"])).await;
    let secret = hook["secret"].as_str().unwrap();

    let article =
        app.published(&editor, json!({"title": "Launch day", "body_markdown": "Hello", "tags": ["News"]})).await;
    let id = article["id"].as_i64().unwrap();
    let path = format!("/api/v1/admin/articles/{id}");
    app.patch_as(&editor, &path, json!({"title": "Launch day, updated"})).await.assert_status(200);
    app.patch_as(&editor, &path, json!({"featured": false})).await.assert_status(200); // no public change
    let posted = app
        .comment_from(
            "10.0.0.9",
            "launch-day",
            json!({"author_name": "Grace", "author_email": "grace@readers.example", "body": "Nice"}),
        )
        .await;
    posted.assert_status(202);
    let comment = posted.json()["data"]["id"].as_i64().unwrap();
    let comment_path = format!("/api/v1/admin/comments/{comment}");
    app.patch_as(&editor, &comment_path, json!({"status": "approved"})).await.assert_status(200);
    app.delete_as(&editor, &comment_path).await.assert_status(204);
    let tags = app.get_as(&editor, "/api/v1/admin/tags").await.json();
    let tag = tags["data"][0]["id"].as_i64().unwrap();
    app.patch_as(&editor, &format!("/api/v1/admin/tags/{tag}"), json!({"name": "World news"})).await.assert_status(200);
    app.patch_as(&editor, "/api/v1/auth/me", json!({"bio": "Editor at large"})).await.assert_status(200);
    app.delete_as(&editor, &format!("/api/v1/admin/tags/{tag}")).await.assert_status(204);
    let later = (app.now() + chrono::Duration::days(1)).to_rfc3339();
    app.post_as(&editor, &format!("{path}/publish"), json!({"published_at": later})).await.assert_status(200);
    app.post_as(&editor, &format!("{path}/unpublish"), Value::Null).await.assert_status(200);
    app.delete_as(&editor, &path).await.assert_status(204);
    app.post_as(&editor, &format!("{path}/restore"), Value::Null).await.assert_status(200);
    app.delete_as(&editor, &format!("{path}?permanent=true")).await.assert_status(204);

    let expected = [
        "tag.created",
        "article.published",
        "article.updated",
        "comment.created",
        "comment.approved",
        "comment.removed",
        "tag.updated",
        "author.updated",
        "tag.deleted",
        "article.scheduled",
        "article.unpublished",
        "article.trashed",
        "article.restored",
        "article.deleted",
    ];
    eventually("every delivery is recorded as sent", || async {
        let pending =
            app.get_as(&editor, &format!("/api/v1/admin/webhooks/{}/deliveries?status=pending", hook["id"])).await;
        let total = app.get_as(&editor, &format!("/api/v1/admin/webhooks/{}/deliveries", hook["id"])).await;
        (pending.json()["meta"]["total"] == 0 && total.json()["meta"]["total"].as_u64() >= Some(expected.len() as u64))
            .then_some(())
    })
    .await;
    // Nothing waits any more: what arrived is all there is.
    let all = receiver.received();
    let mut types: Vec<String> = all.iter().map(Received::event).collect();
    let mut wanted: Vec<String> = expected.iter().map(|e| e.to_string()).collect();
    types.sort();
    wanted.sort();
    assert_eq!(types, wanted, "one delivery per event, none for an edit the public cannot see");
    for delivery in &all {
        assert!(delivery.signed_with(secret), "signature of {}: {}", delivery.event(), delivery.signature);
        assert!(delivery.id.starts_with("msg_") && delivery.content_type == "application/json");
        assert!(delivery.json()["timestamp"].as_str().unwrap().ends_with('Z'));
    }
    let by_type = |event: &str| all.iter().find(|d| d.event() == event).unwrap().json()["data"].clone();
    let published = by_type("article.published");
    assert_eq!(published["article"]["slug"], "launch-day");
    assert_eq!(published["article"]["body_html"], "<p>Hello</p>\n");
    let updated = by_type("article.updated");
    assert_eq!(updated["article"]["title"], "Launch day, updated");
    assert_eq!(updated["previous"], json!({"title": "Launch day"}));
    // Not public any more (scheduled, then a draft): its id only; its slug is no longer public.
    assert_eq!(by_type("article.scheduled"), json!({"article": {"id": id}}));
    assert_eq!(by_type("article.unpublished"), json!({"article": {"id": id}}));
    assert_eq!(by_type("article.trashed"), json!({"article": {"id": id}}));
    assert_eq!(by_type("article.deleted"), json!({"article": {"id": id}}));
    let created = by_type("comment.created");
    assert_eq!(
        (created["comment"]["author_name"].clone(), created["comment"]["status"].clone()),
        (json!("Grace"), json!("pending"))
    );
    assert!(
        all.iter().all(|d| !d.body.contains("readers.example") && !d.body.contains("@example.com")),
        "no e-mail in any payload"
    );
    // Made by a draft, the tag was not public yet: its id only. Public by the time it changed.
    let tag_created = by_type("tag.created");
    assert_eq!(tag_created, json!({"tag": {"id": tag}}));
    assert_eq!(by_type("tag.updated")["previous"], json!({"name": "News"}));
    assert_eq!(by_type("tag.updated")["tag"]["name"], "World news");
    assert_eq!(by_type("tag.deleted"), json!({"tag": {"id": tag, "slug": "news"}}));
    assert_eq!(by_type("author.updated")["previous"]["bio"], Value::Null);
}

async fn failed_deliveries_are_retried_then_recorded(backend: Backend) {
    let app = spawn(backend).await;
    app.dispatch();
    let receiver = Receiver::start(&[500, 429]);
    let editor = app.user(Role::Editor, "Eve").await;
    let hook = subscribe(&app, &editor, &receiver.url, json!(["article.published"])).await;
    app.published(&editor, json!({"title": "Third time lucky", "body_markdown": "x"})).await;
    let got = received(&receiver, "article.published", 3).await;
    assert!(got.iter().all(|r| r.id == got[0].id), "every attempt carries the same webhook-id");
    let deliveries = format!("/api/v1/admin/webhooks/{}/deliveries", hook["id"]);
    let delivery = eventually("the delivery is recorded as succeeded", || async {
        let list = app.get_as(&editor, &format!("{deliveries}?status=succeeded")).await.json();
        (list["meta"]["total"] == 1).then(|| list["data"][0].clone())
    })
    .await;
    assert_eq!(delivery["attempts"], 3);
    assert_eq!(delivery["event"], "article.published");
    assert_eq!(delivery["message_id"], got[0].id);
    assert_eq!(delivery["response_status"], 200);
    assert_eq!(delivery["response_body"], "answered 200");
    assert_eq!(delivery["next_attempt_at"], Value::Null);
    assert!(delivery["latency_ms"].as_i64().is_some());
    let one = app.get_as(&editor, &format!("{deliveries}/{}", delivery["id"])).await;
    one.assert_status(200);
    assert_eq!(one.json()["data"]["id"], delivery["id"]);
    app.get_as(&editor, &format!("{deliveries}?status=failed")).await.assert_status(200);
    app.get_as(&editor, &format!("{deliveries}?status=lost")).await.assert_problem(400);
}

async fn a_410_or_repeated_refusals_disable_the_webhook(backend: Backend) {
    let app = spawn(backend).await;
    app.dispatch();
    let editor = app.user(Role::Editor, "Eve").await;
    let gone = Receiver::start(&[410]);
    let refusing = Receiver::start(&[404; 5]);
    let gone_hook = subscribe(&app, &editor, &gone.url, json!(["article.published"])).await;
    let refused_hook = subscribe(&app, &editor, &refusing.url, json!(["article.published"])).await;
    app.published(&editor, json!({"title": "Story 0", "body_markdown": "x"})).await;
    let gone_path = format!("/api/v1/admin/webhooks/{}", gone_hook["id"]);
    eventually("the 410 disables its webhook", || async {
        (app.get_as(&editor, &gone_path).await.json()["data"]["active"] == false).then_some(())
    })
    .await;
    for n in 1..5 {
        app.published(&editor, json!({"title": format!("Story {n}"), "body_markdown": "x"})).await;
    }
    received(&refusing, "article.published", 5).await;
    for (hook, reason) in [(&gone_hook, "410 Gone"), (&refused_hook, "5 deliveries in a row failed")] {
        let path = format!("/api/v1/admin/webhooks/{}", hook["id"]);
        let disabled = eventually("the webhook is disabled", || async {
            let data = app.get_as(&editor, &path).await.json()["data"].clone();
            (data["active"] == false).then_some(data)
        })
        .await;
        assert!(disabled["disabled_reason"].as_str().unwrap().contains(reason), "{disabled}");
    }
    // A 404 is not retried: one attempt per delivery, each failed.
    let failed = app
        .get_as(&editor, &format!("/api/v1/admin/webhooks/{}/deliveries?status=failed", refused_hook["id"]))
        .await
        .json();
    assert_eq!(failed["meta"]["total"], 5);
    assert!(failed["data"].as_array().unwrap().iter().all(|d| d["attempts"] == 1 && d["response_status"] == 404));
    assert_eq!(gone.received().len(), 1, "nothing more is sent after a 410");
    // A disabled webhook gets no pings; enabled again, it gets what comes next.
    let path = format!("/api/v1/admin/webhooks/{}", gone_hook["id"]);
    app.post_as(&editor, &format!("{path}/test"), Value::Null).await.assert_problem(409);
    let enabled = app.patch_as(&editor, &path, json!({"active": true})).await.json()["data"].clone();
    assert_eq!((enabled["disabled_reason"].clone(), enabled["consecutive_failures"].clone()), (Value::Null, json!(0)));
    app.published(&editor, json!({"title": "Back again", "body_markdown": "x"})).await;
    received(&gone, "article.published", 2).await;
    eventually("nothing waits any more", || async {
        let pending = app.get_as(&editor, &format!("{path}/deliveries?status=pending")).await.json();
        (pending["meta"]["total"] == 0).then_some(())
    })
    .await;
}

async fn tests_and_redeliveries_keep_the_message_id(backend: Backend) {
    let app = spawn(backend).await;
    app.dispatch();
    let receiver = Receiver::start(&[]);
    let editor = app.user(Role::Editor, "Eve").await;
    let hook = subscribe(&app, &editor, &receiver.url, json!(["tag.created"])).await;
    let base = format!("/api/v1/admin/webhooks/{}", hook["id"]);
    let queued = app.post_as(&editor, &format!("{base}/test"), Value::Null).await;
    queued.assert_status(202);
    let delivery = queued.json()["data"].clone();
    assert_eq!((delivery["event"].clone(), delivery["status"].clone()), (json!("ping"), json!("pending")));
    assert_eq!(queued.header("location"), Some(format!("{base}/deliveries/{}", delivery["id"]).as_str()));
    let ping = received(&receiver, "ping", 1).await.remove(0);
    assert!(ping.signed_with(hook["secret"].as_str().unwrap()));

    let again = app.post_as(&editor, &format!("{base}/deliveries/{}/redeliver", delivery["id"]), Value::Null).await;
    again.assert_status(202);
    assert_ne!(again.json()["data"]["id"], delivery["id"]);
    let pings = received(&receiver, "ping", 2).await;
    assert_eq!(pings[1].id, pings[0].id, "a redelivery is the same message");
    app.post_as(&editor, &format!("{base}/deliveries/999999/redeliver"), Value::Null).await.assert_problem(404);

    // After a rotation both secrets sign, so receivers can switch over.
    let rotated = app.post_as(&editor, &format!("{base}/rotate-secret"), Value::Null).await.json();
    app.post_as(&editor, &format!("{base}/test"), Value::Null).await.assert_status(202);
    let latest = received(&receiver, "ping", 3).await.remove(2);
    assert!(latest.signed_with(rotated["data"]["secret"].as_str().unwrap()));
    assert!(latest.signed_with(hook["secret"].as_str().unwrap()));
}

async fn internal_addresses_are_refused_without_the_opt_in(backend: Backend) {
    let app = spawn_with(backend, |config| config.webhooks.allow_private = false).await;
    let editor = app.user(Role::Editor, "Eve").await;
    for url in [
        "http://127.0.0.1/",
        "http://127.8.9.10:8080/",
        "http://localhost:9000/",
        "http://[::1]/",
        "http://10.1.2.3/",
        "http://172.20.0.1/",
        "http://192.168.0.10/",
        "http://169.254.169.254/latest/meta-data/",
        "http://100.100.1.1/",
        "http://0.0.0.0/",
        "http://224.0.0.1/",
        "http://[fc00::1]/",
        "http://[fe80::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:a00:1]/",
        "http://2130706433/",
        "http://0x7f.0.0.1/",
        "http://017700000001/",
        "http://[64:ff9b::7f00:1]/",
    ] {
        let problem = app
            .post_as(&editor, "/api/v1/admin/webhooks", json!({"url": url, "events": ["*"]}))
            .await
            .assert_problem(422);
        assert_eq!(problem["errors"][0]["field"], "url", "{url}: {problem}");
        assert!(
            problem["errors"][0]["message"].as_str().unwrap().contains("MASTHEAD_WEBHOOK_ALLOW_PRIVATE"),
            "{url}: {problem}"
        );
    }
}

async fn redirects_are_not_followed_and_one_kib_of_the_answer_is_kept(backend: Backend) {
    let app = spawn(backend).await;
    app.dispatch();
    let receiver = Receiver::start(&[301, 207]);
    let editor = app.user(Role::Editor, "Eve").await;
    let hook = subscribe(&app, &editor, &receiver.url, json!(["tag.created"])).await;
    let deliveries = format!("/api/v1/admin/webhooks/{}/deliveries", hook["id"]);
    app.post_as(&editor, &format!("/api/v1/admin/webhooks/{}/test", hook["id"]), Value::Null).await.assert_status(202);
    let moved = eventually("the redirect is recorded", || async {
        let list = app.get_as(&editor, &format!("{deliveries}?status=failed")).await.json();
        (list["meta"]["total"] == 1).then(|| list["data"][0].clone())
    })
    .await;
    assert_eq!((moved["attempts"].clone(), moved["response_status"].clone()), (json!(1), json!(301)));
    assert!(moved["error"].as_str().unwrap().contains("redirects are not followed"), "{moved}");
    assert_eq!(receiver.received().len(), 1, "the Location was not followed");
    app.post_as(&editor, &format!("/api/v1/admin/webhooks/{}/test", hook["id"]), Value::Null).await.assert_status(202);
    let big = eventually("the long answer is recorded", || async {
        let list = app.get_as(&editor, &format!("{deliveries}?status=succeeded")).await.json();
        (list["meta"]["total"] == 1).then(|| list["data"][0].clone())
    })
    .await;
    assert_eq!(big["response_status"], 207);
    assert_eq!(big["response_body"].as_str().map(str::len), Some(1024), "the first KiB is kept");
}
