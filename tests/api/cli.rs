//! The `masthead` binary itself: `users add`, `migrate`, `demo`, `tokens` and `backup`. (A backup
//! under a write load, restored and checked, is the fault suite's `backup` scenario.)

use std::process::{Command, Output};

use crate::harness::{Backend, TestDb, User, spawn_node_with, spawn_on};

backend_tests!(
    users_add_creates_an_account_that_can_log_in,
    migrate_is_idempotent,
    demo_fills_a_site,
    tokens_are_made_listed_and_revoked_from_the_command_line,
    backup_copies_a_live_sqlite_database_and_names_the_postgres_tools,
);

fn masthead(db: &TestDb, args: &[&str], stdin: &str) -> Output {
    crate::harness::masthead(&db.env_value(), args, &[], stdin)
}

async fn users_add_creates_an_account_that_can_log_in(backend: Backend) {
    let db = TestDb::create(backend);
    let add =
        ["users", "add", "--email", "Chief@Example.com", "--name", "The Chief", "--role", "admin", "--password-stdin"];
    let output = masthead(&db, &add, "correct horse battery\n");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("created admin account The Chief <chief@example.com>"), "{stdout}");
    assert!(!stdout.contains("correct horse"), "the password is never printed");

    let again = masthead(&db, &add, "another password\n");
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));

    let weak = masthead(
        &db,
        &["users", "add", "--email", "x@example.com", "--name", "X", "--role", "author", "--password-stdin"],
        "short\n",
    );
    assert!(!weak.status.success());
    assert!(String::from_utf8_lossy(&weak.stderr).contains("password: must be 8 to 256 characters"));

    let bad_role = masthead(
        &db,
        &["users", "add", "--email", "x@example.com", "--name", "X", "--role", "king", "--password-stdin"],
        "long enough\n",
    );
    assert!(!bad_role.status.success());
    assert!(String::from_utf8_lossy(&bad_role.stderr).contains("admin, editor, author, contributor"));

    let app = spawn_on(db).await;
    let login = app.login("chief@example.com", "correct horse battery").await;
    login.assert_status(200);
    let token = login.json()["access_token"].as_str().unwrap().to_string();
    let me = app
        .send(
            actix_web::test::TestRequest::get()
                .uri("/api/v1/auth/me")
                .insert_header(("Authorization", format!("Bearer {token}"))),
        )
        .await;
    assert_eq!(me.json()["data"]["role"], "admin");
}

async fn migrate_is_idempotent(backend: Backend) {
    let db = TestDb::create(backend);
    for _ in 0..2 {
        let output = masthead(&db, &["migrate"], "");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        assert!(String::from_utf8_lossy(&output.stdout).contains("is up to date"));
    }
}

/// Outside loopback a JWT secret is required; a short one is refused everywhere.
#[test]
fn serve_refuses_a_missing_or_weak_jwt_secret() {
    let db = TestDb::create(Backend::Sqlite);
    let run = |addr: &str, secret: Option<&str>| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_masthead"));
        command.arg("serve").env("DATABASE_URL", db.env_value()).env("MASTHEAD_ADDR", addr);
        match secret {
            Some(secret) => command.env("MASTHEAD_JWT_SECRET", secret),
            None => command.env_remove("MASTHEAD_JWT_SECRET"),
        };
        command.output().expect("the masthead binary runs")
    };
    let missing = run("0.0.0.0:0", None);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("MASTHEAD_JWT_SECRET is not set"));
    let weak = run("127.0.0.1:0", Some("too-short"));
    assert!(!weak.status.success());
    assert!(String::from_utf8_lossy(&weak.stderr).contains("MASTHEAD_JWT_SECRET is too short"));
    let bad_addr = run("localhost", Some(&"x".repeat(40)));
    assert!(!bad_addr.status.success());
    assert!(String::from_utf8_lossy(&bad_addr.stderr).contains("MASTHEAD_ADDR"));
    let no_workers = Command::new(env!("CARGO_BIN_EXE_masthead"))
        .arg("serve")
        .env("DATABASE_URL", db.env_value())
        .env("MASTHEAD_ADDR", "127.0.0.1:0")
        .env("MASTHEAD_JWT_SECRET", "x".repeat(40))
        .env("MASTHEAD_WORKERS", "0")
        .output()
        .expect("the masthead binary runs");
    assert!(!no_workers.status.success());
    assert!(String::from_utf8_lossy(&no_workers.stderr).contains("MASTHEAD_WORKERS"));
}

async fn demo_fills_a_site(backend: Backend) {
    let db = TestDb::create(backend);
    let output = masthead(&db, &["demo", "--articles", "120"], "");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8_lossy(&output.stdout).contains("wrote 120 articles by 20 authors under 30 tags"));
    let app = spawn_on(db).await;
    let list = app.get("/api/v1/articles?per_page=1").await.json();
    assert_eq!(list["meta"]["total"], 120);
    assert_eq!(app.get("/api/v1/tags").await.json()["meta"]["total"], 30);
    // About 1 % mention the benchmark's search term.
    let rare = app.get(&format!("/api/v1/articles?q={}", masthead::app::demo::RARE_WORD)).await.json();
    assert_eq!(rare["meta"]["total"], 1);
    let login = app.login("ada.lovelace@demo.masthead", "demo-password-0").await;
    login.assert_status(200);
}

/// `masthead tokens add|list|revoke`, with the server's JWT secret (the tokens' hash key comes
/// from it): a token made on the command line works on the API, and is revoked from it.
async fn tokens_are_made_listed_and_revoked_from_the_command_line(backend: Backend) {
    let db = TestDb::create(backend);
    let secret = "cli-test-secret-cli-test-secret-cli-test-42";
    let run = |args: &[&str], stdin: &str| {
        crate::harness::masthead(&db.env_value(), args, &[("MASTHEAD_JWT_SECRET", secret)], stdin)
    };
    let add = ["users", "add", "--email", "ci@example.com", "--name", "CI", "--role", "editor", "--password-stdin"];
    assert!(run(&add, "correct horse battery\n").status.success());
    let made = run(
        &[
            "tokens",
            "add",
            "--owner",
            "ci@example.com",
            "--name",
            "pipeline",
            "--scope",
            "content:read",
            "comments:moderate",
        ],
        "",
    );
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let token = String::from_utf8_lossy(&made.stdout).trim().to_string();
    assert!(token.starts_with("mh_") && token.len() == 67, "{token}");
    let unknown =
        run(&["tokens", "add", "--owner", "nobody@example.com", "--name", "x", "--scope", "content:read"], "");
    assert!(!unknown.status.success() && String::from_utf8_lossy(&unknown.stderr).contains("no account"));

    let app = spawn_node_with(db.url.clone(), |config| {
        config.jwt_secret = Some(masthead::config::Secret::new(secret.to_string()));
    })
    .await;
    let machine = User {
        id: 0,
        email: String::new(),
        password: String::new(),
        token: token.clone(),
        refresh_token: String::new(),
    };
    app.get_as(&machine, "/api/v1/admin/articles").await.assert_status(200);
    app.get_as(&machine, "/api/v1/admin/comments").await.assert_status(200);

    let listed = run(&["tokens", "list"], "");
    let listed = String::from_utf8_lossy(&listed.stdout).to_string();
    assert!(listed.contains("pipeline") && listed.contains(&token[..11]) && !listed.contains(&token), "{listed}");
    let id = listed.split('\t').next().unwrap().to_string();
    assert!(run(&["tokens", "revoke", &id], "").status.success());
    app.get_as(&machine, "/api/v1/admin/articles").await.assert_problem(401);
}

/// `masthead backup FILE` while a server has the database open: a checked copy a server can open,
/// never over an existing file. On PostgreSQL it names pg_dump and pg_restore, without the URL
/// (which may hold a password).
async fn backup_copies_a_live_sqlite_database_and_names_the_postgres_tools(backend: Backend) {
    let db = TestDb::create(backend);
    let url = db.url.clone();
    let app = spawn_node_with(url.clone(), |_| {}).await;
    let author = app.user(masthead::auth::Role::Author, "Ann").await;
    let article = app.published(&author, serde_json::json!({"title": "Kept", "body_markdown": "x"})).await;
    let directory = tempfile::tempdir().unwrap();
    let copy = directory.path().join("copy.db");
    let output = masthead(&db, &["backup", copy.to_str().unwrap()], "");
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    if backend == Backend::Postgres {
        assert!(!output.status.success());
        assert!(stderr.contains("pg_dump --format=custom") && stderr.contains("pg_restore"), "{stderr}");
        assert!(!stderr.contains(&db.env_value()), "{stderr}");
        assert!(!copy.exists());
        return;
    }
    assert!(output.status.success(), "{stderr}");
    assert!(String::from_utf8_lossy(&output.stdout).contains("integrity checked"));
    let again = masthead(&db, &["backup", copy.to_str().unwrap()], "");
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists already"));
    let names: Vec<_> = std::fs::read_dir(directory.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names, ["copy.db"], "no partial copy is left behind");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&copy).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the copy holds password hashes: its owner's only");
    }
    let restored =
        spawn_node_with(masthead::settings::DatabaseUrl::Sqlite(copy.to_str().unwrap().into()), |_| {}).await;
    let read = restored.get(&format!("/api/v1/articles/{}", article["slug"].as_str().unwrap())).await;
    read.assert_status(200);
    assert_eq!(read.json()["data"]["title"], "Kept");
}
