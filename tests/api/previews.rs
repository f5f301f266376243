//! Draft previews through signed, expiring links.

use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use masthead::auth::Role;
use serde_json::{Value, json};

use crate::harness::{Backend, User, spawn};

backend_tests!(preview_links_show_drafts_to_anyone_holding_them);

async fn preview_links_show_drafts_to_anyone_holding_them(backend: Backend) {
    let app = spawn(backend).await;
    let author = app.user(Role::Contributor, "Cora").await;
    let stranger = app.user(Role::Author, "Stranger").await;
    let draft = app.draft(&author, json!({"title": "Coming soon", "body_markdown": "Not *yet*."})).await;
    let path = format!("/api/v1/admin/articles/{}", draft["id"]);

    // The body is optional, but whitespace alone is not JSON.
    let blank = actix_web::test::TestRequest::post()
        .uri(&format!("{path}/preview"))
        .insert_header(("Authorization", format!("Bearer {}", author.token)))
        .insert_header(("Content-Type", "application/json"))
        .set_payload(" ");
    app.send(blank).await.assert_problem(400);
    let created = app
        .send(
            actix_web::test::TestRequest::post()
                .uri(&format!("{path}/preview"))
                .insert_header(("Authorization", format!("Bearer {}", author.token)))
                .insert_header(("Host", "evil.example"))
                .insert_header(("X-Forwarded-Host", "evil.example")),
        )
        .await;
    created.assert_status(201);
    assert_eq!(created.header("cache-control"), Some("private, no-store"));
    let link = created.json()["data"].clone();
    let url = link["url"].as_str().unwrap();
    assert!(url.starts_with("https://news.example.com/api/v1/previews/"), "from the configuration: {url}");
    assert_eq!(created.header("location"), Some(url), "Location is the link");
    let preview_path = &url[url.find("/api/v1/previews/").expect("a preview URL")..];
    assert_eq!(preview_path, format!("/api/v1/previews/{}", link["token"].as_str().unwrap()), "the token alone");
    let expires_at: chrono::DateTime<chrono::Utc> = link["expires_at"].as_str().unwrap().parse().unwrap();
    let ttl = (expires_at - chrono::Utc::now()).num_seconds();
    assert!((3500..=3600).contains(&ttl), "{ttl}");

    // No credentials needed; never cached by shared caches; the public shape.
    let shown = app.get(preview_path).await;
    shown.assert_status(200);
    assert_eq!(shown.header("cache-control"), Some("private, no-store"));
    assert_eq!(shown.json()["data"]["body_html"], "<p>Not <em>yet</em>.</p>\n");
    assert!(shown.json()["data"].get("body_markdown").is_none());
    app.get("/api/v1/articles/coming-soon").await.assert_problem(404);

    // Edits show at once.
    app.patch_as(&author, &path, json!({"title": "Coming sooner"})).await.assert_status(200);
    assert_eq!(app.get(preview_path).await.json()["data"]["title"], "Coming sooner");

    // Tampered, expired, or an access token in its place: refused.
    let token = preview_path.rsplit('/').next().unwrap().to_string();
    let mut tampered = token.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    app.get(&format!("/api/v1/previews/{tampered}")).await.assert_problem(403);
    app.get(&format!("/api/v1/previews/{}", author.token)).await.assert_problem(403);
    let secret = format!("preview:{}", app.state.config.jwt_secret.as_ref().unwrap().expose());
    let now = chrono::Utc::now().timestamp();
    let sign = |claims: Value| {
        encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(secret.as_bytes())).unwrap()
    };
    let id = draft["id"].to_string();
    // Signed like the server's: the crafting is right.
    let good = sign(json!({"sub": id, "iat": now, "exp": now + 600, "iss": "masthead-preview"}));
    app.get(&format!("/api/v1/previews/{good}")).await.assert_status(200);
    for refused in [
        json!({"sub": id, "iat": now - 7200, "exp": now - 60, "iss": "masthead-preview"}),
        json!({"sub": id, "iat": now + 3600, "exp": now + 7200, "iss": "masthead-preview"}),
        json!({"sub": id, "iat": now, "nbf": now + 3600, "exp": now + 7200, "iss": "masthead-preview"}),
        json!({"sub": format!("+{id}"), "iat": now, "exp": now + 600, "iss": "masthead-preview"}),
        json!({"sub": format!("0{id}"), "iat": now, "exp": now + 600, "iss": "masthead-preview"}),
    ] {
        app.get(&format!("/api/v1/previews/{}", sign(refused.clone()))).await.assert_problem(403);
    }
    // Nor does a preview token work as an access token.
    let as_bearer = User { token: token.clone(), ..author.clone() };
    app.get_as(&as_bearer, "/api/v1/auth/me").await.assert_problem(401);

    // Only those who may read the article get a link; the lifetime is bounded.
    app.post_as(&stranger, &format!("{path}/preview"), Value::Null).await.assert_problem(404);
    app.post_as(&author, &format!("{path}/preview"), json!({"expires_in": 10})).await.assert_problem(422);
    let short = app.post_as(&author, &format!("{path}/preview"), json!({"expires_in": 120})).await;
    short.assert_status(201);
    // It expires by the app's clock.
    let short_path = format!("/api/v1/previews/{}", short.json()["data"]["token"].as_str().unwrap());
    app.get(&short_path).await.assert_status(200);
    app.advance(chrono::Duration::seconds(121));
    app.get(&short_path).await.assert_problem(403);

    // In the trash, the preview is gone.
    app.delete_as(&author, &path).await.assert_status(204);
    app.get(preview_path).await.assert_problem(404);
}
