//! Bad input of every kind gets a clear problem+json, never a 500, and writes nothing.

use actix_web::test::TestRequest;
use masthead::auth::Role;
use serde_json::json;

use crate::harness::{Backend, spawn};

backend_tests!(malformed_bodies_are_refused_clearly, unknown_routes_are_problems);

async fn malformed_bodies_are_refused_clearly(backend: Backend) {
    let app = spawn(backend).await;
    let user = app.user(Role::Editor, "Eddie").await;
    let auth = ("Authorization", format!("Bearer {}", user.token));
    let post = |body: &'static str, content_type: &'static str| {
        TestRequest::post()
            .uri("/api/v1/admin/articles")
            .insert_header(auth.clone())
            .insert_header(("Content-Type", content_type))
            .set_payload(body)
    };

    let problem = app.send(post("{\"title\": ", "application/json")).await.assert_problem(400);
    assert!(problem["detail"].as_str().unwrap().starts_with("malformed JSON"), "{problem}");
    app.send(post(r#"{"title": "a", "body_markdown": "b"} trailing"#, "application/json")).await.assert_problem(400);

    let problem = app
        .send(post(r#"{"title": "a", "body_markdown": "b", "status": "published"}"#, "application/json"))
        .await
        .assert_problem(400);
    assert!(problem["detail"].as_str().unwrap().contains("unknown field `status`"), "{problem}");

    let problem = app.send(post(r#"{"body_markdown": "b"}"#, "application/json")).await.assert_problem(422);
    assert_eq!(problem["errors"], json!([{"field": "title", "message": "is required"}]));

    let problem = app.send(post(r#"{"title": 5, "body_markdown": "b"}"#, "application/json")).await.assert_problem(422);
    assert_eq!(problem["errors"][0]["field"], "title");
    let problem = app
        .send(post(r#"{"title": "t", "body_markdown": "b", "tags": ["ok", 7]}"#, "application/json"))
        .await
        .assert_problem(422);
    assert_eq!(problem["errors"][0]["field"], "tags[1]");

    app.send(post(r#"{"title": "a", "body_markdown": "b"}"#, "text/plain")).await.assert_problem(415);
    let no_type = TestRequest::post().uri("/api/v1/admin/articles").insert_header(auth.clone()).set_payload("{}");
    app.send(no_type).await.assert_problem(415);

    let huge = json!({"title": "big", "body_markdown": "x".repeat(100 * 1024)});
    let problem = app.post_as(&user, "/api/v1/admin/articles", huge).await.assert_problem(413);
    assert_eq!(problem["type"], "urn:masthead:problem:payload-too-large");

    app.patch_as(&user, "/api/v1/admin/articles/not-a-number", json!({})).await.assert_problem(404);

    // None of it was written.
    assert_eq!(app.get_as(&user, "/api/v1/admin/articles").await.json()["meta"]["total"], 0);
}

async fn unknown_routes_are_problems(backend: Backend) {
    let app = spawn(backend).await;
    let problem = app.get("/api/v1/nothing-here").await.assert_problem(404);
    assert_eq!(problem["type"], "urn:masthead:problem:not-found");
    app.get("/").await.assert_problem(404);
}

mod review {
    use actix_web::test::TestRequest;
    use masthead::auth::Role;
    use serde_json::json;

    use crate::harness::{Backend, spawn};

    backend_tests!(
        nul_characters_never_reach_the_database,
        deeply_nested_markdown_is_refused,
        wrong_methods_are_405_with_allow,
        null_is_not_absent_in_a_patch,
        odd_bodies_and_parameters_are_refused_clearly,
    );

    async fn nul_characters_never_reach_the_database(backend: Backend) {
        let app = spawn(backend).await;
        let user = app.user(Role::Editor, "Eddie").await;
        // In parameters and bodies a NUL becomes U+FFFD: stored and compared safely on both backends.
        app.get("/api/v1/articles?tag=a%00b").await.assert_status(200);
        app.get("/api/v1/articles?author=%00").await.assert_status(200);
        app.get("/api/v1/articles?q=a%00b").await.assert_status(200);
        for path in ["/api/v1/articles/a%00b", "/api/v1/authors/a%00b", "/api/v1/tags/a%00b"] {
            app.get(path).await.assert_problem(404);
        }
        let login = TestRequest::post()
            .uri("/api/v1/auth/login")
            .insert_header(("Content-Type", "application/json"))
            .set_payload(r#"{"email": "a\u0000@b.co", "password": "x"}"#);
        app.send(login).await.assert_problem(401);
        let create = TestRequest::post()
            .uri("/api/v1/admin/articles")
            .insert_header(("Authorization", format!("Bearer {}", user.token)))
            .insert_header(("Content-Type", "application/json"))
            .set_payload(r#"{"title": "a\u0000b", "body_markdown": "", "tags": ["x\u0000y"]}"#);
        let created = app.send(create).await;
        created.assert_status(201);
        assert_eq!(created.json()["data"]["title"], "a\u{FFFD}b");
        assert_eq!(created.json()["data"]["tags"][0]["name"], "x\u{FFFD}y");
        // A whole number written as a float is an integer, as JSON Schema has it.
        let id = created.json()["data"]["id"].as_i64().unwrap();
        let preview =
            app.post_as(&user, &format!("/api/v1/admin/articles/{id}/preview"), json!({"expires_in": 600.0})).await;
        preview.assert_status(201);
        let fractional =
            app.post_as(&user, &format!("/api/v1/admin/articles/{id}/preview"), json!({"expires_in": 600.5})).await;
        assert_eq!(fractional.assert_problem(422)["errors"][0]["field"], "expires_in");
        // Read exactly: a large whole number with a `.0` (which an approximate parser turns into a
        // fraction) is still an integer, here an author id that names nobody.
        let large = TestRequest::patch()
            .uri(&format!("/api/v1/admin/articles/{id}"))
            .insert_header(("Authorization", format!("Bearer {}", user.token)))
            .insert_header(("Content-Type", "application/json"))
            .set_payload(r#"{"authors": [-2120030652074655.0]}"#);
        let unknown = app.send(large).await.assert_problem(404);
        assert!(unknown["detail"].as_str().unwrap().contains("-2120030652074655"), "{unknown}");
        // An escaped backslash before `u0000` is not a NUL.
        let fine = TestRequest::post()
            .uri("/api/v1/admin/articles")
            .insert_header(("Authorization", format!("Bearer {}", user.token)))
            .insert_header(("Content-Type", "application/json"))
            .set_payload(r#"{"title": "a\\u0000b", "body_markdown": ""}"#);
        let created = app.send(fine).await;
        created.assert_status(201);
        assert_eq!(created.json()["data"]["title"], "a\\u0000b");
    }

    async fn deeply_nested_markdown_is_refused(backend: Backend) {
        let app = spawn(backend).await;
        let user = app.user(Role::Contributor, "Cora").await;
        let nested_list: String = (0..40).map(|depth| format!("{}- item\n", "  ".repeat(depth))).collect();
        for body in [nested_list, "> ".repeat(40) + "quote"] {
            let problem = app
                .post_as(&user, "/api/v1/admin/articles", json!({"title": "Deep", "body_markdown": body}))
                .await
                .assert_problem(422);
            assert_eq!(problem["errors"][0]["field"], "body_markdown");
        }
        let normal = "- one\n  - two\n    - *three* and **four** [link](https://example.com)\n\n> quote\n> > nested";
        app.post_as(&user, "/api/v1/admin/articles", json!({"title": "Normal", "body_markdown": normal}))
            .await
            .assert_status(201);
    }

    async fn wrong_methods_are_405_with_allow(backend: Backend) {
        let app = spawn(backend).await;
        let put = app.send(TestRequest::put().uri("/api/v1/articles")).await;
        let problem = put.assert_problem(405);
        assert_eq!(problem["type"], "urn:masthead:problem:method-not-allowed");
        assert_eq!(put.header("allow"), Some("GET, HEAD"));
        let delete = app.send(TestRequest::delete().uri("/api/v1/articles/some-slug")).await;
        delete.assert_problem(405);
        assert_eq!(delete.header("allow"), Some("GET, HEAD"));
        let patch = app.send(TestRequest::patch().uri("/api/v1/admin/articles")).await;
        patch.assert_problem(405);
        assert_eq!(patch.header("allow"), Some("GET, HEAD, POST"));
        app.send(TestRequest::post().uri("/docs")).await.assert_problem(405);
        app.get("/docs/no-such-asset.js").await.assert_problem(404);
        app.get("/api/v1/articles/a/b/c").await.assert_problem(404);
    }

    async fn null_is_not_absent_in_a_patch(backend: Backend) {
        let app = spawn(backend).await;
        let user = app.user(Role::Editor, "Eddie").await;
        let article = app.draft(&user, json!({"title": "Title", "body_markdown": "x", "tags": ["A"]})).await;
        let path = format!("/api/v1/admin/articles/{}", article["id"]);
        for field in ["title", "body_markdown", "slug", "tags", "authors", "featured"] {
            let problem = app.patch_as(&user, &path, json!({ field: null })).await.assert_problem(422);
            assert_eq!(problem["errors"][0]["field"], field);
        }
        let unchanged = app.patch_as(&user, &path, json!({})).await;
        unchanged.assert_status(200);
        assert_eq!(unchanged.json()["data"]["version"], 1, "an empty PATCH writes nothing");
        assert_eq!(unchanged.header("etag"), Some("\"v1\""));
        let tag = app.post_as(&user, "/api/v1/admin/tags", json!({"name": "T"})).await.json()["data"]["id"].clone();
        app.patch_as(&user, &format!("/api/v1/admin/tags/{tag}"), json!({"name": null})).await.assert_problem(422);
        app.patch_as(&user, "/api/v1/auth/me", json!({"name": null})).await.assert_problem(422);
        app.patch_as(&user, &format!("/api/v1/admin/authors/{}", user.id), json!({"role": null}))
            .await
            .assert_problem(422);
    }

    async fn odd_bodies_and_parameters_are_refused_clearly(backend: Backend) {
        let app = spawn(backend).await;
        let user = app.user(Role::Editor, "Eddie").await;
        let post = |body: &'static str| {
            TestRequest::post()
                .uri("/api/v1/admin/articles")
                .insert_header(("Authorization", format!("Bearer {}", user.token)))
                .insert_header(("Content-Type", "application/json"))
                .set_payload(body)
        };
        app.send(post("[]")).await.assert_problem(400);
        app.send(post("null")).await.assert_problem(400);
        let duplicate =
            app.send(post(r#"{"title": "a", "title": "b", "body_markdown": ""}"#)).await.assert_problem(400);
        assert!(duplicate["detail"].as_str().unwrap().contains("duplicate field"), "{duplicate}");
        let unknown = app.send(post(r#"{"title": "a", "body_markdown": "", "extra": 1}"#)).await.assert_problem(400);
        assert!(!unknown["detail"].as_str().unwrap().contains(" in `"), "{unknown}");
        let zstd = post(r#"{"title": "a", "body_markdown": ""}"#).insert_header(("Content-Encoding", "zstd"));
        app.send(zstd).await.assert_problem(415);
        let problem = app.get("/api/v1/articles?page=99999999999999999999").await.assert_problem(422);
        assert_eq!(problem["errors"][0]["field"], "page");
        app.get("/api/v1/articles?per_page=-99999999999999999999").await.assert_problem(422);
        app.get("/api/v1/articles?page=1.5").await.assert_problem(400);
        let problem = app
            .post_as(&user, "/api/v1/admin/articles", json!({"title": "T", "body_markdown": "", "tags": ["C++", "C#"]}))
            .await
            .assert_problem(409);
        assert!(problem["detail"].as_str().unwrap().starts_with("`tags[1]`"));
        let same = app
            .post_as(
                &user,
                "/api/v1/admin/articles",
                json!({"title": "T", "body_markdown": "", "tags": ["Rust", "rust "]}),
            )
            .await;
        assert_eq!(same.json()["data"]["tags"].as_array().unwrap().len(), 1);
    }
}
