//! Managing authors and accounts: who may manage whom, deactivation, byline-only authors.

use masthead::auth::Role;
use serde_json::{Value, json};

use crate::harness::{Backend, spawn};

backend_tests!(
    editors_and_admins_manage_accounts,
    a_taken_email_never_touches_the_existing_account,
    deactivation_ends_sessions_and_keeps_bylines,
    role_changes_bite_at_once,
    the_last_admin_stays,
    byline_only_authors_have_no_login,
    delete_removes_an_author_without_history_and_deactivates_the_rest,
);

async fn editors_and_admins_manage_accounts(backend: Backend) {
    let app = spawn(backend).await;
    let admin = app.user(Role::Admin, "Root").await;
    let editor = app.user(Role::Editor, "Eddie").await;
    let author = app.user(Role::Author, "Arthur").await;

    let account =
        |email: &str, role: &str| json!({"name": email, "email": email, "password": "long enough", "role": role});
    let created = app.post_as(&editor, "/api/v1/admin/authors", account("new.author@example.com", "author")).await;
    created.assert_status(201);
    let created_id = created.json()["data"]["id"].as_i64().unwrap();
    assert_eq!(created.header("location"), Some(format!("/api/v1/admin/authors/{created_id}").as_str()));
    assert_eq!(created.json()["data"]["role"], "author");
    assert_eq!(created.json()["data"]["can_log_in"], true);
    assert!(created.json()["data"].get("password_hash").is_none());
    app.login("new.author@example.com", "long enough").await.assert_status(200);

    app.post_as(&editor, "/api/v1/admin/authors", account("c@example.com", "contributor")).await.assert_status(201);
    app.post_as(&editor, "/api/v1/admin/authors", account("e@example.com", "editor")).await.assert_problem(403);
    app.post_as(&editor, "/api/v1/admin/authors", account("a@example.com", "admin")).await.assert_problem(403);
    app.post_as(&admin, "/api/v1/admin/authors", account("e@example.com", "editor")).await.assert_status(201);
    app.post_as(&author, "/api/v1/admin/authors", account("x@example.com", "contributor")).await.assert_problem(403);
    app.get_as(&author, "/api/v1/admin/authors").await.assert_problem(403);

    // Editors promote up to author, never to editor; they do not touch admins at all.
    let path = format!("/api/v1/admin/authors/{created_id}");
    app.patch_as(&editor, &path, json!({"role": "contributor"})).await.assert_status(200);
    app.patch_as(&editor, &path, json!({"role": "editor"})).await.assert_problem(403);
    app.patch_as(&editor, &format!("/api/v1/admin/authors/{}", admin.id), json!({"bio": "x"}))
        .await
        .assert_problem(403);
    app.patch_as(&admin, &path, json!({"role": "editor"})).await.assert_status(200);
    app.patch_as(&editor, &path, json!({"bio": "now a peer"})).await.assert_problem(403);

    let list = app.get_as(&editor, "/api/v1/admin/authors?per_page=100").await;
    list.assert_status(200);
    let list = list.json();
    assert_eq!(list["meta"]["total"], 6);
    assert!(list["data"].as_array().unwrap().iter().all(|a| a.get("password_hash").is_none()));
    let one = app.get_as(&editor, &path).await;
    one.assert_status(200);
    assert_eq!(one.json()["data"]["email"], "new.author@example.com");
    app.get_as(&editor, "/api/v1/admin/authors/999999").await.assert_problem(404);

    let problem = app
        .post_as(
            &admin,
            "/api/v1/admin/authors",
            json!({"name": "", "email": "not-an-email", "password": "short", "avatar_url": "ftp://x"}),
        )
        .await
        .assert_problem(422);
    let fields: Vec<&str> =
        problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["name", "avatar_url", "email", "password"]);
    app.post_as(&admin, "/api/v1/admin/authors", json!({"name": "X", "is_admin": true})).await.assert_problem(400);
}

async fn a_taken_email_never_touches_the_existing_account(backend: Backend) {
    let app = spawn(backend).await;
    let admin = app.user(Role::Admin, "Root").await;
    let existing = app.user(Role::Author, "Arthur").await;
    let taken = app
        .post_as(
            &admin,
            "/api/v1/admin/authors",
            json!({"name": "Impostor", "email": existing.email.to_uppercase(), "password": "another password", "role": "admin"}),
        )
        .await;
    taken.assert_problem(409);
    let other = app
        .post_as(
            &admin,
            "/api/v1/admin/authors",
            json!({"name": "Other", "email": "other@example.com", "password": "long enough"}),
        )
        .await;
    let other_id = other.json()["data"]["id"].as_i64().unwrap();
    app.patch_as(&admin, &format!("/api/v1/admin/authors/{other_id}"), json!({"email": existing.email}))
        .await
        .assert_problem(409);
    // The existing account is exactly as it was.
    app.login(&existing.email, &existing.password).await.assert_status(200);
    app.login(&existing.email, "another password").await.assert_problem(401);
    let me = app.get_as(&existing, "/api/v1/auth/me").await.json();
    assert_eq!(me["data"]["name"], "Arthur");
    assert_eq!(me["data"]["role"], "author");
}

async fn deactivation_ends_sessions_and_keeps_bylines(backend: Backend) {
    let app = spawn(backend).await;
    let admin = app.user(Role::Admin, "Root").await;
    let author = app.user(Role::Author, "Arthur Dent").await;
    let article = app.published(&author, json!({"title": "Towels", "body_markdown": "Always bring one."})).await;
    let path = format!("/api/v1/admin/authors/{}", author.id);

    // DELETE on an author with a byline deactivates them (as PATCH {"active": false} does, below).
    let deactivated = app.delete_as(&admin, &path).await;
    deactivated.assert_status(200);
    assert_eq!(deactivated.json()["data"]["active"], false);
    app.get_as(&author, "/api/v1/auth/me").await.assert_problem(401);
    app.post("/api/v1/auth/refresh", json!({"refresh_token": author.refresh_token})).await.assert_problem(401);
    app.login(&author.email, &author.password).await.assert_problem(401);
    let account = app.get_as(&admin, &path).await.json();
    assert_eq!(account["data"]["active"], false);

    // The byline stays, on the public article too.
    let public = app.get(&format!("/api/v1/articles/{}", article["slug"].as_str().unwrap())).await.json();
    assert_eq!(public["data"]["author"]["name"], "Arthur Dent");

    app.patch_as(&admin, &path, json!({"active": true})).await.assert_status(200);
    // A token from before the deactivation does not come back to life with the account.
    app.get_as(&author, "/api/v1/auth/me").await.assert_problem(401);
    app.login(&author.email, &author.password).await.assert_status(200);
    let deactivated = app.patch_as(&admin, &path, json!({"active": false})).await;
    assert_eq!(deactivated.json()["data"]["active"], false);
    app.login(&author.email, &author.password).await.assert_problem(401);
}

async fn role_changes_bite_at_once(backend: Backend) {
    let app = spawn(backend).await;
    let editor = app.user(Role::Editor, "Eddie").await;
    let author = app.user(Role::Author, "Arthur").await;
    let draft = app.draft(&author, json!({"title": "T", "body_markdown": ""})).await;
    app.patch_as(&editor, &format!("/api/v1/admin/authors/{}", author.id), json!({"role": "contributor"}))
        .await
        .assert_status(200);
    // Same token, new role.
    app.post_as(&author, &format!("/api/v1/admin/articles/{}/publish", draft["id"]), json!(null))
        .await
        .assert_problem(403);
    assert_eq!(app.get_as(&author, "/api/v1/auth/me").await.json()["data"]["role"], "contributor");
}

async fn the_last_admin_stays(backend: Backend) {
    let app = spawn(backend).await;
    let admin = app.user(Role::Admin, "Root").await;
    let path = format!("/api/v1/admin/authors/{}", admin.id);
    app.patch_as(&admin, &path, json!({"role": "editor"})).await.assert_problem(409);
    app.delete_as(&admin, &path).await.assert_problem(409);
    let second = app.user(Role::Admin, "Second").await;
    app.patch_as(&second, &path, json!({"role": "editor"})).await.assert_status(200);
    app.delete_as(&second, &format!("/api/v1/admin/authors/{}", second.id)).await.assert_problem(409);
}

async fn delete_removes_an_author_without_history_and_deactivates_the_rest(backend: Backend) {
    let app = spawn(backend).await;
    let editor = app.user(Role::Editor, "Edna").await;
    // A byline-only author created by mistake goes for good.
    let mistake = app.post_as(&editor, "/api/v1/admin/authors", json!({"name": "Typo"})).await.json()["data"].clone();
    let path = format!("/api/v1/admin/authors/{}", mistake["id"]);
    app.delete_as(&editor, &path).await.assert_status(204);
    app.get_as(&editor, &path).await.assert_problem(404);
    app.delete_as(&editor, &path).await.assert_problem(404);
    // One with a byline, a staff comment or a revision is deactivated and kept, every time.
    let writer = app.user(Role::Author, "Wren").await;
    app.draft(&writer, json!({"title": "Mine", "body_markdown": ""})).await;
    let path = format!("/api/v1/admin/authors/{}", writer.id);
    for _ in 0..2 {
        let deactivated = app.delete_as(&editor, &path).await;
        deactivated.assert_status(200);
        assert_eq!(deactivated.json()["data"]["id"], writer.id);
        assert_eq!(deactivated.json()["data"]["active"], false);
    }
    assert_eq!(app.get_as(&editor, &path).await.json()["data"]["active"], false);
    let commenter = app.user(Role::Author, "Cole").await;
    let article = app.published(&editor, json!({"title": "Open", "body_markdown": ""})).await;
    let slug = article["slug"].as_str().unwrap();
    app.post_as(
        &commenter,
        &format!("/api/v1/articles/{slug}/comments"),
        json!({"author_name": "Cole", "author_email": "cole@example.org", "body": "Staff note"}),
    )
    .await
    .assert_status(202);
    let path = format!("/api/v1/admin/authors/{}", commenter.id);
    app.delete_as(&editor, &path).await.assert_status(200);
    app.get_as(&editor, &path).await.assert_status(200);
}

async fn byline_only_authors_have_no_login(backend: Backend) {
    let app = spawn(backend).await;
    let editor = app.user(Role::Editor, "Eddie").await;
    let created = app
        .post_as(&editor, "/api/v1/admin/authors", json!({"name": "Wire Service", "bio": "News from everywhere."}))
        .await;
    created.assert_status(201);
    let wire = created.json()["data"].clone();
    assert_eq!(wire["can_log_in"], false);
    assert_eq!(wire["role"], Value::Null);
    assert_eq!(wire["email"], Value::Null);
    assert_eq!(wire["slug"], "wire-service");
    let path = format!("/api/v1/admin/authors/{}", wire["id"]);

    app.post_as(&editor, "/api/v1/admin/authors", json!({"name": "X", "role": "author"})).await.assert_problem(422);
    app.post_as(&editor, "/api/v1/admin/authors", json!({"name": "X", "password": "long enough"}))
        .await
        .assert_problem(422);
    // Valid alone, but this author has no login yet: a conflict with its state.
    let problem = app.patch_as(&editor, &path, json!({"email": "wire@example.com"})).await.assert_problem(409);
    assert!(problem["detail"].as_str().unwrap().contains("`password`"));
    app.patch_as(&editor, &path, json!({"role": "editor"})).await.assert_problem(409);
    let with_login =
        app.patch_as(&editor, &path, json!({"email": "wire@example.com", "password": "long enough"})).await;
    with_login.assert_status(200);
    assert_eq!(with_login.json()["data"]["can_log_in"], true);
    assert_eq!(with_login.json()["data"]["role"], "author");
    app.login("wire@example.com", "long enough").await.assert_status(200);
}
