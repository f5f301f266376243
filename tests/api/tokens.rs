//! Integration tokens: made for machines, shown once, stored as a keyed hash, acting as their
//! owner within their scopes, and stopped at once by a revocation, a role change, a deactivation,
//! a password change or their expiry.

use diesel::prelude::*;
use masthead::auth::Role;
use serde_json::{Value, json};

use crate::harness::{Backend, User, spawn, spawn_node_with};

backend_tests!(
    tokens_are_shown_once_stored_as_hashes_and_revoked_at_once,
    a_token_acts_as_its_owner_within_its_scopes,
    a_token_stops_with_its_owner_or_its_expiry,
    token_inputs_and_visibility_are_checked,
);

/// The caller with an integration token instead of a login.
fn with_token(user: &User, token: &Value) -> User {
    User { token: token.as_str().unwrap().to_string(), ..user.clone() }
}

async fn tokens_are_shown_once_stored_as_hashes_and_revoked_at_once(backend: Backend) {
    let app = spawn(backend).await;
    let editor = app.user(Role::Editor, "Edith").await;
    let made = app
        .post_as(
            &editor,
            "/api/v1/admin/tokens",
            json!({"name": "  Netlify build ", "scopes": ["content:read", "content:read"]}),
        )
        .await;
    made.assert_status(201);
    assert_eq!(made.header("cache-control"), Some("private, no-store"));
    let data = made.json()["data"].clone();
    let token = data["token"].as_str().unwrap().to_string();
    assert!(token.starts_with("mh_") && token.len() == 3 + 64, "{token}");
    assert_eq!(data["token_prefix"], token[..11]);
    assert_eq!(data["name"], "Netlify build");
    assert_eq!(data["scopes"], json!(["content:read"]));
    assert_eq!(data["owner_id"], editor.id);
    assert_eq!(data["last_used_at"], Value::Null);
    let id = data["id"].as_i64().unwrap();
    assert_eq!(made.header("location"), Some(format!("/api/v1/admin/tokens/{id}").as_str()));

    // Never shown again.
    let listed = app.get_as(&editor, "/api/v1/admin/tokens").await.json();
    assert_eq!(listed["meta"]["total"], 1);
    assert!(listed["data"][0].get("token").is_none());
    assert!(app.get_as(&editor, &format!("/api/v1/admin/tokens/{id}")).await.json()["data"].get("token").is_none());
    // The database holds a keyed hash, not the token.
    let stored: Vec<(String, String)> = app
        .state
        .db
        .run(|conn| {
            use masthead::schema::integration_tokens::dsl::*;
            Ok(integration_tokens.select((token_hash, token_prefix)).load(conn)?)
        })
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert!(!stored[0].0.contains(&token[3..]) && stored[0].0.len() == 64);

    // It works, and says when it was used.
    let machine = with_token(&editor, &json!(token));
    app.get_as(&machine, "/api/v1/admin/articles").await.assert_status(200);
    let last_used = || async {
        app.get_as(&editor, &format!("/api/v1/admin/tokens/{id}")).await.json()["data"]["last_used_at"].clone()
    };
    let first = last_used().await;
    assert!(first.is_string(), "{first}");
    // Noted at most about once a minute.
    app.advance(chrono::Duration::seconds(30));
    app.get_as(&machine, "/api/v1/admin/articles").await.assert_status(200);
    assert_eq!(last_used().await, first);
    app.advance(chrono::Duration::seconds(31));
    app.get_as(&machine, "/api/v1/admin/articles").await.assert_status(200);
    assert_ne!(last_used().await, first);

    // The hash is keyed by the server's secret: another secret finds nothing.
    let url = app.state.config.database_url.clone();
    let other = spawn_node_with(url, |config| {
        config.jwt_secret = Some(masthead::config::Secret::new("another-secret-another-secret-another-42"));
    })
    .await;
    other.get_as(&machine, "/api/v1/admin/articles").await.assert_problem(401);
    // Malformed ones are refused like unknown ones.
    app.get_as(&with_token(&editor, &json!("mh_short")), "/api/v1/admin/articles").await.assert_problem(401);

    // Revoked: refused at once.
    app.delete_as(&editor, &format!("/api/v1/admin/tokens/{id}")).await.assert_status(204);
    app.get_as(&machine, "/api/v1/admin/articles").await.assert_problem(401);
    assert_eq!(app.get_as(&editor, "/api/v1/admin/tokens").await.json()["meta"]["total"], 0);
    app.delete_as(&editor, &format!("/api/v1/admin/tokens/{id}")).await.assert_problem(404);
}

async fn a_token_acts_as_its_owner_within_its_scopes(backend: Backend) {
    let app = spawn(backend).await;
    let admin = app.user(Role::Admin, "Ada").await;
    let author = app.user(Role::Author, "Arthur").await;
    let made = app
        .post_as(
            &author,
            "/api/v1/admin/tokens",
            json!({"name": "importer", "scopes": ["content:write", "content:read"]}),
        )
        .await;
    let machine = with_token(&author, &made.json()["data"]["token"]);
    let reader =
        app.post_as(&author, "/api/v1/admin/tokens", json!({"name": "reader", "scopes": ["content:read"]})).await;
    let reader = with_token(&author, &reader.json()["data"]["token"]);

    // Within its scopes, as its owner: an author publishes their own article.
    let draft =
        app.post_as(&machine, "/api/v1/admin/articles", json!({"title": "By a machine", "body_markdown": "x"})).await;
    draft.assert_status(201);
    let path = format!("/api/v1/admin/articles/{}", draft.json()["data"]["id"]);
    app.post_as(&machine, &format!("{path}/publish"), Value::Null).await.assert_status(200);
    assert_eq!(app.get("/api/v1/articles/by-a-machine").await.status, 200);

    // Outside them: a 403 naming the scope; and never tokens, accounts or the /auth routes.
    let refused = app.patch_as(&reader, &path, json!({"title": "Changed"})).await.assert_problem(403);
    assert!(refused["detail"].as_str().unwrap().contains("content:write"), "{refused}");
    let refused = app.get_as(&machine, "/api/v1/admin/comments").await.assert_problem(403);
    assert!(refused["detail"].as_str().unwrap().contains("comments:moderate"), "{refused}");
    app.post_as(&machine, "/api/v1/admin/tokens", json!({"name": "more", "scopes": ["content:read"]}))
        .await
        .assert_problem(403);
    app.get_as(&machine, "/api/v1/admin/tokens").await.assert_problem(403);
    app.get_as(&machine, "/api/v1/auth/me").await.assert_problem(403);
    app.put_as(
        &machine,
        "/api/v1/auth/password",
        json!({"current_password": author.password, "new_password": "a new passphrase"}),
    )
    .await
    .assert_problem(403);
    app.get_as(&machine, "/api/v1/admin/authors").await.assert_problem(403);
    // Nor do tokens post staff comments on the public routes.
    app.post_as(
        &machine,
        "/api/v1/articles/by-a-machine/comments",
        json!({"author_name": "M", "author_email": "m@example.com", "body": "Hi"}),
    )
    .await
    .assert_problem(403);

    // The owner's role counts as it is now: demoted to contributor, the token cannot publish.
    app.patch_as(&admin, &format!("/api/v1/admin/authors/{}", author.id), json!({"role": "contributor"}))
        .await
        .assert_status(200);
    let second =
        app.post_as(&machine, "/api/v1/admin/articles", json!({"title": "Second", "body_markdown": "y"})).await;
    second.assert_status(201);
    let second = format!("/api/v1/admin/articles/{}/publish", second.json()["data"]["id"]);
    app.post_as(&machine, &second, Value::Null).await.assert_problem(403);
}

async fn a_token_stops_with_its_owner_or_its_expiry(backend: Backend) {
    let app = spawn(backend).await;
    let admin = app.user(Role::Admin, "Ada").await;
    let author = app.user(Role::Author, "Arthur").await;
    let make = |user: &User, body: Value| {
        let (app, user) = (&app, user.clone());
        async move {
            let made = app.post_as(&user, "/api/v1/admin/tokens", body).await;
            made.assert_status(201);
            with_token(&user, &made.json()["data"]["token"])
        }
    };
    let scopes = json!(["content:read"]);

    // A password change revokes the owner's tokens.
    let machine = make(&author, json!({"name": "ci", "scopes": scopes})).await;
    app.get_as(&machine, "/api/v1/admin/articles").await.assert_status(200);
    app.put_as(
        &author,
        "/api/v1/auth/password",
        json!({"current_password": author.password, "new_password": "another passphrase"}),
    )
    .await
    .assert_status(200);
    app.get_as(&machine, "/api/v1/admin/articles").await.assert_problem(401);

    // So does a deactivation.
    let editor = app.user(Role::Editor, "Edith").await;
    let machine = make(&editor, json!({"name": "ci", "scopes": scopes})).await;
    app.get_as(&machine, "/api/v1/admin/articles").await.assert_status(200);
    app.patch_as(&admin, &format!("/api/v1/admin/authors/{}", editor.id), json!({"active": false}))
        .await
        .assert_status(200);
    app.get_as(&machine, "/api/v1/admin/articles").await.assert_problem(401);
    // An unknown token is a 401 like any bad credential.
    let forged = with_token(&admin, &json!(format!("mh_{}", "0".repeat(64))));
    app.get_as(&forged, "/api/v1/admin/articles").await.assert_problem(401);

    // Expiry, by the app's clock.
    let at = (app.now() + chrono::Duration::hours(1)).to_rfc3339();
    let expiring = make(&admin, json!({"name": "a day", "scopes": scopes, "expires_at": at})).await;
    app.get_as(&expiring, "/api/v1/admin/articles").await.assert_status(200);
    app.advance(chrono::Duration::hours(1) + chrono::Duration::seconds(1));
    app.get_as(&expiring, "/api/v1/admin/articles").await.assert_problem(401);
}

async fn token_inputs_and_visibility_are_checked(backend: Backend) {
    let app = spawn(backend).await;
    let admin = app.user(Role::Admin, "Ada").await;
    let contributor = app.user(Role::Contributor, "Connie").await;
    let author = app.user(Role::Author, "Arthur").await;
    let past = (app.now() - chrono::Duration::minutes(1)).to_rfc3339();
    let long_name = format!(" {} ", "n".repeat(100));
    for (body, field) in [
        (json!({"name": "", "scopes": ["content:read"]}), "name"),
        (json!({"name": long_name, "scopes": ["content:read"]}), "name"),
        (json!({"name": "a\tb", "scopes": ["content:read"]}), "name"),
        (json!({"name": "x", "scopes": []}), "scopes"),
        (json!({"name": "x", "scopes": ["content:read"], "expires_at": past}), "expires_at"),
    ] {
        let problem = app.post_as(&contributor, "/api/v1/admin/tokens", body).await.assert_problem(422);
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
    }
    app.post_as(&contributor, "/api/v1/admin/tokens", json!({"name": "x", "scopes": ["everything"]}))
        .await
        .assert_problem(422);
    app.post_as(&contributor, "/api/v1/admin/tokens", json!({"name": "x", "scopes": ["content:read"], "owner_id": 1}))
        .await
        .assert_problem(400);

    // Every staff role makes tokens for itself; only admins see or revoke others'.
    let mine =
        app.post_as(&contributor, "/api/v1/admin/tokens", json!({"name": "mine", "scopes": ["content:read"]})).await;
    mine.assert_status(201);
    let id = mine.json()["data"]["id"].as_i64().unwrap();
    app.post_as(&author, "/api/v1/admin/tokens", json!({"name": "theirs", "scopes": ["content:read"]}))
        .await
        .assert_status(201);
    assert_eq!(app.get_as(&contributor, "/api/v1/admin/tokens").await.json()["meta"]["total"], 1);
    app.get_as(&author, &format!("/api/v1/admin/tokens?owner={}", contributor.id)).await.assert_problem(403);
    app.get_as(&author, &format!("/api/v1/admin/tokens/{id}")).await.assert_problem(404);
    app.delete_as(&author, &format!("/api/v1/admin/tokens/{id}")).await.assert_problem(404);
    assert_eq!(app.get_as(&admin, "/api/v1/admin/tokens").await.json()["meta"]["total"], 2);
    let theirs = app.get_as(&admin, &format!("/api/v1/admin/tokens?owner={}", contributor.id)).await.json();
    assert_eq!(theirs["meta"]["total"], 1);
    assert_eq!(theirs["data"][0]["id"], id);
    app.delete_as(&admin, &format!("/api/v1/admin/tokens/{id}")).await.assert_status(204);
}
