//! The export and its restore: everything out through `GET /api/v1/admin/export` and
//! `masthead export`, back in with `masthead import masthead` on the other backend, and out again
//! the same; bad files refused whole.

use std::path::Path;
use std::process::Output;

use masthead::auth::Role;
use masthead::settings::MediaStoreLocation;
use serde_json::{Value, json};

use crate::harness::{Backend, TestDb, postgres_enabled, spawn, spawn_node_with};

backend_tests!(
    an_export_restored_on_the_other_backend_exports_the_same,
    a_restore_takes_a_whole_export_into_an_empty_database_or_nothing
);

/// Runs the `masthead` binary on `db`, with its media in `media` when given.
fn masthead(db: &str, media: Option<&Path>, args: &[&str], stdin: &str) -> Output {
    let dir = media.map(|dir| dir.to_str().unwrap());
    let env = match dir {
        Some(dir) => vec![("MASTHEAD_MEDIA_DIR", dir), ("MASTHEAD_MEDIA_STORE", "local")],
        None => vec![],
    };
    crate::harness::masthead(db, args, &env, stdin)
}

fn succeeded(output: &Output) -> String {
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// An export's lines as JSON, the first one's time of export left out (the rest must match).
fn records(text: &str) -> Vec<Value> {
    let mut records: Vec<Value> = text.lines().map(|line| serde_json::from_str(line).expect("a JSON line")).collect();
    assert_eq!(records[0]["kind"], "masthead");
    records[0].as_object_mut().unwrap().remove("exported_at");
    records
}

fn kinds(records: &[Value], kind: &str) -> Vec<Value> {
    records.iter().filter(|record| record["kind"] == kind).cloned().collect()
}

fn media_dir(store: &MediaStoreLocation) -> &Path {
    match store {
        MediaStoreLocation::Directory(dir) => dir,
        MediaStoreLocation::S3 { .. } => panic!("the tests' apps keep media in a directory"),
    }
}

async fn an_export_restored_on_the_other_backend_exports_the_same(backend: Backend) {
    let other = match backend {
        Backend::Sqlite if postgres_enabled() => Backend::Postgres,
        _ => Backend::Sqlite,
    };
    let app = spawn(backend).await;
    let admin = app.user(Role::Admin, "Ada Admin").await;
    let editor = app.user(Role::Editor, "Émile Éditeur").await;
    let guest =
        app.post_as(&admin, "/api/v1/admin/authors", json!({"name": "Guest Writer", "bio": "Wire — copy"})).await;
    let guest = guest.json()["data"]["id"].clone();
    let upload = app
        .upload_as(
            &editor,
            &[("file", Some("cover.png"), &crate::media_files::png(32, 16)), ("alt", None, b"Un caf\xc3\xa9")],
        )
        .await;
    upload.assert_status(201);
    let image = upload.json()["data"].clone();
    let body = json!({
        "title": "Café crème — 日本語", "body_markdown": "# Heading\n\nText with *emphasis* and [a link](https://example.com).",
        "tags": ["Café", "News"], "authors": [editor.id, guest], "cover_image_id": image["id"], "featured": true,
        "seo_title": "SEO", "excerpt": "An excerpt",
    });
    let article = app.published(&editor, body).await;
    let path = format!("/api/v1/admin/articles/{}", article["id"]);
    app.patch_as(&editor, &path, json!({"slug": "cafe-creme"})).await.assert_status(200);
    app.draft(&admin, json!({"title": "A draft", "body_markdown": "Not yet."})).await;
    let comment = |name: &str, email: &str, parent: Option<i64>| json!({"author_name": name, "author_email": email, "body": "Très bien", "parent_id": parent});
    let first = app.comment_from("10.0.0.1", "cafe-creme", comment("Zoë", "zoe@readers.example", None)).await;
    let first = first.json()["data"]["id"].as_i64().unwrap();
    app.patch_as(&editor, &format!("/api/v1/admin/comments/{first}"), json!({"status": "approved"}))
        .await
        .assert_status(200);
    app.comment_from("10.0.0.2", "cafe-creme", comment("Yann", "yann@readers.example", Some(first)))
        .await
        .assert_status(202);
    app.post_as(
        &editor,
        "/api/v1/admin/redirects",
        json!({"from": "/2016/01/cafe/", "to": {"article_id": article["id"]}}),
    )
    .await
    .assert_status(201);

    // Out through the API: admins only, logged in.
    app.get_as(&editor, "/api/v1/admin/export").await.assert_problem(403);
    let exported = app.get_as(&admin, "/api/v1/admin/export?with_revisions=true").await;
    exported.assert_status(200);
    assert_eq!(exported.header("content-type"), Some("application/x-ndjson"));
    assert!(exported.header("content-disposition").unwrap().starts_with("attachment; filename=\"masthead-"));
    let first_export = records(&exported.text());
    assert_eq!(first_export.last().unwrap()["kind"], "end");
    assert_eq!(kinds(&first_export, "author").len(), 3);
    assert!(kinds(&first_export, "author").iter().all(|a| a.get("password_hash").is_none()));
    assert_eq!(kinds(&first_export, "article").len(), 2);
    assert_eq!(kinds(&first_export, "comment").len(), 2);
    assert_eq!(kinds(&first_export, "redirect").len(), 2, "the former slug and the path");
    assert!(!kinds(&first_export, "revision").is_empty());
    let cafe = kinds(&first_export, "article").into_iter().find(|a| a["slug"] == "cafe-creme").unwrap();
    assert_eq!(cafe["authors"], json!([editor.id, guest]));
    assert_eq!(cafe["title"], "Café crème — 日本語");
    assert!(cafe.get("body_html").is_none(), "what is derived is made again");

    // Out through the command line, with the media files: the same records.
    let work = tempfile::tempdir().unwrap();
    let (file, media) = (work.path().join("site.jsonl"), work.path().join("media"));
    let source_db = crate::harness::database_env(&app.state.config.database_url);
    let source_media = media_dir(&app.state.config.media.store);
    let args = ["export", file.to_str().unwrap(), "--with-revisions", "--media", media.to_str().unwrap()];
    succeeded(&masthead(&source_db, Some(source_media), &args, ""));
    assert_eq!(records(&std::fs::read_to_string(&file).unwrap()), first_export);

    // In on the other backend, and out again: identical.
    let target = TestDb::create(other);
    let target_media = tempfile::tempdir().unwrap();
    let import = ["import", "masthead", file.to_str().unwrap(), "--media", media.to_str().unwrap()];
    let said = succeeded(&masthead(&target.env_value(), Some(target_media.path()), &import, ""));
    assert!(said.contains("restored 3 authors") && said.contains("2 articles"), "{said}");
    let again = work.path().join("again.jsonl");
    succeeded(&masthead(&target.env_value(), None, &["export", again.to_str().unwrap(), "--with-revisions"], ""));
    assert_eq!(records(&std::fs::read_to_string(&again).unwrap()), first_export);

    // The publication works there: articles, covers, former slugs, comments; accounts once given
    // a password; new records take new ids.
    let store = MediaStoreLocation::Directory(target_media.path().to_path_buf());
    let moved = spawn_node_with(target.url.clone(), |config| config.media.store = store).await;
    let read = moved.get("/api/v1/articles/cafe-creme").await;
    read.assert_status(200);
    let cover = read.json()["data"]["cover_image"].clone();
    assert_eq!(cover["alt"], "Un café");
    let file_path = cover["url"].as_str().unwrap().split_once("/media/").unwrap().1.to_string();
    moved.get(&format!("/media/{file_path}")).await.assert_status(200);
    assert_eq!(moved.get(&format!("/api/v1/articles/{}", article["slug"].as_str().unwrap())).await.status, 301);
    let thread = moved.get("/api/v1/articles/cafe-creme/comments").await.json();
    assert_eq!(thread["data"][0]["author_name"], "Zoë");
    let login = moved.login(&admin.email, &admin.password).await;
    login.assert_status(401);
    let set = ["users", "password", "--email", &admin.email, "--password-stdin"];
    succeeded(&masthead(&target.env_value(), None, &set, "a new password\n"));
    let admin_there = moved.login(&admin.email, "a new password").await.json();
    let admin_there = crate::harness::User {
        id: admin.id,
        email: admin.email.clone(),
        password: "a new password".into(),
        token: admin_there["access_token"].as_str().unwrap().to_string(),
        refresh_token: admin_there["refresh_token"].as_str().unwrap().to_string(),
    };
    let made = moved
        .post_as(&admin_there, "/api/v1/admin/articles", json!({"title": "After the move", "body_markdown": ""}))
        .await;
    made.assert_status(201);
    assert_eq!(made.json()["data"]["id"], 3);
    drop(target);
}

async fn a_restore_takes_a_whole_export_into_an_empty_database_or_nothing(backend: Backend) {
    let app = spawn(backend).await;
    let admin = app.user(Role::Admin, "Ada").await;
    app.published(&admin, json!({"title": "One", "body_markdown": "x", "tags": ["t"]})).await;
    // What an import remembers moves with the rest: the same import after the move imports nothing.
    let work = tempfile::tempdir().unwrap();
    let ghost = work.path().join("ghost.json");
    let export = json!({"db": [{"meta": {"version": "5.0.0"}, "data": {
        "posts": [{"id": "g1", "title": "From Ghost", "slug": "from-ghost", "html": "<p>Hi</p>", "status": "published"}]
    }}]});
    std::fs::write(&ghost, export.to_string()).unwrap();
    let source_db = crate::harness::database_env(&app.state.config.database_url);
    succeeded(&masthead(&source_db, None, &["import", "ghost", ghost.to_str().unwrap()], ""));
    let good = app.get_as(&admin, "/api/v1/admin/export").await.text();
    assert_eq!(kinds(&records(&good), "import_source").len(), 2, "the post and its unknown author");
    let lines: Vec<&str> = good.lines().collect();
    let target = TestDb::create(backend);
    let try_file = |name: &str, content: String| {
        let file = work.path().join(name);
        std::fs::write(&file, content).unwrap();
        let output = masthead(&target.env_value(), None, &["import", "masthead", file.to_str().unwrap()], "");
        assert!(!output.status.success(), "{name} was taken");
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    let bad_author = lines[1].replace("\"role\":\"admin\"", "\"role\":\"king\"");
    let orphan = lines
        .iter()
        .find(|l| l.contains("\"kind\":\"article\""))
        .unwrap()
        .replace("\"authors\":[1]", "\"authors\":[99]");
    let article_line = *lines.iter().find(|l| l.contains("\"kind\":\"article\"")).unwrap();
    let stranger = article_line.replacen("\"kind\":\"article\",", "\"kind\":\"article\",\"surprise\":1,", 1);
    assert_ne!(stranger, article_line);
    let cases: Vec<(&str, String, &str)> = vec![
        ("an unknown field in an article", good.replacen(article_line, &stranger, 1), "unknown field `surprise`"),
        ("empty", String::new(), "empty"),
        ("text", "hello\n".into(), "line 1: not a Masthead export"),
        ("xml", "<?xml version=\"1.0\"?><rss/>\n".into(), "line 1: not a Masthead export"),
        ("newer", lines[0].replace("\"format\":1", "\"format\":99") + "\n", "format 99"),
        ("cut at a line", lines[..lines.len() - 1].join("\n") + "\n", "cut short"),
        ("cut in a line", good[..good.len() - 20].to_string(), "line"),
        ("miscounted", good.replace("\"kind\":\"end\",\"records\":", "\"kind\":\"end\",\"records\":1"), "records"),
        ("more after the end", format!("{good}{}\n", lines[1]), "after the `end`"),
        ("a bad role", good.replacen(lines[1], &bad_author, 1), "line 2: `king` is not a role"),
        (
            "an unknown author",
            good.replacen(lines.iter().find(|l| l.contains("\"kind\":\"article\"")).unwrap(), &orphan, 1),
            "line",
        ),
    ];
    for (name, content, says) in cases {
        let error = try_file(name, content);
        assert!(error.contains(says), "{name}: {error}");
        // Nothing was written: the database exports as empty.
        let out = work.path().join("out.jsonl");
        succeeded(&masthead(&target.env_value(), None, &["export", out.to_str().unwrap()], ""));
        assert_eq!(std::fs::read_to_string(&out).unwrap().lines().count(), 2, "{name} left records behind");
    }

    // A whole export goes in once; a database with content takes no other.
    let file = work.path().join("good.jsonl");
    std::fs::write(&file, &good).unwrap();
    succeeded(&masthead(&target.env_value(), None, &["import", "masthead", file.to_str().unwrap()], ""));
    let twice = masthead(&target.env_value(), None, &["import", "masthead", file.to_str().unwrap()], "");
    assert!(!twice.status.success());
    assert!(String::from_utf8_lossy(&twice.stderr).contains("empty database"));
    let again = succeeded(&masthead(&target.env_value(), None, &["import", "ghost", ghost.to_str().unwrap()], ""));
    assert!(again.contains("posts: 0 imported"), "{again}");
}
