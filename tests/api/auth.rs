//! Logging in and bearer tokens.

use actix_web::test::TestRequest;
use masthead::auth::Role;
use serde_json::json;

use crate::harness::{Backend, User, spawn};

backend_tests!(
    login_returns_a_bearer_token,
    wrong_password_and_unknown_email_look_the_same,
    editor_routes_refuse_missing_and_bad_tokens,
    tokens_are_checked_strictly,
    me_shows_the_account_without_secrets,
    profile_changes_never_touch_the_role,
    refresh_tokens_rotate_and_reuse_revokes_the_session,
    logout_ends_the_session,
    password_change_ends_every_session,
    failed_logins_are_throttled_per_account,
    failed_logins_are_throttled_per_address,
    a_burst_of_guesses_gets_exactly_the_limit_through,
    access_tokens_and_refresh_tokens_expire_by_the_clock,
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
    assert_eq!(body["refresh_token"].as_str().unwrap().len(), 64);
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

async fn tokens_are_checked_strictly(backend: Backend) {
    use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
    let app = spawn(backend).await;
    let user = app.user(Role::Editor, "Eddie").await;
    let me = app.get_as(&user, "/api/v1/auth/me").await;
    me.assert_status(200);
    let secret = app.state.config.jwt_secret.as_ref().unwrap().expose().as_bytes().to_vec();
    let now = jsonwebtoken::get_current_timestamp();
    // The password version the server put in the user's real token.
    let claims_of_real_token: serde_json::Value = {
        let payload = user.token.split('.').nth(1).unwrap();
        let decoded = base64url_decode(payload);
        serde_json::from_slice(&decoded).unwrap()
    };
    let pwv = claims_of_real_token["pwv"].as_i64().unwrap();
    let sid = claims_of_real_token["sid"].as_str().unwrap().to_string();
    let claims = |iat: u64, exp: u64, iss: &str| json!({"sub": user.id.to_string(), "role": "editor", "iat": iat, "exp": exp, "iss": iss, "pwv": pwv, "sid": sid});
    let with_claim = |name: &str, value: serde_json::Value| {
        let mut claims = claims(now, now + 600, "masthead");
        claims[name] = value;
        claims
    };
    let sign = |alg: Algorithm, key: &[u8], claims: serde_json::Value| {
        encode(&Header::new(alg), &claims, &EncodingKey::from_secret(key)).unwrap()
    };
    let with = |token: String| User { token, ..user.clone() };

    // The crafting is right: a token signed like the server's works.
    let good = sign(Algorithm::HS256, &secret, claims(now, now + 600, "masthead"));
    app.get_as(&with(good), "/api/v1/auth/me").await.assert_status(200);

    let refused = [
        ("another algorithm", sign(Algorithm::HS512, &secret, claims(now, now + 600, "masthead"))),
        (
            "a wrong key",
            sign(Algorithm::HS256, b"another secret that is long enough!!", claims(now, now + 600, "masthead")),
        ),
        ("expired", sign(Algorithm::HS256, &secret, claims(now - 7200, now - 3600, "masthead"))),
        ("another issuer", sign(Algorithm::HS256, &secret, claims(now, now + 600, "someone-else"))),
        (
            "no iat",
            sign(
                Algorithm::HS256,
                &secret,
                json!({"sub": user.id.to_string(), "role": "editor", "exp": now + 600, "iss": "masthead", "pwv": pwv, "sid": sid}),
            ),
        ),
        ("an old password version", sign(Algorithm::HS256, &secret, with_claim("pwv", json!(pwv - 1)))),
        ("an unknown account", sign(Algorithm::HS256, &secret, with_claim("sub", json!("999999")))),
        ("an iat in the future", sign(Algorithm::HS256, &secret, claims(now + 3600, now + 7200, "masthead"))),
        ("an nbf in the future", sign(Algorithm::HS256, &secret, with_claim("nbf", json!(now + 3600)))),
        ("a sub with a sign", sign(Algorithm::HS256, &secret, with_claim("sub", json!(format!("+{}", user.id))))),
        (
            "a sub with a leading zero",
            sign(Algorithm::HS256, &secret, with_claim("sub", json!(format!("0{}", user.id)))),
        ),
        ("no session", sign(Algorithm::HS256, &secret, with_claim("sid", serde_json::Value::Null))),
        ("an unknown session", sign(Algorithm::HS256, &secret, with_claim("sid", json!("0123456789abcdef")))),
    ];
    for (what, token) in refused {
        let response = app.get_as(&with(token), "/api/v1/auth/me").await;
        assert_eq!(response.status.as_u16(), 401, "a token with {what} must be refused");
    }
}

/// Decodes unpadded base64url (JWT segments).
fn base64url_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'-' => 62,
        _ => 63,
    };
    let mut out = Vec::new();
    for chunk in text.as_bytes().chunks(4) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, c)| n | (value(*c) as u32) << (18 - 6 * i));
        for i in 0..chunk.len() - 1 {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    out
}

async fn profile_changes_never_touch_the_role(backend: Backend) {
    let app = spawn(backend).await;
    let user = app.user(Role::Author, "Arthur").await;
    let updated = app
        .patch_as(
            &user,
            "/api/v1/auth/me",
            json!({"name": "Arthur Dent", "bio": "Mostly harmless.", "avatar_url": "https://example.com/a.png"}),
        )
        .await;
    updated.assert_status(200);
    let account = updated.json()["data"].clone();
    assert_eq!(account["name"], "Arthur Dent");
    assert_eq!(account["bio"], "Mostly harmless.");
    assert_eq!(account["role"], "author");
    app.patch_as(&user, "/api/v1/auth/me", json!({"role": "admin"})).await.assert_problem(400);
    let problem = app
        .patch_as(&user, "/api/v1/auth/me", json!({"avatar_url": "javascript:alert(1)", "name": ""}))
        .await
        .assert_problem(422);
    assert_eq!(problem["errors"].as_array().unwrap().len(), 2);
    let cleared = app.patch_as(&user, "/api/v1/auth/me", json!({"bio": null})).await;
    assert_eq!(cleared.json()["data"]["bio"], serde_json::Value::Null);
    assert_eq!(app.get_as(&user, "/api/v1/auth/me").await.json()["data"]["role"], "author");
}

async fn refresh_tokens_rotate_and_reuse_revokes_the_session(backend: Backend) {
    let app = spawn(backend).await;
    let user = app.user(Role::Author, "Arthur").await;
    let refreshed = app.post("/api/v1/auth/refresh", json!({"refresh_token": user.refresh_token})).await;
    refreshed.assert_status(200);
    assert_eq!(refreshed.header("cache-control"), Some("private, no-store"));
    let pair = refreshed.json();
    let second = pair["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(second, user.refresh_token);
    let renewed = User { token: pair["access_token"].as_str().unwrap().to_string(), ..user.clone() };
    app.get_as(&renewed, "/api/v1/auth/me").await.assert_status(200);

    // The first token again: it was copied. The whole session ends, the newest token included.
    app.post("/api/v1/auth/refresh", json!({"refresh_token": user.refresh_token})).await.assert_problem(401);
    app.post("/api/v1/auth/refresh", json!({"refresh_token": second})).await.assert_problem(401);
    app.post("/api/v1/auth/refresh", json!({"refresh_token": "not-a-token"})).await.assert_problem(401);
    app.post("/api/v1/auth/refresh", json!({})).await.assert_problem(422);

    // Refresh tokens are stored only as SHA-256 hashes.
    let stored: Vec<String> = app
        .state
        .db
        .run(|conn| {
            use diesel::prelude::*;
            use masthead::schema::refresh_tokens;
            Ok(refresh_tokens::table.select(refresh_tokens::token_hash).load(conn)?)
        })
        .await
        .unwrap();
    assert_eq!(stored.len(), 2);
    for hash in &stored {
        assert!(hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()), "{hash}");
        assert!(*hash != user.refresh_token && *hash != second);
    }

    // Other sessions of the same account are untouched.
    let other = app.login(&user.email, &user.password).await.json();
    app.post("/api/v1/auth/refresh", json!({"refresh_token": other["refresh_token"]})).await.assert_status(200);
}

async fn logout_ends_the_session(backend: Backend) {
    let app = spawn(backend).await;
    let user = app.user(Role::Author, "Arthur").await;
    let elsewhere = app.login(&user.email, &user.password).await.json();
    let elsewhere = User { token: elsewhere["access_token"].as_str().unwrap().to_string(), ..user.clone() };
    app.get_as(&user, "/api/v1/auth/me").await.assert_status(200);
    let out = app.post("/api/v1/auth/logout", json!({"refresh_token": user.refresh_token})).await;
    out.assert_status(204);
    // Its access token ends with it, at once; the account's other sessions go on.
    app.get_as(&user, "/api/v1/auth/me").await.assert_problem(401);
    app.get_as(&elsewhere, "/api/v1/auth/me").await.assert_status(200);
    app.post("/api/v1/auth/refresh", json!({"refresh_token": user.refresh_token})).await.assert_problem(401);
    app.post("/api/v1/auth/logout", json!({"refresh_token": user.refresh_token})).await.assert_status(204);
    app.post("/api/v1/auth/logout", json!({"refresh_token": "unknown"})).await.assert_status(204);
}

async fn password_change_ends_every_session(backend: Backend) {
    let app = spawn(backend).await;
    let user = app.user(Role::Author, "Arthur").await;
    let laptop = app.login(&user.email, &user.password).await.json();

    let wrong = app
        .put_as(
            &user,
            "/api/v1/auth/password",
            json!({"current_password": "wrong", "new_password": "a new passphrase"}),
        )
        .await
        .assert_problem(401);
    assert!(wrong["detail"].as_str().unwrap().contains("current password"));
    let short = app
        .put_as(&user, "/api/v1/auth/password", json!({"current_password": user.password, "new_password": "short"}))
        .await
        .assert_problem(422);
    assert_eq!(short["errors"][0]["field"], "new_password");

    let changed = app
        .put_as(
            &user,
            "/api/v1/auth/password",
            json!({"current_password": user.password, "new_password": "a new passphrase"}),
        )
        .await;
    changed.assert_status(200);
    let fresh = changed.json();

    // Every earlier token stops working at once; the fresh pair works.
    app.get_as(&user, "/api/v1/auth/me").await.assert_problem(401);
    let laptop_user = User { token: laptop["access_token"].as_str().unwrap().to_string(), ..user.clone() };
    app.get_as(&laptop_user, "/api/v1/auth/me").await.assert_problem(401);
    app.post("/api/v1/auth/refresh", json!({"refresh_token": user.refresh_token})).await.assert_problem(401);
    app.post("/api/v1/auth/refresh", json!({"refresh_token": laptop["refresh_token"]})).await.assert_problem(401);
    let fresh_user = User { token: fresh["access_token"].as_str().unwrap().to_string(), ..user.clone() };
    app.get_as(&fresh_user, "/api/v1/auth/me").await.assert_status(200);
    app.post("/api/v1/auth/refresh", json!({"refresh_token": fresh["refresh_token"]})).await.assert_status(200);

    app.login(&user.email, &user.password).await.assert_problem(401);
    app.login(&user.email, "a new passphrase").await.assert_status(200);
}

async fn failed_logins_are_throttled_per_account(backend: Backend) {
    let app = spawn(backend).await;
    let user = app.user(Role::Author, "Arthur").await;
    // A success forgets earlier failures of the account.
    for _ in 0..4 {
        app.login(&user.email, "wrong").await.assert_problem(401);
    }
    app.login(&user.email, &user.password).await.assert_status(200);
    for _ in 0..5 {
        app.login(&user.email, "wrong").await.assert_problem(401);
    }
    // Five failures in the window: even the right password now waits, from any address.
    let throttled = app.login_from("10.0.0.9", &user.email, &user.password).await;
    let problem = throttled.assert_problem(429);
    assert_eq!(problem["type"], "urn:masthead:problem:too-many-requests");
    let retry_after: u64 = throttled.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=900).contains(&retry_after), "{retry_after}");
    // An unknown e-mail is throttled the same way: throttling does not reveal who has an account.
    for _ in 0..5 {
        app.login_from("10.0.0.10", "nobody@example.com", "guess").await.assert_problem(401);
    }
    app.login_from("10.0.0.10", "nobody@example.com", "guess").await.assert_problem(429);
}

async fn failed_logins_are_throttled_per_address(backend: Backend) {
    let app = spawn(backend).await;
    let user = app.user(Role::Author, "Arthur").await;
    for i in 0..10 {
        app.login_from("192.0.2.7", &format!("guess{i}@example.com"), "x").await.assert_problem(401);
    }
    // The address is spent, whatever the e-mail (even a real one with its password)...
    app.login_from("192.0.2.7", &user.email, &user.password).await.assert_problem(429);
    // ...but the account is not: from elsewhere it logs in.
    app.login_from("192.0.2.8", &user.email, &user.password).await.assert_status(200);
}

/// Every guess of a burst used to pass the throttle's check before any failure was recorded (150
/// concurrent guesses with a limit of 5: 149 answered 401, and the right password 200). Attempts
/// are now reserved before the password is checked: exactly the limit gets through, on the login
/// and on the password change alike.
async fn a_burst_of_guesses_gets_exactly_the_limit_through(backend: Backend) {
    let app = spawn(backend).await;
    let user = app.user(Role::Author, "Arthur").await;
    // Which five get through depends on the order the reservations are made in, not on which
    // password is right: the assertion counts, whatever the order.
    let guesses = (0..30).map(|i| {
        let password = if i == 17 { user.password.clone() } else { format!("guess {i}") };
        let (app, email) = (&app, user.email.clone());
        async move { app.login_from("198.51.100.1", &email, &password).await }
    });
    let answers = futures_util::future::join_all(guesses).await;
    let through = answers.iter().filter(|answer| answer.status != 429).count();
    assert_eq!(through, 5, "{:?}", answers.iter().map(|a| a.status.as_u16()).collect::<Vec<_>>());
    for answer in answers.iter().filter(|answer| answer.status == 429) {
        answer.assert_problem(429);
        assert!(answer.header("retry-after").is_some());
    }

    let other = app.user(Role::Author, "Olga").await;
    let changes = (0..30).map(|i| {
        let body = json!({"current_password": format!("guess {i}"), "new_password": "a new passphrase"});
        app.put_as(&other, "/api/v1/auth/password", body)
    });
    let answers = futures_util::future::join_all(changes).await;
    assert_eq!(answers.iter().filter(|answer| answer.status == 401).count(), 5);
    assert_eq!(answers.iter().filter(|answer| answer.status == 429).count(), 25);
}

/// Tokens expire by the app's clock: an access token after its lifetime (and the 30 s allowed
/// between nodes' clocks), a refresh token after its own.
async fn access_tokens_and_refresh_tokens_expire_by_the_clock(backend: Backend) {
    let app = spawn(backend).await;
    let user = app.user(Role::Author, "Arthur").await;
    app.get_as(&user, "/api/v1/auth/me").await.assert_status(200);
    app.advance(chrono::Duration::seconds(900 + 29));
    app.get_as(&user, "/api/v1/auth/me").await.assert_status(200);
    app.advance(chrono::Duration::seconds(2));
    app.get_as(&user, "/api/v1/auth/me").await.assert_problem(401);
    // The refresh token still works, and gives a token that works now.
    let renewed = app.post("/api/v1/auth/refresh", json!({"refresh_token": user.refresh_token})).await;
    renewed.assert_status(200);
    let fresh = User { token: renewed.json()["access_token"].as_str().unwrap().to_string(), ..user.clone() };
    app.get_as(&fresh, "/api/v1/auth/me").await.assert_status(200);
    // Past the refresh tokens' lifetime, the session is over.
    let refresh_ttl = chrono::Duration::seconds(app.state.config.refresh_ttl.as_secs() as i64);
    app.advance(refresh_ttl + chrono::Duration::seconds(1));
    let next = renewed.json()["refresh_token"].as_str().unwrap().to_string();
    app.post("/api/v1/auth/refresh", json!({"refresh_token": next})).await.assert_problem(401);
}
