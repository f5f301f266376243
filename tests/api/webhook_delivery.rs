//! Webhook delivery across restarts and nodes: the outbox keeps what was committed, each attempt
//! is made by one node, a dead node's lease runs out, scheduled publications fire once, and the
//! SSRF guard holds at send time too.

use diesel::prelude::*;
use masthead::auth::Role;
use serde_json::{Value, json};

use crate::harness::{Backend, TestDb, eventually, spawn_node, spawn_node_with, spawn_on};
use crate::receiver::Receiver;
use crate::webhooks::{received, subscribe};

backend_tests!(
    the_outbox_survives_a_restart_between_commit_and_delivery,
    two_nodes_deliver_each_event_exactly_once,
    a_scheduled_publication_fires_once_also_after_downtime,
    a_delivery_held_by_a_dead_node_is_retried_after_its_lease,
    internal_addresses_are_refused_at_send_time,
);

async fn the_outbox_survives_a_restart_between_commit_and_delivery(backend: Backend) {
    let db = TestDb::create(backend);
    let url = db.url.clone();
    // The first node commits and "dies" before sending: it never dispatches.
    let first = spawn_on(db).await;
    let receiver = Receiver::start(&[]);
    let editor = first.user(Role::Editor, "Eve").await;
    let hook = subscribe(&first, &editor, &receiver.url, json!(["article.published"])).await;
    first.published(&editor, json!({"title": "Survivor", "body_markdown": "x"})).await;
    let pending = first.get_as(&editor, &format!("/api/v1/admin/webhooks/{}/deliveries", hook["id"])).await.json();
    assert_eq!(
        (pending["data"][0]["status"].clone(), pending["data"][0]["attempts"].clone()),
        (json!("pending"), json!(0))
    );
    let second = spawn_node(url).await;
    second.dispatch();
    let got = received(&receiver, "article.published", 1).await;
    assert_eq!(got[0].json()["data"]["article"]["title"], "Survivor");
}

async fn two_nodes_deliver_each_event_exactly_once(backend: Backend) {
    let db = TestDb::create(backend);
    let url = db.url.clone();
    let first = spawn_on(db).await;
    let second = spawn_node(url).await;
    first.dispatch();
    second.dispatch();
    let receiver = Receiver::start(&[]);
    let editor = first.user(Role::Editor, "Eve").await;
    let hook = subscribe(&first, &editor, &receiver.url, json!(["tag.created"])).await;
    let events = 40;
    for n in 0..events {
        // The nodes share no JWT secret here: the first takes the requests, both dispatch.
        first.post_as(&editor, "/api/v1/admin/tags", json!({"name": format!("Tag {n}")})).await.assert_status(201);
    }
    let deliveries = format!("/api/v1/admin/webhooks/{}/deliveries?status=succeeded", hook["id"]);
    eventually("every delivery is recorded as sent", || async {
        (first.get_as(&editor, &deliveries).await.json()["meta"]["total"] == events).then_some(())
    })
    .await;
    // Recorded as sent, nothing is claimed again: what arrived is all that ever will.
    let got = receiver.received();
    let mut ids: Vec<&str> = got.iter().map(|r| r.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!((got.len(), ids.len()), (events as usize, events as usize), "each event exactly once");
}

async fn a_scheduled_publication_fires_once_also_after_downtime(backend: Backend) {
    let db = TestDb::create(backend);
    let url = db.url.clone();
    let first = spawn_on(db).await;
    let receiver = Receiver::start(&[]);
    let editor = first.user(Role::Editor, "Eve").await;
    subscribe(&first, &editor, &receiver.url, json!(["article.published", "article.scheduled"])).await;
    let id = first.draft(&editor, json!({"title": "Tomorrow", "body_markdown": "x"})).await["id"].as_i64().unwrap();
    let at = (first.now() + chrono::Duration::hours(1)).to_rfc3339();
    first
        .post_as(&editor, &format!("/api/v1/admin/articles/{id}/publish"), json!({"published_at": at}))
        .await
        .assert_status(200);
    // The servers are down while its time comes; two nodes start afterwards, together.
    let (second, third) = (spawn_node(url.clone()).await, spawn_node(url).await);
    for node in [&second, &third] {
        node.advance(chrono::Duration::hours(2));
        node.dispatch();
    }
    let got = received(&receiver, "article.published", 1).await;
    assert_eq!(got[0].json()["data"]["article"]["slug"], "tomorrow");
    assert_eq!(received(&receiver, "article.scheduled", 1).await.len(), 1);
    second.get("/api/v1/articles/tomorrow").await.assert_status(200);
    // Both nodes keep sweeping; the announcement is recorded once, with its event, for good.
    for _ in 0..3 {
        first
            .post_as(&editor, "/api/v1/admin/tags", json!({"name": format!("Tick {}", third.now())}))
            .await
            .assert_status(201);
        let announced = second
            .state
            .db
            .run(|conn| {
                use masthead::schema::{articles, webhook_events};
                let published = webhook_events::table.filter(webhook_events::event_type.eq("article.published"));
                let events: i64 = published.count().get_result(conn)?;
                let flag: bool = articles::table.select(articles::publication_announced).first(conn)?;
                Ok((events, flag))
            })
            .await
            .unwrap();
        assert_eq!(announced, (1, true));
    }
    // Another article comes due later; once a sweep has announced it, the first is still told once.
    let later = first.draft(&editor, json!({"title": "Later", "body_markdown": "x"})).await["id"].as_i64().unwrap();
    let at = (first.now() + chrono::Duration::hours(3)).to_rfc3339();
    first
        .post_as(&editor, &format!("/api/v1/admin/articles/{later}/publish"), json!({"published_at": at}))
        .await
        .assert_status(200);
    for node in [&second, &third] {
        node.advance(chrono::Duration::hours(2));
    }
    let got = received(&receiver, "article.published", 2).await;
    assert_eq!(got.iter().filter(|r| r.json()["data"]["article"]["slug"] == "tomorrow").count(), 1);
    assert_eq!(got.iter().filter(|r| r.json()["data"]["article"]["slug"] == "later").count(), 1);
}

async fn a_delivery_held_by_a_dead_node_is_retried_after_its_lease(backend: Backend) {
    let db = TestDb::create(backend);
    let url = db.url.clone();
    let first = spawn_on(db).await;
    let receiver = Receiver::start(&[]);
    let editor = first.user(Role::Editor, "Eve").await;
    let hook = subscribe(&first, &editor, &receiver.url, json!(["article.published"])).await;
    first.published(&editor, json!({"title": "Held", "body_markdown": "x"})).await;
    // The first node claims the delivery and dies mid-attempt.
    let now = first.state.db.now();
    let claimed = first.state.db.run(move |conn| masthead::webhooks::claims::claim(conn, now, 10)).await.unwrap();
    assert_eq!(claimed.len(), 1);
    let second = spawn_node(url).await;
    second.dispatch();
    // A ping sent through the same dispatcher arrives while the lease still holds the other.
    first
        .post_as(&editor, &format!("/api/v1/admin/webhooks/{}/test", hook["id"]), Value::Null)
        .await
        .assert_status(202);
    received(&receiver, "ping", 1).await;
    let ping_recorded = format!("/api/v1/admin/webhooks/{}/deliveries?status=succeeded", hook["id"]);
    eventually("the ping is recorded", || async {
        (first.get_as(&editor, &ping_recorded).await.json()["meta"]["total"] == 1).then_some(())
    })
    .await;
    // The round that claimed the ping would have claimed the held delivery too: it did not.
    let held =
        first.get_as(&editor, &format!("/api/v1/admin/webhooks/{}/deliveries?status=pending", hook["id"])).await.json();
    assert_eq!(
        (held["meta"]["total"].clone(), held["data"][0]["attempts"].clone()),
        (json!(1), json!(1)),
        "the lease holds"
    );
    assert!(receiver.of("article.published").is_empty(), "the lease holds");
    second.advance(chrono::Duration::seconds(31));
    received(&receiver, "article.published", 1).await;
    let list = format!("/api/v1/admin/webhooks/{}/deliveries?status=succeeded", hook["id"]);
    let delivery = eventually("the delivery is recorded", || async {
        let data = first.get_as(&editor, &list).await.json()["data"].clone();
        data.as_array().unwrap().iter().find(|d| d["event"] == "article.published").cloned()
    })
    .await;
    assert_eq!(delivery["attempts"], 2, "the dead node's attempt counts");
}

async fn internal_addresses_are_refused_at_send_time(backend: Backend) {
    let db = TestDb::create(backend);
    let url = db.url.clone();
    // Subscribed while private receivers were allowed; sent by a node that does not allow them.
    let first = spawn_on(db).await;
    let receiver = Receiver::start(&[]);
    let editor = first.user(Role::Editor, "Eve").await;
    let by_name = subscribe(&first, &editor, &format!("http://localhost:{}/hook", receiver.port), json!(["*"])).await;
    let literal = subscribe(&first, &editor, &receiver.url, json!(["*"])).await;
    let guarded = spawn_node_with(url, |config| config.webhooks.allow_private = false).await;
    guarded.dispatch();
    first.post_as(&editor, "/api/v1/admin/tags", json!({"name": "Anything"})).await.assert_status(201);
    for (hook, reason) in [(&by_name, "resolves to a loopback address"), (&literal, "names a loopback address")] {
        let list = format!("/api/v1/admin/webhooks/{}/deliveries", hook["id"]);
        let delivery = eventually("the attempt is recorded", || async {
            let data = first.get_as(&editor, &list).await.json()["data"][0].clone();
            (data["status"] == "failed").then_some(data)
        })
        .await;
        assert!(delivery["error"].as_str().unwrap().contains(reason), "{delivery}");
        assert_eq!(delivery["response_status"], Value::Null);
        assert_eq!(delivery["attempts"], 1, "a refusal is final: no retries");
    }
    assert!(receiver.received().is_empty(), "nothing reached the receiver");
}
