//! The in-process cache of public responses: hits skip the database, and no write, on this node
//! or another, and no scheduled publication is ever hidden by it.

use masthead::auth::Role;
use serde_json::json;

use crate::harness::{Backend, TestDb, eventually, spawn_node, spawn_watched_on};

backend_tests!(
    cached_responses_follow_every_write,
    other_nodes_see_writes_within_a_moment,
    a_cold_key_is_made_once_however_many_ask,
    writes_invalidate_whatever_the_spelling_of_their_path,
    spellings_and_validators_share_one_entry_and_bookkeeping_keeps_it,
    author_pages_are_cached_and_follow_profile_changes,
    writes_drop_only_what_they_touched,
    other_nodes_drop_only_what_writes_touched,
);

async fn cached_responses_follow_every_write(backend: Backend) {
    let app = spawn_watched_on(TestDb::create(backend)).await;
    let author = app.user(Role::Author, "Arthur").await;
    app.published(&author, json!({"title": "First", "body_markdown": "x", "tags": ["t"]})).await;

    let miss = app.get("/api/v1/articles?tag=t").await;
    assert_eq!(miss.header("x-masthead-cache"), Some("miss"));
    // A repeat is a hit. (Retried: on a loaded machine the watcher may fall behind, and the cache
    // then stands aside until it catches up.)
    let started = std::time::Instant::now();
    let hit = loop {
        let again = app.get("/api/v1/articles?tag=t").await;
        if again.header("x-masthead-cache") == Some("hit") {
            break again;
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "the response is never cached");
        actix_rt::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(hit.body, miss.body);
    assert_eq!(hit.header("etag"), miss.header("etag"));
    assert_eq!(hit.header("cache-control"), miss.header("cache-control"));
    // A hit answers validators like the route itself.
    let etag = hit.header("etag").unwrap().to_string();
    let revalidated = app
        .send(actix_web::test::TestRequest::get().uri("/api/v1/articles?tag=t").insert_header(("If-None-Match", etag)))
        .await;
    revalidated.assert_status(304);
    assert!(revalidated.body.is_empty());

    // Any write through the editor routes is seen at once.
    app.published(&author, json!({"title": "Second", "body_markdown": "y", "tags": ["t"]})).await;
    let after = app.get("/api/v1/articles?tag=t").await;
    assert_eq!(after.header("x-masthead-cache"), Some("miss"));
    assert_eq!(after.json()["meta"]["total"], 2);
    let article = app.get("/api/v1/articles/second").await;
    article.assert_status(200);
    let id = app.get_as(&author, "/api/v1/admin/articles?q=second").await.json()["data"][0]["id"].clone();
    app.patch_as(&author, &format!("/api/v1/admin/articles/{id}"), json!({"title": "Second, edited"}))
        .await
        .assert_status(200);
    assert_eq!(app.get("/api/v1/articles/second").await.json()["data"]["title"], "Second, edited");
    // Errors and editor routes are never cached.
    app.get("/api/v1/articles/missing").await.assert_problem(404);
    assert!(app.get("/api/v1/articles/missing").await.header("x-masthead-cache").is_none());
    assert!(app.get_as(&author, "/api/v1/admin/articles").await.header("x-masthead-cache").is_none());
}

async fn other_nodes_see_writes_within_a_moment(backend: Backend) {
    let db = TestDb::create(backend);
    let url = db.url.clone();
    let writer = spawn_watched_on(db).await;
    let reader = spawn_node(url).await;
    let author = writer.user(Role::Author, "Arthur").await;
    writer.published(&author, json!({"title": "First", "body_markdown": "x"})).await;
    assert_eq!(reader.get("/api/v1/articles").await.json()["meta"]["total"], 1);
    // A repeat is a hit, once the writer's notifications have been seen.
    let started = std::time::Instant::now();
    while reader.get("/api/v1/articles").await.header("x-masthead-cache") != Some("hit") {
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "the reader never caches");
        actix_rt::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    // Written on one node; the other drops its copy (NOTIFY on PostgreSQL, data_version on SQLite).
    writer.published(&author, json!({"title": "Second", "body_markdown": "y"})).await;
    let started = std::time::Instant::now();
    loop {
        if reader.get("/api/v1/articles").await.json()["meta"]["total"] == 2 {
            break;
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(3), "the other node never saw the write");
        actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

async fn a_cold_key_is_made_once_however_many_ask(backend: Backend) {
    let app = spawn_watched_on(TestDb::create(backend)).await;
    let author = app.user(Role::Author, "Arthur").await;
    app.published(&author, json!({"title": "First", "body_markdown": "x", "tags": ["t"]})).await;
    // A watcher falling behind in the middle of the burst (a loaded machine) makes a second miss:
    // each try asks for a key of its own.
    let mut size = 0;
    crate::harness::eventually("a burst of misses makes one response", || {
        size += 1;
        let key = format!("/api/v1/articles?tag=t&include=body&per_page={size}");
        let app = &app;
        async move {
            let responses = futures_util::future::join_all((0..12).map(|_| app.get(&key))).await;
            assert!(responses.iter().all(|r| r.status == 200 && r.body == responses[0].body));
            let misses = responses.iter().filter(|r| r.header("x-masthead-cache") == Some("miss")).count();
            // One request makes the response; the others wait for it.
            (misses == 1).then_some(())
        }
    })
    .await;
}

/// The router decodes `%61` to `a` before matching, so this reaches the editors' DELETE (with its
/// authentication); the cache must see the write all the same, from the write itself.
async fn writes_invalidate_whatever_the_spelling_of_their_path(backend: Backend) {
    let app = spawn_watched_on(TestDb::create(backend)).await;
    let editor = app.user(Role::Editor, "Edith").await;
    let id = app.published(&editor, json!({"title": "Soon gone", "body_markdown": "x"})).await["id"].clone();
    crate::harness::eventually("the article is served from the cache", || async {
        (app.get("/api/v1/articles/soon-gone").await.header("x-masthead-cache") == Some("hit")).then_some(())
    })
    .await;
    app.send(
        actix_web::test::TestRequest::delete()
            .uri(&format!("/api/v1/%61dmin/articles/{id}"))
            .insert_header(("Authorization", format!("Bearer {}", editor.token))),
    )
    .await
    .assert_status(204);
    // At once, not when a watcher gets round to it.
    app.get("/api/v1/articles/soon-gone").await.assert_problem(404);
    assert_eq!(app.get("/api/v1/articles").await.json()["meta"]["total"], 0);
}

/// PostgreSQL only: its change feed is a connection that can be cut from outside. A write made
/// while the watcher reconnects would otherwise never be seen by this node.
#[actix_web::test]
async fn postgres_a_cut_change_feed_never_hides_a_write() {
    if !crate::harness::postgres_enabled() {
        return;
    }
    let db = TestDb::create(Backend::Postgres);
    let url = db.url.clone();
    let reader = spawn_watched_on(db).await;
    let writer = spawn_node(url.clone()).await;
    let editor = writer.user(Role::Editor, "Edith").await;
    let id = writer.published(&editor, json!({"title": "Old title", "body_markdown": "x"})).await["id"].clone();
    crate::harness::eventually("the reader caches the article", || async {
        (reader.get("/api/v1/articles/old-title").await.header("x-masthead-cache") == Some("hit")).then_some(())
    })
    .await;

    // Cut the watcher's connections (both nodes'), then write before they are back.
    let watchers = |admin: &mut diesel::PgConnection| -> Vec<i32> {
        use diesel::RunQueryDsl;
        #[derive(diesel::QueryableByName)]
        struct Pid {
            #[diesel(sql_type = diesel::sql_types::Integer)]
            pid: i32,
        }
        diesel::sql_query(
            "SELECT pg_terminate_backend(pid)::int AS pid FROM pg_stat_activity \
             WHERE application_name = 'masthead-db-watch' AND datname = current_database()",
        )
        .load::<Pid>(admin)
        .expect("terminate the watchers")
        .into_iter()
        .map(|row| row.pid)
        .collect()
    };
    let masthead::settings::DatabaseUrl::Postgres(pg_url) = &url else { unreachable!() };
    let admin =
        std::cell::RefCell::new(<diesel::PgConnection as diesel::Connection>::establish(pg_url).expect("connect"));
    assert_eq!(watchers(&mut admin.borrow_mut()).len(), 2, "both nodes' watchers were connected");
    writer
        .patch_as(&editor, &format!("/api/v1/admin/articles/{id}"), json!({"title": "New title"}))
        .await
        .assert_status(200);
    // As soon as the reader's watcher notices that it was cut (its next look, within about 100 ms,
    // as for any notification) it stops serving from the cache, and starts over empty once back:
    // the write it could not hear of is never hidden for longer.
    crate::harness::eventually("the new title is served and the watchers are back", || async {
        let title = reader.get("/api/v1/articles/old-title").await.json()["data"]["title"].clone();
        if title != "New title" {
            return None;
        }
        use diesel::RunQueryDsl;
        #[derive(diesel::QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let back = diesel::sql_query(
            "SELECT count(*) AS n FROM pg_stat_activity \
             WHERE application_name = 'masthead-db-watch' AND datname = current_database()",
        )
        .get_result::<Count>(&mut *admin.borrow_mut())
        .expect("count the watchers");
        (back.n == 2).then_some(())
    })
    .await;
    let title = reader.get("/api/v1/articles/old-title").await.json()["data"]["title"].clone();
    assert_eq!(title, "New title");
}

/// One entry per resource, however its URL is spelled and whatever validators its first reader
/// sent; and writes the public never sees (sessions, login throttling, comments held for
/// moderation) are not announced to other nodes.
///
/// Each check below runs on a key of its own and is retried (see
/// `cached_responses_follow_every_write`).
async fn spellings_and_validators_share_one_entry_and_bookkeeping_keeps_it(backend: Backend) {
    let app = spawn_watched_on(TestDb::create(backend)).await;
    let author = app.user(Role::Author, "Arthur").await;
    let article = app.published(&author, json!({"title": "Hello", "body_markdown": "x", "tags": ["t"]})).await;
    let fresh_key = std::cell::Cell::new(0);
    let next_key = || {
        fresh_key.set(fresh_key.get() + 1);
        format!("/api/v1/articles?tag=t&per_page={}", fresh_key.get())
    };
    // A cold key whose first reader revalidates: it gets its 304, and the full 200 is kept.
    crate::harness::eventually("a revalidated miss leaves the full answer cached", || async {
        let key = next_key();
        let revalidated = actix_web::test::TestRequest::get().uri(&key).insert_header(("If-None-Match", "*"));
        let first = app.send(revalidated).await;
        first.assert_status(304);
        let kept = app.get(&key).await;
        kept.assert_status(200);
        (first.header("x-masthead-cache") == Some("miss") && kept.header("x-masthead-cache") == Some("hit"))
            .then_some(())
    })
    .await;
    // Spelled otherwise, the same entry.
    crate::harness::eventually("other spellings find the entry", || async {
        let key = next_key();
        app.get(&key).await.assert_status(200);
        let spellings = [key.replace("/articles", "/%61rticles"), key.replace("tag=", "%74ag="), format!("{key}&&")];
        for spelling in spellings {
            if app.get(&spelling).await.header("x-masthead-cache") != Some("hit") {
                return None;
            }
        }
        Some(())
    })
    .await;

    // Logins, failed and successful, and a comment held for moderation announce nothing: on
    // SQLite the counter other processes follow stays put; on PostgreSQL no notification is sent
    // (the one that arrives is the edit's, made after them).
    let masthead::settings::DatabaseUrl::Postgres(_) = &app.state.config.database_url else {
        let version = || async {
            app.state
                .db
                .run(|conn| {
                    use diesel::RunQueryDsl;
                    #[derive(diesel::QueryableByName)]
                    struct Row {
                        #[diesel(sql_type = diesel::sql_types::BigInt)]
                        version: i64,
                    }
                    Ok(diesel::sql_query("SELECT version FROM content_version").get_result::<Row>(conn)?.version)
                })
                .await
                .unwrap()
        };
        let before = version().await;
        bookkeeping_writes(&app, &author, article["slug"].as_str().unwrap()).await;
        assert_eq!(version().await, before, "bookkeeping is not public");
        let path = format!("/api/v1/admin/articles/{}", article["id"]);
        app.patch_as(&author, &path, json!({"title": "Hi"})).await.assert_status(200);
        assert_eq!(version().await, before + 1, "an edit is");
        return;
    };
    let masthead::settings::DatabaseUrl::Postgres(url) = &app.state.config.database_url else { unreachable!() };
    use diesel::connection::SimpleConnection;
    let listener = std::cell::RefCell::new(<diesel::PgConnection as diesel::Connection>::establish(url).unwrap());
    listener.borrow_mut().batch_execute("LISTEN masthead_cache").unwrap();
    // Notifications arrive in commit order: everything the writes announced is in before a
    // marker that the test sends after them.
    let heard_until_marker = || async {
        let announced = std::cell::Cell::new(0);
        crate::harness::eventually("the marker arrives", || async {
            for notification in listener.borrow_mut().notifications_iter() {
                match notification.unwrap().payload.as_str() {
                    "marker" => return Some(()),
                    _ => announced.set(announced.get() + 1),
                }
            }
            None
        })
        .await;
        announced.get()
    };
    let notify_marker = || {
        let mut marker = <diesel::PgConnection as diesel::Connection>::establish(url).unwrap();
        marker.batch_execute("NOTIFY masthead_cache, 'marker'").unwrap();
    };
    bookkeeping_writes(&app, &author, article["slug"].as_str().unwrap()).await;
    notify_marker();
    assert_eq!(heard_until_marker().await, 0, "bookkeeping is not announced");
    let path = format!("/api/v1/admin/articles/{}", article["id"]);
    app.patch_as(&author, &path, json!({"title": "Hi"})).await.assert_status(200);
    notify_marker();
    assert_eq!(heard_until_marker().await, 1, "an edit is");
}

/// Writes the public never sees: a failed login, a login, a comment held for moderation.
async fn bookkeeping_writes<S, B>(app: &crate::harness::TestApp<S>, author: &crate::harness::User, slug: &str)
where
    S: crate::harness::AppService<B>,
    B: actix_web::body::MessageBody,
{
    app.login(&author.email, "wrong").await.assert_problem(401);
    app.login(&author.email, &author.password).await.assert_status(200);
    let comment = json!({"author_name": "Reader", "author_email": "reader@example.com", "body": "Nice."});
    let held = app.comment_from("192.0.2.1", slug, comment).await;
    held.assert_status(202);
    assert_eq!(held.json()["data"]["status"], "pending");
}

/// Public author pages are cached like every public read (`/api/v1/authors` was once taken for an
/// `/auth` route), and an author's own profile change is seen at once.
async fn author_pages_are_cached_and_follow_profile_changes(backend: Backend) {
    let app = spawn_watched_on(TestDb::create(backend)).await;
    let author = app.user(Role::Author, "Arthur").await;
    app.published(&author, json!({"title": "First", "body_markdown": "x"})).await;
    let slug = app.get("/api/v1/authors").await.json()["data"][0]["slug"].as_str().unwrap().to_string();
    let path = format!("/api/v1/authors/{slug}");
    for list_or_page in ["/api/v1/authors", path.as_str()] {
        eventually(&format!("{list_or_page} is served from the cache"), || async {
            (app.get(list_or_page).await.header("x-masthead-cache") == Some("hit")).then_some(())
        })
        .await;
    }
    app.patch_as(&author, "/api/v1/auth/me", json!({"bio": "Writes about caches."})).await.assert_status(200);
    let page = app.get(&path).await;
    assert_eq!(page.header("x-masthead-cache"), Some("miss"));
    assert_eq!(page.json()["data"]["bio"], "Writes about caches.");
}

/// Every key of `paths` is served from `app`'s cache (retried while the first reads make them).
async fn all_cached<S, B>(app: &crate::harness::TestApp<S>, paths: &[&str])
where
    S: crate::harness::AppService<B>,
    B: actix_web::body::MessageBody,
{
    eventually("every page is served from the cache", || async {
        for path in paths {
            if app.get(path).await.header("x-masthead-cache") != Some("hit") {
                return None;
            }
        }
        Some(())
    })
    .await;
}

/// An edit or a comment drops that article's page and thread, and every list, and keeps the other
/// articles' pages; a write to an author (shown on every page) drops everything. Each check is
/// retried from a warm cache: on a loaded machine the watcher may fall behind, and the cache then
/// empties itself whatever the writes touched.
async fn writes_drop_only_what_they_touched(backend: Backend) {
    let app = spawn_watched_on(TestDb::create(backend)).await;
    let author = app.user(Role::Author, "Arthur").await;
    let editor = app.user(Role::Editor, "Edith").await;
    let alpha = app.published(&author, json!({"title": "Alpha", "body_markdown": "a", "tags": ["t"]})).await;
    app.published(&author, json!({"title": "Beta", "body_markdown": "b", "tags": ["t"]})).await;
    let pages = [
        "/api/v1/articles/alpha",
        "/api/v1/articles/alpha/comments",
        "/api/v1/articles/beta",
        "/api/v1/articles/beta/comments",
        "/api/v1/articles?tag=t",
    ];
    let alpha_path = format!("/api/v1/admin/articles/{}", alpha["id"]);
    let cached = |page: &'static str| {
        let app = &app;
        async move { app.get(page).await.header("x-masthead-cache") == Some("hit") }
    };
    let edits = std::cell::Cell::new(0);
    eventually("an edit keeps the other article's page", || async {
        all_cached(&app, &pages).await;
        edits.set(edits.get() + 1);
        let title = format!("Alpha, edit {}", edits.get());
        app.patch_as(&author, &alpha_path, json!({ "title": title })).await.assert_status(200);
        let kept = cached("/api/v1/articles/beta").await && cached("/api/v1/articles/beta/comments").await;
        assert!(!cached("/api/v1/articles/alpha/comments").await);
        let edited = app.get("/api/v1/articles/alpha").await;
        assert_ne!(edited.header("x-masthead-cache"), Some("hit"));
        assert_eq!(edited.json()["data"]["title"], title);
        let list = app.get("/api/v1/articles?tag=t").await;
        assert_ne!(list.header("x-masthead-cache"), Some("hit"), "lists show every article");
        assert!(list.text().contains(&title));
        kept.then_some(())
    })
    .await;

    // A comment approved on Alpha: its thread and page (the count) change, Beta's do not.
    let approved = std::cell::Cell::new(0);
    eventually("a comment keeps the other article's page", || async {
        all_cached(&app, &pages).await;
        let comment = json!({"author_name": "Reader", "author_email": "reader@example.com", "body": "Nice."});
        let held = app.comment_from(&format!("192.0.2.{}", approved.get() + 1), "alpha", comment).await;
        held.assert_status(202);
        let path = format!("/api/v1/admin/comments/{}", held.json()["data"]["id"]);
        app.patch_as(&editor, &path, json!({"status": "approved"})).await.assert_status(200);
        approved.set(approved.get() + 1);
        let kept = cached("/api/v1/articles/beta").await;
        let thread = app.get("/api/v1/articles/alpha/comments").await;
        assert_ne!(thread.header("x-masthead-cache"), Some("hit"));
        assert_eq!(thread.json()["meta"]["total"], approved.get());
        let page = app.get("/api/v1/articles/alpha").await;
        assert_ne!(page.header("x-masthead-cache"), Some("hit"));
        assert_eq!(page.json()["data"]["comment_count"], approved.get());
        kept.then_some(())
    })
    .await;

    // The author's profile is on both articles' pages.
    all_cached(&app, &pages).await;
    app.patch_as(&author, "/api/v1/auth/me", json!({"bio": "Writes about caches."})).await.assert_status(200);
    let beta = app.get("/api/v1/articles/beta").await;
    assert_ne!(beta.header("x-masthead-cache"), Some("hit"));
    assert_eq!(beta.json()["data"]["author"]["bio"], "Writes about caches.");
}

/// PostgreSQL's notifications name the articles a write touched: another node drops just those
/// (and its lists), and the writing node, which dropped them at once, ignores its own. Retried
/// from a warm cache, as above.
async fn other_nodes_drop_only_what_writes_touched(backend: Backend) {
    let db = TestDb::create(backend);
    let url = db.url.clone();
    let writer = spawn_watched_on(db).await;
    let reader = spawn_node(url).await;
    let author = writer.user(Role::Author, "Arthur").await;
    // Tokens are signed per node (each test node has its own key).
    let other_author = reader.user(Role::Author, "Rita").await;
    let alpha = writer.published(&author, json!({"title": "Alpha", "body_markdown": "a"})).await;
    writer.published(&author, json!({"title": "Beta", "body_markdown": "b"})).await;
    let pages = ["/api/v1/articles/alpha", "/api/v1/articles/beta", "/api/v1/articles"];
    let alpha_path = format!("/api/v1/admin/articles/{}", alpha["id"]);
    let edits = std::cell::Cell::new(0);
    let edit = || async {
        edits.set(edits.get() + 1);
        let title = format!("Alpha, edit {}", edits.get());
        writer.patch_as(&author, &alpha_path, json!({ "title": title })).await.assert_status(200);
        title
    };
    eventually("the other node drops only the edited article's page", || async {
        all_cached(&reader, &pages).await;
        let title = edit().await;
        eventually("the other node sees the edit", || async {
            (reader.get("/api/v1/articles/alpha").await.json()["data"]["title"] == title).then_some(())
        })
        .await;
        let kept = reader.get("/api/v1/articles/beta").await.header("x-masthead-cache") == Some("hit");
        // On SQLite another process's `content_version` says only that something changed.
        (kept || backend == Backend::Sqlite).then_some(())
    })
    .await;
    if backend == Backend::Sqlite {
        return;
    }

    // The writer edits and reads the page again; then the reader writes (a draft of its own).
    // Once the writer has heard that, it has heard its own edit's notification too (they arrive
    // in commit order), which must have dropped nothing.
    let drafts = std::cell::Cell::new(0);
    eventually("the writer ignores its own notifications", || async {
        all_cached(&writer, &pages).await;
        edit().await;
        for page in pages {
            writer.get(page).await.assert_status(200);
        }
        drafts.set(drafts.get() + 1);
        reader.draft(&other_author, json!({"title": format!("Gamma {}", drafts.get()), "body_markdown": "c"})).await;
        eventually("the writer hears the reader's write", || async {
            (writer.get("/api/v1/articles").await.header("x-masthead-cache") != Some("hit")).then_some(())
        })
        .await;
        let mut kept = true;
        for page in ["/api/v1/articles/alpha", "/api/v1/articles/beta"] {
            kept &= writer.get(page).await.header("x-masthead-cache") == Some("hit");
        }
        kept.then_some(())
    })
    .await;
}
