//! Logging in and bearer tokens.

use actix_web::test::TestRequest;
use masthead::auth::Role;
use serde_json::json;

use crate::harness::{Backend, User, spawn};

backend_tests!(
    login_returns_a_bearer_token,
    wrong_password_and_unknown_email_look_the_same,
    editor_routes_refuse_missing_and_bad_tokens,
    me_shows_the_account_without_secrets,
);

async fn login_returns_a_bearer_token(backend: Backend) {
    let app = spawn(backend).await;
    let user = app.user(Role::Editor, "Eddie").await;
    // E-mails are matched regardless of case and surrounding spaces.
    let response = app.login(" EDDIE@Example.com ", &user.password).await;
    response.assert_status(200);
    assert_eq!(response.header("cache-control"), Some("private, no-store"));
    let body = response.json();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    let token = body["access_token"].as_str().unwrap();
    assert_eq!(token.split('.').count(), 3, "a JWT");
    let me = app
        .send(TestRequest::get().uri("/api/v1/auth/me").insert_header(("Authorization", format!("Bearer {token}"))))
        .await;
    me.assert_status(200);
}

async fn wrong_password_and_unknown_email_look_the_same(backend: Backend) {
    let app = spawn(backend).await;
    let user = app.user(Role::Author, "Arthur").await;
    let wrong_password = app.login(&user.email, "not-the-password").await.assert_problem(401);
    let unknown_email = app.login("nobody@example.com", &user.password).await.assert_problem(401);
    assert_eq!(wrong_password, unknown_email);
    let problem = app
        .send(TestRequest::post().uri("/api/v1/auth/login").set_json(json!({"email": user.email})))
        .await
        .assert_problem(422);
    assert_eq!(problem["errors"][0]["field"], "password");
}

async fn editor_routes_refuse_missing_and_bad_tokens(backend: Backend) {
    let app = spawn(backend).await;
    let user = app.user(Role::Admin, "Root").await;
    let missing = app.get("/api/v1/admin/articles").await;
    missing.assert_problem(401);
    assert_eq!(missing.header("www-authenticate"), Some("Bearer"));

    let mut tampered = user.token.clone();
    let signature_start = tampered.rfind('.').unwrap() + 1;
    let flipped = if &tampered[signature_start..signature_start + 1] == "A" { "B" } else { "A" };
    tampered.replace_range(signature_start..signature_start + 1, flipped);

    // A token with `alg: none` and the right claims.
    let b64 = |s: &str| {
        use std::fmt::Write;
        let table = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let bytes = s.as_bytes();
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | (*b as u32) << (16 - 8 * i));
            for i in 0..=chunk.len() {
                let _ = write!(out, "{}", table[(n >> (18 - 6 * i) & 63) as usize] as char);
            }
        }
        out
    };
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let claims = format!(r#"{{"sub":"{}","role":"admin","iat":{now},"exp":{},"iss":"masthead"}}"#, user.id, now + 600);
    let alg_none = format!("{}.{}.", b64(r#"{"alg":"none","typ":"JWT"}"#), b64(&claims));

    for token in ["garbage", "a.b.c", tampered.as_str(), alg_none.as_str(), ""] {
        let bad = User { token: token.to_string(), ..user.clone() };
        let response = app.get_as(&bad, "/api/v1/admin/articles").await;
        response.assert_problem(401);
        assert_eq!(response.header("www-authenticate"), Some("Bearer"), "{token}");
    }
    let basic = app
        .send(TestRequest::get().uri("/api/v1/auth/me").insert_header(("Authorization", "Basic dXNlcjpwYXNz")))
        .await;
    basic.assert_problem(401);
    app.get_as(&user, "/api/v1/admin/articles").await.assert_status(200);
}

async fn me_shows_the_account_without_secrets(backend: Backend) {
    let app = spawn(backend).await;
    let user = app.user(Role::Contributor, "Cora Contributor").await;
    let me = app.get_as(&user, "/api/v1/auth/me").await;
    me.assert_status(200);
    assert_eq!(me.header("cache-control"), Some("private, no-store"));
    let account = me.json()["data"].clone();
    assert_eq!(account["id"], user.id);
    assert_eq!(account["email"], "cora.contributor@example.com");
    assert_eq!(account["role"], "contributor");
    assert_eq!(account["slug"], "cora-contributor");
    assert!(account.get("password_hash").is_none());
    assert!(!me.text().contains("argon2"));
}
