//! `masthead import ghost`: Ghost exports written here (the shapes of Ghost 5 and Ghost 2),
//! imported through the binary and read back through the API; imported again (nothing twice),
//! dry-run, and files that are refused before anything is written.

use std::path::Path;
use std::process::Output;

use masthead::auth::Role;
use serde_json::{Value, json};

use crate::harness::{Backend, masthead, spawn};

backend_tests!(
    a_ghost_5_site_comes_in_once,
    a_ghost_2_export_with_its_older_fields,
    files_that_are_not_ghost_exports_write_nothing
);

fn import(db: &str, file: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["import", "ghost", file.to_str().unwrap()];
    args.extend_from_slice(extra);
    masthead(db, &args, &[], "")
}

fn report(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn post(id: &str, slug: &str, title: &str, status: &str, html: &str) -> Value {
    json!({
        "id": id, "uuid": format!("uuid-{id}"), "title": title, "slug": slug, "html": html,
        "plaintext": "text", "mobiledoc": null, "lexical": "{}", "feature_image": null, "featured": false,
        "type": "post", "status": status, "visibility": "public", "locale": null,
        "created_at": "2019-03-01T10:00:00.000Z", "updated_at": "2019-03-05T10:00:00.000Z",
        "published_at": if status == "draft" { Value::Null } else { json!("2019-03-04T05:06:07.000Z") },
        "custom_excerpt": null, "canonical_url": null, "codeinjection_head": null
    })
}

/// A Ghost 5 export: posts first, their relations after (as Ghost writes them).
fn ghost_5() -> Value {
    let mut hello = post(
        "p1",
        "hello-ghost",
        "Hello wörld",
        "published",
        "<p>Hello <strong>wörld</strong>.</p><!--kg-card-begin: html--><figure class=\"kg-card kg-image-card\">\
         <img src=\"__GHOST_URL__/content/images/a.jpg\" class=\"kg-image\" alt=\"Harbour\"></figure>\
         <!--kg-card-end: html--><p><a href=\"__GHOST_URL__/other/\">Other</a></p>",
    );
    hello["featured"] = json!(true);
    hello["custom_excerpt"] = json!("Hello wörld, briefly.");
    hello["feature_image"] = json!("__GHOST_URL__/content/images/cover.jpg");
    hello["canonical_url"] = json!("https://elsewhere.example/hello");
    hello["meta_title"] = json!("Ghost 2's place for it, which posts_meta overrides");
    let mut later = post("p2", "later", "Later", "scheduled", "<p>Soon</p>");
    later["published_at"] = json!("2031-01-01T00:00:00.000Z");
    let mut members = post("p4", "members", "For members", "published", "<p>Paid</p>");
    members["visibility"] = json!("paid");
    let deep = format!("{}x{}", "<blockquote>".repeat(150), "</blockquote>".repeat(150));
    let mut page = post("p6", "about", "About", "published", "<p>About us</p>");
    page["type"] = json!("page");
    let mut taken = post("p7", "taken", "Taken here", "published", "<p>Taken</p>");
    taken["canonical_url"] = json!("__GHOST_URL__/taken/");
    json!({"db": [{
        "meta": {"exported_on": 1_700_000_000_000_u64, "version": "5.75.2"},
        "data": {
            "posts": [
                hello,
                later,
                post("p3", "a-draft", "A draft", "draft", "<p>Not yet</p>"),
                members,
                post("p5", "broken", "Broken", "published", &deep),
                42,
                page,
                taken,
                post("p8", "newsletter", "Newsletter", "sent", "<p>By e-mail</p>"),
                post("p9", "tokyo", "東京の夜", "published", "<p>夜の街</p>"),
                post("p10", "emailed", "Emailed", "published", "<p>To subscribers</p>"),
            ],
            "posts_authors": [
                {"id": "pa1", "post_id": "p1", "author_id": "u2", "sort_order": 1},
                {"id": "pa2", "post_id": "p1", "author_id": "u1", "sort_order": 0},
                {"id": "pa3", "post_id": "p2", "author_id": "u2", "sort_order": 0},
                {"id": "pa4", "post_id": "p9", "author_id": "u9", "sort_order": 0}
            ],
            "posts_meta": [
                {"id": "pm1", "post_id": "p1", "meta_title": "Hello, search", "meta_description": "All about hello",
                 "feature_image_alt": "Boats at dawn", "email_only": false},
                {"id": "pm2", "post_id": "p10", "email_only": true}
            ],
            "posts_tags": [
                {"id": "pt1", "post_id": "p1", "tag_id": "t2", "sort_order": 1},
                {"id": "pt2", "post_id": "p1", "tag_id": "t1", "sort_order": 0},
                {"id": "pt3", "post_id": "p1", "tag_id": "t3", "sort_order": 2}
            ],
            "tags": [
                {"id": "t1", "name": "News", "slug": "news", "description": "What happened", "visibility": "public"},
                {"id": "t2", "name": "Ünïcode", "slug": "unicode", "visibility": "public"},
                {"id": "t3", "name": "#hidden", "slug": "hash-hidden", "visibility": "internal"},
                {"id": "t4", "name": "Unused", "slug": "unused", "visibility": "public"}
            ],
            "users": [
                {"id": "u1", "name": "The Chief", "slug": "the-chief", "email": "Chief@Example.com",
                 "password": "$2a$10$not.a.password.we.keep"},
                {"id": "u2", "name": "Zoë Writer", "slug": "zoe", "email": "zoe@old.example", "bio": "Writes.",
                 "password": "$2a$10$not.a.password.we.keep"}
            ],
            "settings": [{"id": "s1", "key": "db_hash", "value": "5f2c9a"}]
        }
    }]})
}

async fn a_ghost_5_site_comes_in_once(backend: Backend) {
    let app = spawn(backend).await;
    let chief = app.user(Role::Admin, "Chief").await;
    app.draft(&chief, json!({"title": "Taken", "slug": "taken", "body_markdown": ""})).await;
    let db = crate::harness::database_env(&app.state.config.database_url);
    let work = tempfile::tempdir().unwrap();
    let (file, report_file) = (work.path().join("ghost.json"), work.path().join("report.json"));
    std::fs::write(&file, serde_json::to_vec_pretty(&ghost_5()).unwrap()).unwrap();
    let site = ["--site-url", "https://old.example/"];

    // A dry run writes nothing and says what it would do.
    let dry = import(&db, &file, &[&site[..], &["--dry-run", "--report", report_file.to_str().unwrap()]].concat());
    assert!(String::from_utf8_lossy(&dry.stdout).contains("dry run"), "{}", String::from_utf8_lossy(&dry.stderr));
    assert_eq!(report(&report_file)["kinds"]["posts"]["imported"], 8);
    assert_eq!(app.get_as(&chief, "/api/v1/admin/articles").await.json()["meta"]["total"], 1);
    assert_eq!(app.get_as(&chief, "/api/v1/admin/tags").await.json()["meta"]["total"], 0);

    let output = import(&db, &file, &[&site[..], &["--report", report_file.to_str().unwrap()]].concat());
    let said = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(!output.status.success(), "two posts failed, so the command says so: {said}");
    let first = report(&report_file);
    assert_eq!(first["source"], "ghost:5f2c9a");
    let posts = &first["kinds"]["posts"];
    assert_eq!(posts["imported"], 8, "{said}");
    assert_eq!(posts["failed"], 2, "{said}");
    let reasons: Vec<&str> =
        posts["failures"].as_array().unwrap().iter().map(|f| f["reason"].as_str().unwrap()).collect();
    assert!(reasons.iter().any(|r| r.contains("nest")), "{said}");
    assert!(reasons.iter().any(|r| r.contains("not an object")), "{said}");
    let notes = posts["notes"].to_string();
    assert!(notes.contains("imported as `taken-2`"), "{notes}");
    assert!(notes.contains("for paid only in Ghost"), "{notes}");
    assert!(notes.contains("sent by e-mail only"), "{notes}");
    assert!(notes.contains("the author u9 is not in the file"), "{notes}");
    assert_eq!(first["kinds"]["pages"]["skipped"], 1);
    assert_eq!(first["kinds"]["authors"]["matched"], 1, "the account with the same e-mail");
    assert_eq!(first["kinds"]["authors"]["imported"], 2, "Zoë, and an unknown author for the post without one");
    assert_eq!(first["kinds"]["tags"]["imported"], 3);
    assert_eq!(first["kinds"]["tags"]["skipped_because"]["Ghost's internal tags (#)"], 1);

    // The post as a reader sees it.
    let hello = app.get("/api/v1/articles/hello-ghost").await;
    hello.assert_status(200);
    let hello = hello.json()["data"].clone();
    assert_eq!(hello["title"], "Hello wörld");
    assert_eq!(hello["published_at"], "2019-03-04T05:06:07Z");
    assert_eq!(hello["featured"], true);
    assert_eq!(hello["excerpt"], "Hello wörld, briefly.");
    let html = hello["body_html"].as_str().unwrap();
    assert!(html.contains("<strong>wörld</strong>"), "{html}");
    assert!(html.contains("<img src=\"https://old.example/content/images/a.jpg\" alt=\"Harbour\""), "{html}");
    assert!(html.contains("href=\"https://old.example/other/\""), "{html}");
    assert!(!html.contains("__GHOST_URL__"), "{html}");
    let bylines: Vec<&str> = hello["authors"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert_eq!(bylines, ["Chief", "Zoë Writer"], "Ghost's order, the first matched by e-mail");
    let tags: Vec<&str> = hello["tags"].as_array().unwrap().iter().map(|t| t["slug"].as_str().unwrap()).collect();
    assert_eq!(tags, ["news", "unicode"], "in order, without the internal tag");
    assert_eq!(hello["cover_image_url"], "https://old.example/content/images/cover.jpg");
    assert_eq!(hello["cover_image_alt"], "Boats at dawn");
    assert_eq!(hello["seo_title"], "Hello, search");
    assert_eq!(hello["seo_description"], "All about hello");
    assert_eq!(hello["canonical_url"], "https://elsewhere.example/hello");
    let zoe = app.get("/api/v1/authors/zoe").await.json()["data"].clone();
    assert_eq!(zoe["bio"], "Writes.");
    let news = app.get("/api/v1/tags/news").await.json()["data"].clone();
    assert_eq!(news["description"], "What happened");
    let all_tags = app.get_as(&chief, "/api/v1/admin/tags?per_page=100").await.json();
    let tag_slugs: Vec<&str> =
        all_tags["data"].as_array().unwrap().iter().map(|t| t["slug"].as_str().unwrap()).collect();
    assert!(tag_slugs.contains(&"unused") && !tag_slugs.contains(&"hash-hidden"), "{tag_slugs:?}");
    let tokyo = app.get("/api/v1/articles/tokyo").await.json()["data"].clone();
    assert_eq!(tokyo["title"], "東京の夜");
    assert_eq!(tokyo["author"]["name"], "Unknown author");

    // Statuses: scheduled stays scheduled; members-only and e-mail-only posts are drafts here.
    let listed = app.get_as(&chief, "/api/v1/admin/articles?per_page=100").await.json();
    let status = |slug: &str| {
        let found = listed["data"].as_array().unwrap().iter().find(|a| a["slug"] == slug);
        found.map(|a| a["status"].as_str().unwrap().to_string()).unwrap_or_else(|| format!("no {slug}"))
    };
    let hello_id =
        listed["data"].as_array().unwrap().iter().find(|a| a["slug"] == "hello-ghost").unwrap()["id"].clone();
    let path = format!("/api/v1/admin/articles/{hello_id}");
    let markdown = app.get_as(&chief, &path).await.json()["data"]["body_markdown"].as_str().unwrap().to_string();
    assert!(markdown.contains("**wörld**") && !markdown.contains("kg-card"), "{markdown}");
    assert_eq!(status("later"), "scheduled");
    assert_eq!(status("a-draft"), "draft");
    assert_eq!(status("members"), "draft");
    assert_eq!(status("newsletter"), "draft");
    assert_eq!(status("emailed"), "draft", "e-mail only in posts_meta");
    assert_eq!(status("taken-2"), "published");
    assert_eq!(status("about"), "no about");
    let taken = app.get("/api/v1/articles/taken-2").await.json()["data"].clone();
    assert_eq!(taken["canonical_url"], "https://old.example/taken/");
    app.get("/api/v1/articles/members").await.assert_problem(404);

    // Again, with pages: nothing twice, and the page comes in tagged `page`.
    let before = app.get_as(&chief, "/api/v1/admin/articles").await.json()["meta"]["total"].as_u64().unwrap();
    import(&db, &file, &[&site[..], &["--pages", "--report", report_file.to_str().unwrap()]].concat());
    let second = report(&report_file);
    assert_eq!(second["kinds"]["posts"]["imported"], 0);
    assert_eq!(second["kinds"]["posts"]["skipped_because"]["already imported"], 8);
    assert_eq!(second["kinds"]["pages"]["imported"], 1);
    assert_eq!(second["kinds"]["tags"]["imported"], 1, "only the `page` tag is new");
    assert_eq!(app.get_as(&chief, "/api/v1/admin/articles").await.json()["meta"]["total"], before + 1);
    let about = app.get("/api/v1/articles/about").await.json()["data"].clone();
    assert_eq!(about["tags"][0]["slug"], "page");

    // Changed in Ghost since: Tokyo is written again; Hello was edited here meanwhile and stays.
    let edited = json!({"title": "Edited here"});
    app.patch_as(&chief, &format!("/api/v1/admin/articles/{hello_id}"), edited).await.assert_status(200);
    let mut changed = ghost_5();
    for post in changed["db"][0]["data"]["posts"].as_array_mut().unwrap() {
        if post["id"] == "p9" || post["id"] == "p1" {
            post["html"] = json!("<p>夜の街、<em>改訂</em></p>");
            post["updated_at"] = json!("2020-01-01T00:00:00.000Z");
        }
    }
    std::fs::write(&file, serde_json::to_vec(&changed).unwrap()).unwrap();
    import(&db, &file, &[&site[..], &["--report", report_file.to_str().unwrap()]].concat());
    let third = report(&report_file);
    assert_eq!(third["kinds"]["posts"]["updated"], 1, "{third}");
    assert_eq!(third["kinds"]["posts"]["skipped_because"][masthead::imports::records::EDITED_HERE], 1, "{third}");
    let tokyo = app.get("/api/v1/articles/tokyo").await.json()["data"].clone();
    assert!(tokyo["body_html"].as_str().unwrap().contains("<em>改訂</em>"), "{tokyo}");
    assert_eq!(tokyo["title"], "東京の夜");
    let hello = app.get("/api/v1/articles/hello-ghost").await.json()["data"].clone();
    assert_eq!(hello["title"], "Edited here");
    assert!(!hello["body_html"].as_str().unwrap().contains("改訂"));
}

async fn a_ghost_2_export_with_its_older_fields(backend: Backend) {
    let app = spawn(backend).await;
    let db = crate::harness::database_env(&app.state.config.database_url);
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("ghost-2.json");
    // Ghost 2: `page` instead of `type`, SEO fields on the post, `author_id`, 0/1 flags, the
    // export object without its `db` list, and no `__GHOST_URL__` site given.
    let export = json!({
        "meta": {"exported_on": 1_540_000_000_000_u64, "version": "2.31.0"},
        "data": {
            "posts": [{
                "id": "5b7a1", "title": "Two", "slug": "two", "html": "<p>From <em>Ghost 2</em></p>",
                "feature_image": "__GHOST_URL__/content/images/two.jpg", "featured": 1, "page": 0,
                "status": "published", "visibility": "public", "author_id": "1",
                "meta_title": "Two, for search", "meta_description": "The second",
                "created_at": "2018-08-20T13:13:44.000Z", "published_at": "2018-08-21T09:00:00.000Z"
            }, {
                "id": "5b7a2", "title": "A page", "slug": "a-page", "html": "<p>Page</p>", "page": 1,
                "status": "published", "author_id": "1", "published_at": "2018-08-22T09:00:00.000Z"
            }],
            "users": [{"id": "1", "name": "Owner", "slug": "owner", "email": "owner@two.example"}],
            "tags": [], "posts_tags": []
        }
    });
    std::fs::write(&file, serde_json::to_vec(&export).unwrap()).unwrap();
    let report_file = work.path().join("report.json");
    let output = import(&db, &file, &["--report", report_file.to_str().unwrap()]);
    let said = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "{said}{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(report(&report_file)["source"], "ghost", "no db_hash to name the site by");
    assert!(said.contains("posts: 1 imported"), "{said}");
    assert!(said.contains("pages are imported with --pages"), "{said}");
    assert!(said.contains("left relative"), "{said}");
    let two = app.get("/api/v1/articles/two").await.json()["data"].clone();
    assert_eq!(two["featured"], true);
    assert_eq!(two["seo_title"], "Two, for search");
    assert_eq!(two["seo_description"], "The second");
    assert_eq!(two["published_at"], "2018-08-21T09:00:00Z");
    assert_eq!(two["author"]["name"], "Owner");
    assert_eq!(two["cover_image_url"], Value::Null, "a cover on the old site, which was not named");
    assert!(two["body_html"].as_str().unwrap().contains("<em>Ghost 2</em>"));
}

async fn files_that_are_not_ghost_exports_write_nothing(backend: Backend) {
    let app = spawn(backend).await;
    let chief = app.user(Role::Admin, "Chief").await;
    let db = crate::harness::database_env(&app.state.config.database_url);
    let work = tempfile::tempdir().unwrap();
    let whole = serde_json::to_string(&ghost_5()).unwrap();
    let version = |version: &str| whole.replace("\"5.75.2\"", &format!("\"{version}\""));
    for (name, content, says) in [
        ("xml", "<?xml version=\"1.0\"?><rss></rss>".to_string(), "expected value"),
        ("empty", String::new(), "EOF"),
        ("cut short", whole[..whole.len() * 2 / 3].to_string(), "EOF"),
        ("trailing", format!("{whole} {{}}"), "trailing characters"),
        ("no data", "{\"db\": [{\"meta\": {\"version\": \"5.0.0\"}}]}".to_string(), "no `data`"),
        ("no version", "{\"data\": {\"posts\": []}}".to_string(), "no `meta.version`"),
        ("Ghost 1", version("1.25.0"), "version 1.25.0, which is not read here"),
        ("Ghost 6", version("6.0.0"), "version 6.0.0, which is not read here"),
        ("Ghost 0.x", version("003"), "version 003, which is not read here"),
        ("a list", "[1, 2, 3]".to_string(), "a Ghost export"),
        (
            "deep",
            whole.replace("\"posts\":", &format!("\"members\": {}{}, \"posts\":", "[".repeat(70), "]".repeat(70))),
            "nested over 64 deep",
        ),
    ] {
        let file = work.path().join("bad.json");
        std::fs::write(&file, content).unwrap();
        let output = import(&db, &file, &[]);
        let error = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{name} was taken");
        assert!(error.contains(says), "{name}: {error}");
    }
    assert_eq!(app.get_as(&chief, "/api/v1/admin/articles").await.json()["meta"]["total"], 0);
    assert_eq!(app.get_as(&chief, "/api/v1/admin/tags").await.json()["meta"]["total"], 0);
    assert_eq!(app.get_as(&chief, "/api/v1/admin/authors").await.json()["meta"]["total"], 1, "the chief alone");
}
