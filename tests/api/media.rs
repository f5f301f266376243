//! The media library on each backend and each store: uploads checked and stripped, the library's
//! routes, files and variants served with immutable caching and ranges, and every hostile file
//! refused with nothing stored.

use actix_web::test::TestRequest;
use masthead::auth::Role;
use serde_json::json;

use crate::harness::{Backend, MediaStore, media_stores, spawn_node_with, spawn_with_media};
use crate::media_files::{self as files, contains, dimensions};

backend_tests!(
    uploads_are_stored_listed_and_served_immutable,
    metadata_is_stripped_and_photos_stand_upright,
    hostile_files_are_refused_and_nothing_is_stored,
    variants_come_in_declared_widths_and_formats,
    ranges_and_revalidation,
    images_are_changed_and_deleted_by_their_uploader_or_an_editor,
    articles_take_their_cover_from_the_library,
    nodes_sharing_a_store_serve_each_others_uploads,
);

const BASE: &str = "https://news.example.com";

/// The path of a media URL the API gave.
fn path(url: &serde_json::Value) -> String {
    url.as_str().expect("a URL").strip_prefix(BASE).expect("a URL on the public address").to_string()
}

async fn uploads_are_stored_listed_and_served_immutable(backend: Backend) {
    for store in media_stores() {
        uploads_are_stored_listed_and_served_immutable_on(backend, store).await;
    }
}

async fn uploads_are_stored_listed_and_served_immutable_on(backend: Backend, store: MediaStore) {
    let app = spawn_with_media(backend, store, |_| {}).await;
    let author = app.user(Role::Author, "Ann").await;
    let contributor = app.user(Role::Contributor, "Cid").await;
    let photo = files::jpeg(1000, 600);
    let parts = [
        ("file", Some("../../etc/passwd.jpg"), &photo[..]),
        ("alt", None, b"The harbour at dawn".as_slice()),
        ("caption", None, b"Photo: Ann".as_slice()),
    ];
    app.upload_as(&contributor, &parts).await.assert_problem(403);
    let created = app.upload_as(&author, &parts).await;
    created.assert_status(201);
    let media = created.json()["data"].clone();
    let id = media["id"].as_i64().unwrap();
    assert_eq!(created.header("location"), Some(format!("/api/v1/admin/media/{id}").as_str()));
    assert_eq!(media["filename"], "passwd.jpg", "the path is gone from the name: {media}");
    assert_eq!(
        (media["mime_type"].clone(), media["width"].clone(), media["height"].clone()),
        (json!("image/jpeg"), json!(1000), json!(600))
    );
    assert_eq!((media["alt"].clone(), media["caption"].clone()), (json!("The harbour at dawn"), json!("Photo: Ann")));
    assert_eq!(media["focal_point"], json!({"x": 0.5, "y": 0.5}));
    assert_eq!(media["uploaded_by"], author.id);
    let widths: Vec<i64> = media["variants"].as_array().unwrap().iter().map(|v| v["width"].as_i64().unwrap()).collect();
    assert_eq!(widths, [320, 640, 960], "declared widths narrower than the original");
    assert_eq!(media["size_bytes"], photo.len(), "a JPEG without metadata is stored as uploaded");

    let served = app.get(&path(&media["url"])).await;
    served.assert_status(200);
    assert_eq!(served.body, photo);
    assert_eq!(served.header("content-type"), Some("image/jpeg"));
    assert_eq!(served.header("cache-control"), Some("public, max-age=31536000, immutable"));
    assert_eq!(served.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(served.header("accept-ranges"), Some("bytes"));
    assert!(served.header("etag").is_some_and(|etag| etag.starts_with('"')), "a strong ETag");
    assert!(served.header("last-modified").is_some());

    let listed = app.get_as(&contributor, "/api/v1/admin/media").await;
    listed.assert_status(200);
    assert_eq!(listed.json()["meta"]["total"], 1);
    assert_eq!(listed.json()["data"][0]["id"], id);
    let found = app.get_as(&contributor, "/api/v1/admin/media?q=HARBOUR&type=jpeg").await;
    assert_eq!(found.json()["meta"]["total"], 1);
    let none = app.get_as(&contributor, "/api/v1/admin/media?type=png").await;
    assert_eq!(none.json()["meta"]["total"], 0);
    app.get_as(&contributor, "/api/v1/admin/media?type=svg").await.assert_problem(400);
    let one = app.get_as(&contributor, &format!("/api/v1/admin/media/{id}")).await;
    assert_eq!(one.json()["data"], media);
    app.get_as(&contributor, "/api/v1/admin/media/999999").await.assert_problem(404);
    app.get("/api/v1/admin/media").await.assert_problem(401);

    // A CDN in front: every media URL the API writes starts with its address.
    let cdn =
        spawn_with_media(backend, store, |config| config.media.public_url = Some("https://cdn.example.net/m".into()))
            .await;
    let author = cdn.user(Role::Author, "Ann").await;
    let media = cdn.upload_as(&author, &[("file", Some("p.jpg"), &photo)]).await.json()["data"].clone();
    let url = media["url"].as_str().unwrap();
    assert!(url.starts_with("https://cdn.example.net/m/media/"), "{url}");
    assert!(media["variants"][0]["webp_url"].as_str().unwrap().starts_with("https://cdn.example.net/m/media/"));
    cdn.get(url.strip_prefix("https://cdn.example.net/m").unwrap()).await.assert_status(200);
}

async fn metadata_is_stripped_and_photos_stand_upright(backend: Backend) {
    for store in media_stores() {
        let app = spawn_with_media(backend, store, |_| {}).await;
        let author = app.user(Role::Author, "Ann").await;
        // Upright: the segments go, the pixels stay as they were.
        let upright = files::jpeg_with_exif(400, 300, 1);
        assert!(contains(&upright, &files::GPS_LATITUDE));
        let created = app.upload_as(&author, &[("file", Some("upright.jpg"), &upright)]).await;
        created.assert_status(201);
        let media = created.json()["data"].clone();
        let stored = app.get(&path(&media["url"])).await.body;
        assert!(!contains(&stored, &files::GPS_LATITUDE) && !contains(&stored, b"Exif\0\0"), "no EXIF is stored");
        assert_eq!(stored.len(), upright.len() - 102, "only the EXIF segment went");
        assert_eq!((media["width"].clone(), media["height"].clone()), (json!(400), json!(300)));
        // Turned a quarter: stored the right way up, so 300 wide and 400 high.
        let turned = files::jpeg_with_exif(400, 300, 6);
        let created = app.upload_as(&author, &[("file", Some("turned.jpg"), &turned)]).await;
        created.assert_status(201);
        let media = created.json()["data"].clone();
        assert_eq!((media["width"].clone(), media["height"].clone()), (json!(300), json!(400)));
        let stored = app.get(&path(&media["url"])).await.body;
        assert_eq!(dimensions(&stored), (300, 400));
        assert!(!contains(&stored, &files::GPS_LATITUDE) && !contains(&stored, b"Exif\0\0"));
        let variant = app.get(&format!("{}?format=webp", path(&media["url"]))).await;
        variant.assert_status(200);
        assert!(!contains(&variant.body, &files::GPS_LATITUDE));
        // Comments and IPTC go, whatever they hold.
        let commented = files::jpeg_with_comment("<script>alert(1)</script> taken at 52.52N");
        let created = app.upload_as(&author, &[("file", Some("c.jpg"), &commented)]).await;
        created.assert_status(201);
        let stored = app.get(&path(&created.json()["data"]["url"])).await.body;
        assert!(!contains(&stored, b"<script>") && !contains(&stored, b"Photoshop"));
        // PNG text chunks go too.
        let png = files::png_with_text(64, 48, "secret-location-52.52N");
        let created = app.upload_as(&author, &[("file", Some("chart.png"), &png)]).await;
        created.assert_status(201);
        let stored = app.get(&path(&created.json()["data"]["url"])).await.body;
        assert!(!contains(&stored, b"secret-location") && !contains(&stored, b"tEXt"));
        assert_eq!(dimensions(&stored), (64, 48));
        // What the store holds, every byte of it.
        for name in app.state.media.objects.names("").await.unwrap() {
            let object = app.state.media.objects.get(&name, None).await.unwrap().unwrap();
            assert!(!contains(&object.bytes, &files::GPS_LATITUDE), "{name} holds the GPS position");
        }
    }
}

async fn hostile_files_are_refused_and_nothing_is_stored(backend: Backend) {
    for store in media_stores() {
        let app = spawn_with_media(backend, store, |_| {}).await;
        let author = app.user(Role::Author, "Ann").await;
        let refused = |status: u16, file: Vec<u8>, name: &'static str, says: &'static str| {
            let app = &app;
            let author = &author;
            async move {
                let answer = app.upload_as(author, &[("file", Some(name), &file)]).await;
                let problem = answer.assert_problem(status);
                let text = problem.to_string();
                assert!(text.contains(says), "{name}: {problem}");
            }
        };
        refused(415, files::HTML_PAGE.as_bytes().to_vec(), "photo.jpg", "HTML").await;
        refused(415, files::SVG_WITH_SCRIPT.as_bytes().to_vec(), "logo.svg", "SVG").await;
        refused(422, files::gif_javascript_polyglot(), "pixel.gif", "cannot be read").await;
        refused(422, files::png_declaring(100_000, 100_000), "bomb.png", "too large").await;
        let whole = files::jpeg(200, 200);
        refused(422, whole[..whole.len() / 2].to_vec(), "cut.jpg", "truncated").await;
        refused(422, Vec::new(), "empty.jpg", "empty").await;
        refused(422, files::animated_gif(3000), "long.gif", "frames").await;
        refused(422, files::gif_with_a_giant_frame(), "giant.gif", "cannot be read").await;
        refused(422, files::apng(), "moving.png", "animated").await;
        refused(413, vec![0xFF; 25 * 1024 * 1024], "huge.jpg", "larger than").await;
        // The form itself.
        let jpeg = files::jpeg(20, 20);
        let answer = app.upload_as(&author, &[("file", Some("a.jpg"), &jpeg), ("owner", None, b"1")]).await;
        assert!(answer.assert_problem(400)["detail"].as_str().unwrap().contains("owner"));
        let twice = app.upload_as(&author, &[("file", Some("a.jpg"), &jpeg), ("file", Some("b.jpg"), &jpeg)]).await;
        twice.assert_problem(400);
        app.upload_as(&author, &[("alt", None, b"no file")]).await.assert_problem(422);
        let json_body = app.post_as(&author, "/api/v1/admin/media", json!({"file": "x"})).await;
        json_body.assert_problem(415);
        // Nothing was recorded, nothing stored.
        assert_eq!(app.get_as(&author, "/api/v1/admin/media").await.json()["meta"]["total"], 0);
        assert_eq!(app.state.media.objects.names("").await.unwrap(), Vec::<String>::new());
        // A short animation is fine: kept as it is, without variants.
        let created = app.upload_as(&author, &[("file", Some("wave.gif"), &files::animated_gif(12))]).await;
        created.assert_status(201);
        let media = created.json()["data"].clone();
        assert_eq!((media["animated"].clone(), media["variants"].clone()), (json!(true), json!([])));
        let served = app.get(&path(&media["url"])).await;
        assert_eq!(served.header("content-type"), Some("image/gif"));
        let frames = image::codecs::gif::GifDecoder::new(std::io::Cursor::new(served.body.to_vec())).unwrap();
        use image::AnimationDecoder;
        assert_eq!(frames.into_frames().count(), 12);
    }
}

async fn variants_come_in_declared_widths_and_formats(backend: Backend) {
    for store in media_stores() {
        let app = spawn_with_media(backend, store, |_| {}).await;
        let author = app.user(Role::Author, "Ann").await;
        let created = app.upload_as(&author, &[("file", Some("wide.jpg"), &files::jpeg(1000, 600))]).await;
        let media = created.json()["data"].clone();
        let url = path(&media["url"]);
        let first = app.get(&format!("{url}?w=640")).await;
        first.assert_status(200);
        assert_eq!((first.header("content-type"), dimensions(&first.body)), (Some("image/jpeg"), (640, 384)));
        assert_eq!(first.header("cache-control"), Some("public, max-age=31536000, immutable"));
        let again = app.get(&format!("{url}?w=640")).await;
        assert_eq!((again.body.clone(), again.header("etag")), (first.body.clone(), first.header("etag")));
        let webp = app.get(&format!("{url}?w=320&format=webp")).await;
        assert_eq!((webp.header("content-type"), dimensions(&webp.body)), (Some("image/webp"), (320, 192)));
        assert_eq!(path(&media["variants"][1]["webp_url"]), format!("{url}?w=640&format=webp"));
        let full_webp = app.get(&format!("{url}?format=webp")).await;
        assert_eq!((full_webp.header("content-type"), dimensions(&full_webp.body)), (Some("image/webp"), (1000, 600)));
        // `auto` follows Accept, and says so.
        let auto = |accept: &'static str| {
            let app = &app;
            let uri = format!("{url}?w=960&format=auto");
            async move { app.send(TestRequest::get().uri(&uri).insert_header(("Accept", accept))).await }
        };
        let varies =
            |answer: &crate::harness::TestResponse| answer.header("vary").is_some_and(|v| v.starts_with("Accept"));
        let chrome = auto("image/avif,image/webp,image/apng,image/*,*/*;q=0.8").await;
        assert_eq!((chrome.header("content-type"), varies(&chrome)), (Some("image/webp"), true));
        let refusing = auto("image/webp;q=0, image/*;q=0.8").await;
        assert_eq!(refusing.header("content-type"), Some("image/jpeg"), "q=0 refuses WebP");
        let old = auto("image/png,image/*;q=0.8").await;
        assert_eq!((old.header("content-type"), varies(&old)), (Some("image/jpeg"), true));
        assert_ne!(chrome.header("etag"), old.header("etag"));
        // Only what the site declares.
        for (query, says) in [
            ("w=500", "declared widths"),
            ("w=1280", "1000 pixels wide"),
            ("format=gif", "format"),
            ("size=big", "size"),
        ] {
            let problem = app.get(&format!("{url}?{query}")).await.assert_problem(400);
            assert!(problem.to_string().contains(says), "{query}: {problem}");
        }
        // Many first requests at once make it once, and all get it.
        let uri = format!("{url}?w=320");
        let answers = futures_util::future::join_all((0..4).map(|_| app.get(&uri))).await;
        for answer in &answers {
            answer.assert_status(200);
            assert_eq!(answer.body, answers[0].body);
        }
        let missing = url.replace(".jpg", ".png");
        app.get(&missing).await.assert_problem(404);
        app.get("/media/not-a-key.jpg").await.assert_problem(404);
        app.get(&format!("{missing}?w=320")).await.assert_problem(404);
    }
}

async fn ranges_and_revalidation(backend: Backend) {
    for store in media_stores() {
        let app = spawn_with_media(backend, store, |_| {}).await;
        let author = app.user(Role::Author, "Ann").await;
        let photo = files::jpeg(300, 200);
        let created = app.upload_as(&author, &[("file", Some("p.jpg"), &photo)]).await;
        let url = path(&created.json()["data"]["url"]);
        let size = photo.len();
        let ranged = |range: String| {
            let app = &app;
            let url = url.clone();
            async move { app.send(TestRequest::get().uri(&url).insert_header(("Range", range))).await }
        };
        let head = ranged("bytes=0-9".into()).await;
        head.assert_status(206);
        assert_eq!(head.header("content-range"), Some(format!("bytes 0-9/{size}").as_str()));
        assert_eq!(head.body, photo[..10]);
        let tail = ranged("bytes=-5".into()).await;
        assert_eq!((tail.status.as_u16(), tail.body.to_vec()), (206, photo[size - 5..].to_vec()));
        let outside = ranged(format!("bytes={size}-")).await;
        outside.assert_problem(416);
        assert_eq!(outside.header("content-range"), Some(format!("bytes */{size}").as_str()));
        let several = ranged("bytes=0-1,4-5".into()).await;
        assert_eq!((several.status.as_u16(), several.body.len()), (200, size), "several ranges: the whole file");
        let whole = app.get(&url).await;
        let etag = whole.header("etag").unwrap().to_string();
        let stale = app
            .send(
                TestRequest::get()
                    .uri(&url)
                    .insert_header(("Range", "bytes=0-9"))
                    .insert_header(("If-Range", "\"other\"")),
            )
            .await;
        assert_eq!((stale.status.as_u16(), stale.body.len()), (200, size), "If-Range for another file: the whole");
        let current = app.send(TestRequest::get().uri(&url).insert_header(("If-None-Match", etag.clone()))).await;
        current.assert_status(304);
        assert!(current.body.is_empty());
        assert_eq!(current.header("etag"), Some(etag.as_str()));
        let since = whole.header("last-modified").unwrap().to_string();
        app.send(TestRequest::get().uri(&url).insert_header(("If-Modified-Since", since))).await.assert_status(304);
        let head = app.send(TestRequest::default().method(actix_web::http::Method::HEAD).uri(&url)).await;
        // The server's encoder drops the body on the wire (see `head_requests`).
        head.assert_status(200);
        assert_eq!(head.header("etag"), Some(etag.as_str()));
    }
}

async fn images_are_changed_and_deleted_by_their_uploader_or_an_editor(backend: Backend) {
    for store in media_stores() {
        let app = spawn_with_media(backend, store, |_| {}).await;
        let ann = app.user(Role::Author, "Ann").await;
        let bob = app.user(Role::Author, "Bob").await;
        let editor = app.user(Role::Editor, "Eve").await;
        let created = app.upload_as(&ann, &[("file", Some("p.png"), &files::png(700, 500))]).await;
        let media = created.json()["data"].clone();
        let id = media["id"].as_i64().unwrap();
        let at = format!("/api/v1/admin/media/{id}");
        // A variant made before the delete goes with it.
        app.get(&format!("{}?w=640", path(&media["url"]))).await.assert_status(200);
        let changed = app.patch_as(&ann, &at, json!({"alt": "  A chart  ", "focal_point": {"x": 0.25, "y": 1}})).await;
        changed.assert_status(200);
        let changed = changed.json()["data"].clone();
        assert_eq!(
            (changed["alt"].clone(), changed["focal_point"].clone()),
            (json!("A chart"), json!({"x": 0.25, "y": 1.0}))
        );
        let cleared =
            app.patch_as(&editor, &at, json!({"alt": null, "caption": "By Ann"})).await.json()["data"].clone();
        assert_eq!((cleared["alt"].clone(), cleared["caption"].clone()), (json!(null), json!("By Ann")));
        app.patch_as(&bob, &at, json!({"alt": "mine now"})).await.assert_problem(403);
        let problem = app.patch_as(&ann, &at, json!({"focal_point": {"x": 1.5, "y": -0.1}})).await.assert_problem(422);
        assert_eq!(problem["errors"].as_array().unwrap().len(), 2, "{problem}");
        app.patch_as(&ann, &at, json!({"focal_point": null})).await.assert_problem(422);
        app.patch_as(&ann, &at, json!({"owner": 1})).await.assert_problem(400);
        app.delete_as(&bob, &at).await.assert_problem(403);
        app.delete_as(&ann, &at).await.assert_status(204);
        app.get_as(&ann, &at).await.assert_problem(404);
        app.get(&path(&media["url"])).await.assert_problem(404);
        assert_eq!(app.state.media.objects.names("").await.unwrap(), Vec::<String>::new(), "its files are gone");
    }
}

async fn articles_take_their_cover_from_the_library(backend: Backend) {
    for store in media_stores() {
        let app = spawn_with_media(backend, store, |_| {}).await;
        let author = app.user(Role::Author, "Ann").await;
        let parts =
            [("file", Some("harbour.jpg"), &files::jpeg(1000, 600)[..]), ("alt", None, b"The harbour".as_slice())];
        let media = app.upload_as(&author, &parts).await.json()["data"].clone();
        let media_id = media["id"].as_i64().unwrap();
        let url = media["url"].as_str().unwrap().to_string();
        let unknown = json!({"title": "Lost", "body_markdown": "x", "cover_image_id": 999999});
        let problem = app.post_as(&author, "/api/v1/admin/articles", unknown).await.assert_problem(404);
        assert!(problem["detail"].as_str().unwrap().contains("cover_image_id"), "{problem}");
        let body = json!({"title": "Dawn", "body_markdown": "Boats.", "cover_image_id": media_id});
        let article = app.published(&author, body).await;
        assert_eq!(article["cover_image_id"], media_id);
        let slug = article["slug"].as_str().unwrap().to_string();
        let public = app.get(&format!("/api/v1/articles/{slug}")).await.json()["data"].clone();
        let expected = json!({
            "id": media_id,
            "url": url,
            "alt": "The harbour",
            "width": 1000,
            "height": 600,
            "focal_point": {"x": 0.5, "y": 0.5},
            "srcset": format!("{url}?w=320 320w, {url}?w=640 640w, {url}?w=960 960w, {url} 1000w"),
            "webp_srcset": format!(
                "{url}?w=320&format=webp 320w, {url}?w=640&format=webp 640w, {url}?w=960&format=webp 960w, \
                 {url}?format=webp 1000w"
            ),
        });
        assert_eq!(public["cover_image"], expected);
        let listed = app.get("/api/v1/articles").await.json()["data"][0].clone();
        assert_eq!(listed["cover_image"], expected);
        let picked = app.get("/api/v1/articles?fields=slug,cover_image").await.json()["data"][0].clone();
        assert_eq!(picked, json!({"slug": slug, "cover_image": expected}));
        // Every srcset URL answers.
        for entry in expected["webp_srcset"].as_str().unwrap().split(", ") {
            let entry_url = entry.split(' ').next().unwrap();
            app.get(entry_url.strip_prefix(BASE).unwrap()).await.assert_status(200);
        }
        // The library's changes show on the article.
        let at = format!("/api/v1/admin/media/{media_id}");
        app.patch_as(&author, &at, json!({"alt": "The harbour at dawn", "focal_point": {"x": 0.2, "y": 0.8}}))
            .await
            .assert_status(200);
        let public = app.get(&format!("/api/v1/articles/{slug}")).await.json()["data"].clone();
        assert_eq!(public["cover_image"]["alt"], "The harbour at dawn");
        assert_eq!(public["cover_image"]["focal_point"], json!({"x": 0.2, "y": 0.8}));
        // In use: not deleted without force, and not listed as unused.
        let unused = app.get_as(&author, "/api/v1/admin/media?unused=true").await;
        assert_eq!(unused.json()["meta"]["total"], 0);
        let problem = app.delete_as(&author, &at).await.assert_problem(409);
        assert!(!problem["detail"].as_str().unwrap().contains("Dawn"), "authors are not told titles: {problem}");
        let editor = app.user(Role::Editor, "Eve").await;
        let problem = app.delete_as(&editor, &at).await.assert_problem(409);
        assert!(problem["detail"].as_str().unwrap().contains("Dawn"), "names the article to editors: {problem}");
        let id = article["id"].as_i64().unwrap();
        app.delete_as(&author, &format!("{at}?force=true")).await.assert_problem(403);
        app.delete_as(&editor, &format!("{at}?force=true")).await.assert_status(204);
        let admin = app.get_as(&author, &format!("/api/v1/admin/articles/{id}")).await.json()["data"].clone();
        assert_eq!((admin["cover_image_id"].clone(), admin["cover_image"].clone()), (json!(null), json!(null)));
        assert_eq!(app.get(&format!("/api/v1/articles/{slug}")).await.json()["data"]["cover_image"], json!(null));
        // Set and cleared by PATCH.
        let again = app.upload_as(&author, &parts).await.json()["data"]["id"].clone();
        let at_article = format!("/api/v1/admin/articles/{id}");
        let set = app.patch_as(&author, &at_article, json!({"cover_image_id": again})).await;
        assert_eq!(set.json()["data"]["cover_image"]["id"], again);
        app.patch_as(&author, &at_article, json!({"cover_image_id": 424242})).await.assert_problem(404);
        let cleared = app.patch_as(&author, &at_article, json!({"cover_image_id": null})).await;
        assert_eq!(cleared.json()["data"]["cover_image"], json!(null));
        let unused = app.get_as(&author, "/api/v1/admin/media?unused=true").await;
        assert_eq!(unused.json()["meta"]["total"], 1);
    }
}

/// Two nodes on one database and one media store (as behind a load balancer, with S3): what one
/// stores, the other serves, variants included, and a delete through one is a delete for both.
async fn nodes_sharing_a_store_serve_each_others_uploads(backend: Backend) {
    for store in media_stores() {
        let first = spawn_with_media(backend, store, |_| {}).await;
        let shared = first.state.config.media.store.clone();
        let url = first.state.config.database_url.clone();
        let second = spawn_node_with(url, move |config| config.media.store = shared).await;
        let author = first.user(Role::Author, "Ann").await;
        let created = first.upload_as(&author, &[("file", Some("p.jpg"), &files::jpeg(700, 400))]).await;
        let media = created.json()["data"].clone();
        let original = path(&media["url"]);
        let from_first = first.get(&original).await;
        let from_second = second.get(&original).await;
        from_second.assert_status(200);
        assert_eq!(
            (from_second.body.clone(), from_second.header("etag")),
            (from_first.body.clone(), from_first.header("etag"))
        );
        // The second node makes a variant; the first serves the same one.
        let variant = format!("{original}?w=640&format=webp");
        let made = second.get(&variant).await;
        made.assert_status(200);
        assert_eq!(first.get(&variant).await.body, made.body);
        first.delete_as(&author, &format!("/api/v1/admin/media/{}", media["id"])).await.assert_status(204);
        assert_eq!(first.state.media.objects.names("").await.unwrap(), Vec::<String>::new());
    }
}
