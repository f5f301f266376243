//! `masthead import wordpress`: a WordPress export written here (WXR 1.2), imported through the
//! binary, and read back through the API; imported again (nothing twice), dry-run, and hostile
//! or broken files.

use std::path::Path;
use std::process::Output;

use masthead::auth::Role;
use serde_json::{Value, json};

use crate::harness::{Backend, spawn};

backend_tests!(
    a_wordpress_site_comes_in_once_with_its_old_links,
    broken_and_hostile_files_import_nothing_they_should_not,
    an_import_run_again_after_it_stopped_sets_the_covers_it_had_left,
    featured_images_come_into_the_library_through_the_ssrf_guard
);

fn import(db: &str, file: &Path, extra: &[&str]) -> Output {
    import_with(db, file, extra, &[])
}

fn import_with(db: &str, file: &Path, extra: &[&str], env: &[(&str, &str)]) -> Output {
    let mut args = vec!["import", "wordpress", file.to_str().unwrap()];
    args.extend_from_slice(extra);
    crate::harness::masthead(db, &args, env, "")
}

/// An HTTP server on loopback for the old site's images: `/a.png` is a PNG, anything else an
/// HTML page. Counts the requests for the PNG.
fn image_server() -> (std::net::SocketAddr, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = hits.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            reader.read_line(&mut line).unwrap_or_default();
            let mut header = String::new();
            while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
                header.clear();
            }
            let (kind, body) = if line.contains(" /a.png ") {
                counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                ("image/png", crate::media_files::png(24, 12))
            } else {
                ("text/html", b"<html><body>not an image</body></html>".to_vec())
            };
            let mut stream = stream;
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes()).and_then(|_| stream.write_all(&body));
        }
    });
    (addr, hits)
}

const HEAD: &str = r#"<?xml version="1.0" encoding="UTF-8" ?>
<rss version="2.0" xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.2/">
<channel>
<title>Old site</title><link>https://old.example</link>
<wp:wxr_version>1.2</wp:wxr_version><wp:base_site_url>https://old.example</wp:base_site_url>
<wp:author><wp:author_id>1</wp:author_id><wp:author_login><![CDATA[chief]]></wp:author_login><wp:author_email><![CDATA[Chief@Example.com]]></wp:author_email><wp:author_display_name><![CDATA[The Chief]]></wp:author_display_name></wp:author>
<wp:author><wp:author_id>2</wp:author_id><wp:author_login><![CDATA[jdoe]]></wp:author_login><wp:author_email><![CDATA[jdoe@old.example]]></wp:author_email><wp:author_display_name><![CDATA[Jane Doe]]></wp:author_display_name></wp:author>
<wp:category><wp:term_id>3</wp:term_id><wp:category_nicename><![CDATA[news]]></wp:category_nicename><wp:category_parent><![CDATA[]]></wp:category_parent><wp:cat_name><![CDATA[News]]></wp:cat_name></wp:category>
<wp:category><wp:term_id>4</wp:term_id><wp:category_nicename><![CDATA[local]]></wp:category_nicename><wp:category_parent><![CDATA[news]]></wp:category_parent><wp:cat_name><![CDATA[Local news]]></wp:cat_name></wp:category>
<wp:category><wp:term_id>1</wp:term_id><wp:category_nicename><![CDATA[uncategorized]]></wp:category_nicename><wp:cat_name><![CDATA[Uncategorized]]></wp:cat_name></wp:category>
<wp:tag><wp:term_id>5</wp:term_id><wp:tag_slug><![CDATA[rust]]></wp:tag_slug><wp:tag_name><![CDATA[Rust]]></wp:tag_name></wp:tag>
"#;
const TAIL: &str = "</channel>\n</rss>\n";

struct Post<'a> {
    id: u32,
    kind: &'a str,
    status: &'a str,
    name: &'a str,
    title: &'a str,
    creator: &'a str,
    date: &'a str,
    content: &'a str,
    extra: &'a str,
    /// When it was last changed (`wp:post_modified_gmt`).
    modified: &'a str,
}

fn item(post: &Post) -> String {
    format!(
        "<item><title>{title}</title><link>https://old.example/{date_path}/{name}/</link>\
         <dc:creator><![CDATA[{creator}]]></dc:creator>\
         <content:encoded><![CDATA[{content}]]></content:encoded><excerpt:encoded><![CDATA[]]></excerpt:encoded>\
         <wp:post_id>{id}</wp:post_id><wp:post_date><![CDATA[{date}]]></wp:post_date>\
         <wp:post_date_gmt><![CDATA[{date}]]></wp:post_date_gmt>\
         <wp:post_modified_gmt><![CDATA[{modified}]]></wp:post_modified_gmt><wp:comment_status><![CDATA[open]]></wp:comment_status>\
         <wp:post_name><![CDATA[{name}]]></wp:post_name><wp:status><![CDATA[{status}]]></wp:status>\
         <wp:post_type><![CDATA[{kind}]]></wp:post_type><wp:is_sticky>0</wp:is_sticky>{extra}</item>\n",
        title = post.title,
        date_path = post.date.get(..7).unwrap_or("").replace('-', "/"),
        name = post.name,
        creator = post.creator,
        content = post.content,
        id = post.id,
        date = post.date,
        modified = post.modified,
        status = post.status,
        kind = post.kind,
        extra = post.extra,
    )
}

fn comment(id: u32, parent: u32, approved: &str, kind: &str, author: &str) -> String {
    format!(
        "<wp:comment><wp:comment_id>{id}</wp:comment_id><wp:comment_author><![CDATA[{author}]]></wp:comment_author>\
         <wp:comment_author_email><![CDATA[{id}@readers.example]]></wp:comment_author_email>\
         <wp:comment_date_gmt><![CDATA[2016-01-02 10:00:00]]></wp:comment_date_gmt>\
         <wp:comment_content><![CDATA[Comment <em>{id}</em>]]></wp:comment_content>\
         <wp:comment_approved><![CDATA[{approved}]]></wp:comment_approved><wp:comment_type><![CDATA[{kind}]]></wp:comment_type>\
         <wp:comment_parent>{parent}</wp:comment_parent></wp:comment>"
    )
}

fn post<'a>(id: u32, status: &'a str, name: &'a str, title: &'a str) -> Post<'a> {
    Post {
        id,
        kind: "post",
        status,
        name,
        title,
        creator: "chief",
        date: "2016-01-01 09:00:00",
        content: "<p>Text.</p>",
        extra: "",
        modified: "2016-01-01 09:00:00",
    }
}

/// The site: every mapping the importer makes, and one broken post in the middle.
fn site() -> String {
    site_as_of(false)
}

/// The site, or (`later`) the same site after two posts were changed there.
fn site_as_of(later: bool) -> String {
    let modified = if later { "2017-02-02 10:00:00" } else { "2016-01-01 09:00:00" };
    let hello_extra = format!(
        "<category domain=\"category\" nicename=\"news\"><![CDATA[News]]></category>\
         <category domain=\"category\" nicename=\"local\"><![CDATA[Local news]]></category>\
         <category domain=\"post_tag\" nicename=\"rust\"><![CDATA[Rust]]></category>\
         <category domain=\"category\" nicename=\"uncategorized\"><![CDATA[Uncategorized]]></category>\
         <wp:postmeta><wp:meta_key>_thumbnail_id</wp:meta_key><wp:meta_value>10</wp:meta_value></wp:postmeta>\
         <wp:postmeta><wp:meta_key>_yoast_wpseo_title</wp:meta_key><wp:meta_value><![CDATA[Hello, search]]></wp:meta_value></wp:postmeta>\
         <wp:postmeta><wp:meta_key>_yoast_wpseo_metadesc</wp:meta_key><wp:meta_value><![CDATA[All about hello]]></wp:meta_value></wp:postmeta>\
         {}{}{}{}{}",
        comment(21, 0, "1", "", "Zoë"),
        comment(22, 21, "1", "", "Yann"),
        comment(23, 0, "spam", "", "Spammer"),
        comment(24, 0, "trash", "", "Gone"),
        comment(25, 0, "1", "pingback", "Some blog"),
    );
    let hello = Post {
        content: if later { "<p>Hello, <em>changed</em> at the source.</p>" } else { HELLO },
        modified,
        extra: &hello_extra,
        ..post(1, "publish", "hello-world", "Hello wörld")
    };
    let deep = format!("<p>{}deep{}</p>", "<blockquote>".repeat(40), "</blockquote>".repeat(40));
    let items = [
        item(&hello),
        item(&Post { creator: "jdoe", date: "2099-01-01 09:00:00", ..post(2, "future", "later", "Later") }),
        item(&post(3, "draft", "", "A draft")),
        item(&post(4, "trash", "binned", "Binned")),
        item(&Post { content: &deep, ..post(5, "publish", "broken", "Broken") }),
        item(&Post {
            modified,
            ..post(6, "publish", "%e6%97%a5%e6%9c%ac", if later { "日本, changed" } else { "日本 Café" })
        }),
        item(&Post { kind: "page", ..post(7, "publish", "about", "About") }),
        item(&Post { kind: "nav_menu_item", ..post(8, "publish", "menu", "Menu") }),
        item(&post(9, "publish", "taken", "Taken here")),
        item(&Post {
            kind: "attachment",
            extra: "<wp:attachment_url>https://old.example/a.jpg</wp:attachment_url>\
                    <wp:postmeta><wp:meta_key>_wp_attachment_image_alt</wp:meta_key><wp:meta_value>Harbour</wp:meta_value></wp:postmeta>",
            ..post(10, "inherit", "a", "a")
        }),
        item(&post(11, "private", "private-note", "Private")),
    ];
    format!("{HEAD}{}{TAIL}", items.concat())
}

const HELLO: &str = "<!-- wp:paragraph -->\n<p>Hello <strong>wörld</strong>.</p>\n<!-- /wp:paragraph -->\n<!--more-->\n\
                  [caption id=\"attachment_10\" width=\"300\"]<img src=\"https://old.example/a.jpg\" alt=\"Harbour\" /> Boats at dawn[/caption]\n\n\
                  Second paragraph\nwith a break.";

fn report(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

async fn a_wordpress_site_comes_in_once_with_its_old_links(backend: Backend) {
    let app = spawn(backend).await;
    let chief = app.user(Role::Admin, "Chief").await;
    app.draft(&chief, json!({"title": "Taken", "slug": "taken", "body_markdown": ""})).await;
    let db = crate::harness::database_env(&app.state.config.database_url);
    let work = tempfile::tempdir().unwrap();
    let (file, report_file) = (work.path().join("wordpress.xml"), work.path().join("report.json"));
    std::fs::write(&file, site()).unwrap();

    // A dry run writes nothing and says what it would do.
    let dry = import(&db, &file, &["--dry-run", "--report", report_file.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&dry.stdout).contains("dry run"), "{}", String::from_utf8_lossy(&dry.stdout));
    assert_eq!(report(&report_file)["kinds"]["posts"]["imported"], 7);
    assert_eq!(app.get_as(&chief, "/api/v1/admin/articles").await.json()["meta"]["total"], 1);

    let output = import(&db, &file, &["--report", report_file.to_str().unwrap()]);
    assert!(!output.status.success(), "one post failed, so the command says so");
    let said = String::from_utf8_lossy(&output.stdout).into_owned();
    let first = report(&report_file);
    assert_eq!(first["source"], "wordpress:https://old.example");
    let posts = &first["kinds"]["posts"];
    assert_eq!(posts["imported"], 7, "{said}");
    assert_eq!(posts["failed"], 1);
    assert_eq!(posts["failures"][0]["id"], "5");
    assert!(posts["failures"][0]["reason"].as_str().unwrap().contains("nests"), "{said}");
    assert!(posts["notes"][0]["reason"].as_str().unwrap().contains("imported as `taken-2`"), "{said}");
    assert_eq!(first["kinds"]["pages"]["skipped"], 1);
    assert_eq!(first["kinds"]["other"]["skipped"], 1);
    assert_eq!(first["kinds"]["authors"]["matched"], 1, "the account with the same e-mail");
    assert_eq!(first["kinds"]["authors"]["imported"], 1);
    assert_eq!(first["kinds"]["tags"]["imported"], 3);
    assert_eq!(first["kinds"]["comments"]["imported"], 3);
    assert_eq!(first["kinds"]["comments"]["skipped"], 2);

    // The post as a reader sees it: Markdown made from the HTML, byline, tags (flattened, no
    // Uncategorized), cover from the featured image that came after it, SEO fields, comments.
    let hello = app.get("/api/v1/articles/hello-world").await;
    hello.assert_status(200);
    let hello = hello.json()["data"].clone();
    assert_eq!(hello["title"], "Hello wörld");
    assert_eq!(hello["published_at"], "2016-01-01T09:00:00Z");
    let html = hello["body_html"].as_str().unwrap();
    assert!(html.contains("<strong>wörld</strong>") && html.contains("Boats at dawn"), "{html}");
    assert!(html.contains("<img src=\"https://old.example/a.jpg\" alt=\"Harbour\""), "{html}");
    assert!(!html.contains("wp:paragraph") && !html.contains("[caption"), "{html}");
    assert_eq!(hello["excerpt"], "Hello wörld.");
    assert_eq!(hello["author"]["name"], "Chief");
    let tags: Vec<&str> = hello["tags"].as_array().unwrap().iter().map(|t| t["slug"].as_str().unwrap()).collect();
    assert_eq!(tags, ["news", "local", "rust"]);
    assert_eq!(hello["cover_image_url"], "https://old.example/a.jpg");
    assert_eq!(hello["cover_image_alt"], "Harbour");
    assert_eq!(hello["seo_title"], "Hello, search");
    assert_eq!(hello["seo_description"], "All about hello");
    let thread = app.get("/api/v1/articles/hello-world/comments").await.json();
    assert_eq!(thread["data"][0]["author_name"], "Zoë");
    assert_eq!(thread["data"][0]["replies"][0]["author_name"], "Yann");
    assert!(thread["data"][0]["body_html"].as_str().unwrap().contains("<em>21</em>"));

    // Statuses, slugs, and the old permalinks.
    app.get("/api/v1/articles/later").await.assert_problem(404);
    let listed = app.get_as(&chief, "/api/v1/admin/articles?per_page=100").await.json();
    let by_slug = |slug: &str| listed["data"].as_array().unwrap().iter().find(|a| a["slug"] == slug).cloned();
    assert_eq!(by_slug("later").unwrap()["status"], "scheduled");
    assert_eq!(by_slug("a-draft").unwrap()["status"], "draft");
    assert_eq!(by_slug("private-note").unwrap()["status"], "draft");
    app.get("/api/v1/articles/ri-ben").await.assert_status(200);
    app.get("/api/v1/articles/taken-2").await.assert_status(200);
    let trash = app.get_as(&chief, "/api/v1/admin/articles?status=trashed").await.json();
    assert_eq!(trash["data"][0]["slug"], "binned");
    let later = by_slug("later").unwrap();
    assert_eq!(later["authors"][0]["name"], "Jane Doe");
    let table = app.get("/api/v1/redirects?per_page=1000").await.json();
    let froms: Vec<&str> = table["data"].as_array().unwrap().iter().map(|r| r["from"].as_str().unwrap()).collect();
    assert!(froms.contains(&"/2016/01/hello-world/"), "{froms:?}");
    let hello_redirect =
        table["data"].as_array().unwrap().iter().find(|r| r["from"] == "/2016/01/hello-world/").unwrap();
    assert_eq!(hello_redirect["to"], "/hello-world");

    // Again: nothing twice.
    let before = app.get_as(&chief, "/api/v1/admin/articles").await.json()["meta"]["total"].clone();
    import(&db, &file, &["--report", report_file.to_str().unwrap()]);
    let second = report(&report_file);
    assert_eq!(second["kinds"]["posts"]["imported"], 0);
    assert_eq!(second["kinds"]["posts"]["skipped_because"]["already imported"], 7);
    assert_eq!(second["kinds"]["comments"]["imported"], 0);
    assert_eq!(app.get_as(&chief, "/api/v1/admin/articles").await.json()["meta"]["total"], before);
    let thread = app.get("/api/v1/articles/hello-world/comments").await.json();
    assert_eq!(thread["data"].as_array().unwrap().len(), 1);
    assert_eq!(thread["data"][0]["replies"].as_array().unwrap().len(), 1);

    // Two posts changed at the source since: one is written again; the other was edited here
    // meanwhile, and is kept as it is here.
    let ri_ben = by_slug("ri-ben").unwrap()["id"].clone();
    let edited = json!({"title": "Edited here"});
    app.patch_as(&chief, &format!("/api/v1/admin/articles/{ri_ben}"), edited).await.assert_status(200);
    std::fs::write(&file, site_as_of(true)).unwrap();
    import(&db, &file, &["--report", report_file.to_str().unwrap()]);
    let third = report(&report_file);
    let posts = &third["kinds"]["posts"];
    assert_eq!(posts["updated"], 1, "{third}");
    assert_eq!(posts["imported"], 0);
    assert_eq!(posts["skipped_because"]["already imported"], 5, "{third}");
    assert_eq!(posts["skipped_because"][masthead::imports::records::EDITED_HERE], 1, "{third}");
    let hello = app.get("/api/v1/articles/hello-world").await.json()["data"].clone();
    assert!(hello["body_html"].as_str().unwrap().contains("<em>changed</em> at the source"), "{hello}");
    assert_eq!(hello["cover_image_url"], "https://old.example/a.jpg", "the featured image stays");
    assert_eq!(hello["tags"].as_array().unwrap().len(), 3);
    assert_eq!(app.get("/api/v1/articles/ri-ben").await.json()["data"]["title"], "Edited here");
    assert_eq!(app.get_as(&chief, "/api/v1/admin/articles").await.json()["meta"]["total"], before);
}

async fn featured_images_come_into_the_library_through_the_ssrf_guard(backend: Backend) {
    let app = spawn(backend).await;
    let db = crate::harness::database_env(&app.state.config.database_url);
    let media_dir = match &app.state.config.media.store {
        masthead::settings::MediaStoreLocation::Directory(dir) => dir.to_str().unwrap().to_string(),
        _ => unreachable!("a directory"),
    };
    let (addr, hits) = image_server();
    let attachment = |id: u32, path: &str| {
        let extra = format!(
            "<wp:attachment_url>http://{addr}{path}</wp:attachment_url>\
             <wp:postmeta><wp:meta_key>_wp_attachment_image_alt</wp:meta_key><wp:meta_value>Alt {id}</wp:meta_value></wp:postmeta>"
        );
        item(&Post { kind: "attachment", extra: &extra, ..post(id, "inherit", "a", "a") })
    };
    let thumbnail = |id: u32| {
        format!(
            "<wp:postmeta><wp:meta_key>_thumbnail_id</wp:meta_key><wp:meta_value>{id}</wp:meta_value></wp:postmeta>"
        )
    };
    let (png_thumb, html_thumb) = (thumbnail(10), thumbnail(11));
    let site = format!(
        "{HEAD}{}{}{}{}{}{TAIL}",
        attachment(10, "/a.png"),
        item(&Post { extra: &png_thumb, ..post(1, "publish", "with-photo", "With photo") }),
        item(&Post { extra: &png_thumb, ..post(2, "publish", "same-photo", "Same photo") }),
        item(&Post { extra: &html_thumb, ..post(3, "publish", "with-page", "With a page") }),
        attachment(11, "/page.html"),
    );
    let work = tempfile::tempdir().unwrap();
    let (file, report_file) = (work.path().join("wordpress.xml"), work.path().join("report.json"));
    std::fs::write(&file, site).unwrap();
    let args = ["--fetch-media", "--report", report_file.to_str().unwrap()];

    // Loopback is inside the network: refused without the opt-in, and the covers stay URLs.
    let guarded = import_with(&db, &file, &args, &[("MASTHEAD_MEDIA_DIR", &media_dir)]);
    assert!(!guarded.status.success());
    let refused = report(&report_file);
    assert_eq!(refused["kinds"]["media"]["failed"], 2, "{refused}");
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 0, "nothing was fetched");
    let photo = app.get("/api/v1/articles/with-photo").await.json()["data"].clone();
    assert_eq!(photo["cover_image"], Value::Null);
    assert_eq!(photo["cover_image_url"], format!("http://{addr}/a.png"));

    // With the opt-in (in-cluster sources, tests), on a fresh database: one fetch per image, and
    // what is not an image is refused by the upload's checks.
    let fresh = crate::harness::TestDb::create(backend);
    let env = [("MASTHEAD_MEDIA_DIR", media_dir.as_str()), ("MASTHEAD_WEBHOOK_ALLOW_PRIVATE", "true")];
    import_with(&fresh.env_value(), &file, &args, &env);
    let fetched = report(&report_file);
    assert_eq!(fetched["kinds"]["media"]["imported"], 1, "{fetched}");
    assert_eq!(fetched["kinds"]["media"]["failed"], 1);
    assert!(fetched["kinds"]["media"]["failures"][0]["reason"].as_str().unwrap().contains("HTML"), "{fetched}");
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 1, "the same attachment is fetched once");
    let moved = crate::harness::spawn_node_with(fresh.url.clone(), |config| {
        config.media.store = app.state.config.media.store.clone();
    })
    .await;
    let photo = moved.get("/api/v1/articles/with-photo").await.json()["data"].clone();
    assert_eq!(photo["cover_image"]["alt"], "Alt 10");
    assert_eq!(photo["cover_image"]["width"], 24);
    let url = photo["cover_image"]["url"].as_str().unwrap();
    moved.get(&format!("/media/{}", url.split_once("/media/").unwrap().1)).await.assert_status(200);
    let same = moved.get("/api/v1/articles/same-photo").await.json()["data"].clone();
    assert_eq!(same["cover_image"]["id"], photo["cover_image"]["id"]);
    let page = moved.get("/api/v1/articles/with-page").await.json()["data"].clone();
    assert_eq!(page["cover_image"], Value::Null);
    assert_eq!(page["cover_image_url"], format!("http://{addr}/page.html"));
    import_with(&fresh.env_value(), &file, &args, &env);
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 1, "nothing is fetched twice");
}

async fn broken_and_hostile_files_import_nothing_they_should_not(backend: Backend) {
    let app = spawn(backend).await;
    let chief = app.user(Role::Admin, "Chief").await;
    let db = crate::harness::database_env(&app.state.config.database_url);
    let work = tempfile::tempdir().unwrap();
    let run = |name: &str, content: String| {
        let file = work.path().join(name);
        std::fs::write(&file, content).unwrap();
        let output = import(&db, &file, &[]);
        assert!(!output.status.success(), "{name} was taken");
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    let one = item(&post(1, "publish", "first", "First"));
    let external = format!(
        "<?xml version=\"1.0\"?>\n<!DOCTYPE rss [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\n{}{}",
        &HEAD[HEAD.find("<rss").unwrap()..],
        item(&post(2, "publish", "xxe", "&xxe;"))
    ) + TAIL;
    let laughs = format!(
        "<?xml version=\"1.0\"?>\n<!DOCTYPE rss [<!ENTITY a \"lol\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">]>\n{}{}",
        &HEAD[HEAD.find("<rss").unwrap()..],
        item(&post(3, "publish", "laughs", "&b;"))
    ) + TAIL;
    let whole = format!("{HEAD}{one}{}{TAIL}", item(&post(4, "publish", "second", "Second")));
    let cut = whole[..whole.find("<wp:post_id>4").unwrap()].to_string();
    for (name, content, says) in [
        ("text", "not xml at all".to_string(), "not a WordPress export"),
        ("json", "{\"db\": {}}".to_string(), "not"),
        ("other xml", "<?xml version=\"1.0\"?><feed></feed>".to_string(), "not a WordPress export"),
        ("rss without wp", "<rss><channel><title>x</title></channel></rss>".to_string(), "wxr_version"),
        ("newer", HEAD.replace("<wp:wxr_version>1.2", "<wp:wxr_version>2.0") + TAIL, "WXR version 2.0"),
        ("external entity", external, "never expanded"),
        ("billion laughs", laughs, "never expanded"),
        ("cut short", cut, "cut short"),
    ] {
        let error = run(name, content);
        assert!(error.contains(says), "{name}: {error}");
    }
    // Only what was whole before the cut came in; no entity's text anywhere.
    let listed = app.get_as(&chief, "/api/v1/admin/articles").await.json();
    let slugs: Vec<&str> = listed["data"].as_array().unwrap().iter().map(|a| a["slug"].as_str().unwrap()).collect();
    assert_eq!(slugs, ["first"], "{listed}");
}

async fn an_import_run_again_after_it_stopped_sets_the_covers_it_had_left(backend: Backend) {
    let app = spawn(backend).await;
    let db = crate::harness::database_env(&app.state.config.database_url);
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("wordpress.xml");
    let thumbnail =
        "<wp:postmeta><wp:meta_key>_thumbnail_id</wp:meta_key><wp:meta_value>10</wp:meta_value></wp:postmeta>";
    let attachment = Post {
        kind: "attachment",
        extra: "<wp:attachment_url>https://old.example/a.jpg</wp:attachment_url>",
        ..post(10, "inherit", "a", "a")
    };
    let whole = format!(
        "{HEAD}{}{}{}{TAIL}",
        item(&Post { extra: thumbnail, ..post(1, "publish", "first", "First") }),
        item(&post(2, "publish", "second", "Second")),
        item(&attachment)
    );
    // Stopped after the post, before its featured image's attachment: no cover yet.
    std::fs::write(&file, &whole[..whole.find("<wp:post_id>10").unwrap()]).unwrap();
    assert!(!import(&db, &file, &[]).status.success());
    assert_eq!(app.get("/api/v1/articles/first").await.json()["data"]["cover_image_url"], Value::Null);
    std::fs::write(&file, &whole).unwrap();
    let again = import(&db, &file, &[]);
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stdout));
    assert_eq!(app.get("/api/v1/articles/first").await.json()["data"]["cover_image_url"], "https://old.example/a.jpg");
}
