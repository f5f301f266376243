//! The test harness: a fresh database per test on each backend, the real application built by
//! `masthead::app::build_app`, and typed request helpers.
//!
//! PostgreSQL tests run when `MASTHEAD_TEST_POSTGRES_URL` names a server where the role may create
//! databases (e.g. `postgres://root@127.0.0.1:5432/postgres`); each test creates its own database
//! and drops it afterwards. Without the variable they are skipped, loudly, except under `CI=true`,
//! where a missing PostgreSQL fails the run.

use std::io::Write;
use std::sync::Once;
use std::sync::atomic::{AtomicU32, Ordering};

use actix_http::Request;
use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::HeaderMap;
use actix_web::test::{self as actix_test, TestRequest};
use actix_web::web::{self, Bytes};
use diesel::{Connection, PgConnection, RunQueryDsl};
use masthead::app::build_app;
use masthead::auth::Role;
use masthead::authors::model::NewAccount;
use masthead::config::Config;
use masthead::db::Db;
use masthead::http::state::AppState;
use masthead::settings::DatabaseUrl;
use serde_json::Value;

pub const POSTGRES_URL_VAR: &str = "MASTHEAD_TEST_POSTGRES_URL";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Whether the PostgreSQL variant of each test runs; says so once when it does not.
pub fn postgres_enabled() -> bool {
    if std::env::var(POSTGRES_URL_VAR).is_ok_and(|v| !v.is_empty()) {
        return true;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("CI=true but {POSTGRES_URL_VAR} is not set: the PostgreSQL suite must run in CI");
    }
    static WARN: Once = Once::new();
    WARN.call_once(|| {
        // Straight to stderr, past the test harness's output capture, so it is seen.
        let _ = writeln!(
            std::io::stderr(),
            "\n*** PostgreSQL suite SKIPPED: set {POSTGRES_URL_VAR}=postgres://USER@HOST:5432/postgres to run it ***\n"
        );
    });
    false
}

/// A database that exists for one test and is removed after it.
pub struct TestDb {
    pub url: DatabaseUrl,
    _sqlite_dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

impl TestDb {
    pub fn create(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("a temporary directory");
                let path = dir.path().join("masthead.db");
                Self {
                    url: DatabaseUrl::Sqlite(path.to_string_lossy().into_owned()),
                    _sqlite_dir: Some(dir),
                    postgres: None,
                }
            }
            Backend::Postgres => {
                static COUNTER: AtomicU32 = AtomicU32::new(0);
                let admin_url = std::env::var(POSTGRES_URL_VAR).expect("checked by postgres_enabled");
                let name = format!(
                    "masthead_test_{}_{}_{}",
                    std::process::id(),
                    COUNTER.fetch_add(1, Ordering::Relaxed),
                    masthead::random::hex_token(3)
                );
                let mut admin = PgConnection::establish(&admin_url)
                    .unwrap_or_else(|e| panic!("cannot connect to {POSTGRES_URL_VAR}: {e}"));
                diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut admin).expect("CREATE DATABASE");
                Self {
                    url: DatabaseUrl::Postgres(with_database(&admin_url, &name)),
                    _sqlite_dir: None,
                    postgres: Some((admin_url, name)),
                }
            }
        }
    }

    /// The value to give `DATABASE_URL` for this database.
    pub fn env_value(&self) -> String {
        database_env(&self.url)
    }
}

/// Runs the `masthead` binary on the database `db` (a `DATABASE_URL` value) with `args`, `env`
/// (after a quiet log, and no JWT secret) and `stdin`.
pub fn masthead(db: &str, args: &[&str], env: &[(&str, &str)], stdin: &str) -> std::process::Output {
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_masthead"))
        .args(args)
        .env("DATABASE_URL", db)
        .env("MASTHEAD_LOG", "warn")
        .env_remove("MASTHEAD_JWT_SECRET")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the masthead binary runs");
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

/// The value to give `DATABASE_URL` for `url` (an app's database, for the binary).
pub fn database_env(url: &DatabaseUrl) -> String {
    match url {
        DatabaseUrl::Sqlite(path) => format!("sqlite://{path}"),
        DatabaseUrl::Postgres(url) => url.clone(),
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = &self.postgres
            && let Ok(mut admin) = PgConnection::establish(admin_url)
        {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut admin);
        }
    }
}

/// `postgres://u@h:5432/postgres?x=y` with `name` → `postgres://u@h:5432/name?x=y`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let after_scheme = base.find("://").map_or(0, |i| i + 3);
    let base = match base[after_scheme..].find('/') {
        Some(slash) => &base[..after_scheme + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

/// A response, read whole.
#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl TestResponse {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn assert_status(&self, expected: u16) -> &Self {
        assert_eq!(self.status.as_u16(), expected, "unexpected status; body: {}", self.text());
        self
    }

    /// Asserts an RFC 9457 problem with this status, and returns its body.
    #[track_caller]
    pub fn assert_problem(&self, expected: u16) -> Value {
        self.assert_status(expected);
        assert_eq!(self.header("content-type"), Some("application/problem+json"), "problem content type");
        let problem = self.json();
        assert_eq!(problem["status"], expected, "problem status: {problem}");
        for field in ["type", "title", "detail"] {
            assert!(problem[field].as_str().is_some_and(|s| !s.is_empty()), "problem lacks `{field}`: {problem}");
        }
        problem
    }
}

/// The application on one backend, with its own database.
pub struct TestApp<S> {
    service: S,
    pub state: web::Data<AppState>,
    // Dropped last: the database outlives the pool that uses it. `None` for extra nodes.
    _db: Option<TestDb>,
    /// The app's media directory, when its media are on disk.
    _media: Option<tempfile::TempDir>,
}

/// Where a test app keeps its media.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaStore {
    /// A temporary directory of the app's own.
    Local,
    /// A prefix of its own in the bucket `MASTHEAD_TEST_S3_BUCKET` names, on the S3-compatible
    /// server the `AWS_*` variables point at (`.ci/run` starts one).
    S3,
    /// The one the test put in the configuration: another app's, for nodes sharing their media.
    AsConfigured,
}

pub const S3_BUCKET_VAR: &str = "MASTHEAD_TEST_S3_BUCKET";

/// The stores media tests run against: the local directory, and S3 when a server is configured
/// (required under `CI=true`, skipped loudly otherwise).
pub fn media_stores() -> Vec<MediaStore> {
    static NOTICE: Once = Once::new();
    if std::env::var(S3_BUCKET_VAR).is_ok_and(|bucket| !bucket.is_empty()) {
        return vec![MediaStore::Local, MediaStore::S3];
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{S3_BUCKET_VAR} is not set; under CI the media tests must also run against S3"
    );
    NOTICE.call_once(|| eprintln!("note: {S3_BUCKET_VAR} is not set: media tests run on the local store only"));
    vec![MediaStore::Local]
}

/// The media store of a new test app, and the directory to keep while it lives.
fn media_location(
    store: MediaStore,
    configured: &masthead::settings::MediaStoreLocation,
) -> (masthead::settings::MediaStoreLocation, Option<tempfile::TempDir>) {
    use masthead::settings::MediaStoreLocation;
    match store {
        MediaStore::AsConfigured => (configured.clone(), None),
        MediaStore::Local => {
            let dir = tempfile::tempdir().expect("a temporary directory");
            (MediaStoreLocation::Directory(dir.path().to_path_buf()), Some(dir))
        }
        MediaStore::S3 => {
            let bucket = std::env::var(S3_BUCKET_VAR).expect("the test bucket");
            let prefix = format!("test-{}", masthead::random::hex_token(8));
            (MediaStoreLocation::S3 { bucket, prefix }, None)
        }
    }
}

/// The application on a fresh database, without the database watcher: no readiness probes, and
/// the response cache stays off (see [`spawn_watched`]).
pub async fn spawn(
    backend: Backend,
) -> TestApp<impl Service<Request, Response = ServiceResponse<impl MessageBody>, Error = actix_web::Error>> {
    spawn_on(TestDb::create(backend)).await
}

/// The application on a database the test prepared (e.g. with the `masthead` binary).
pub async fn spawn_on(
    db: TestDb,
) -> TestApp<impl Service<Request, Response = ServiceResponse<impl MessageBody>, Error = actix_web::Error>> {
    let app = start(Config::for_tests(db.url.clone()), false).await;
    TestApp { _db: Some(db), ..app }
}

/// [`spawn`] with the database watcher running, as `serve` runs it: for the tests of readiness
/// and of the response cache.
pub async fn spawn_watched(
    backend: Backend,
) -> TestApp<impl Service<Request, Response = ServiceResponse<impl MessageBody>, Error = actix_web::Error>> {
    spawn_watched_on(TestDb::create(backend)).await
}

/// [`spawn_on`] with the database watcher running.
pub async fn spawn_watched_on(
    db: TestDb,
) -> TestApp<impl Service<Request, Response = ServiceResponse<impl MessageBody>, Error = actix_web::Error>> {
    let app = spawn_node(db.url.clone()).await;
    TestApp { _db: Some(db), ..app }
}

/// Another application node on the same database (as behind a load balancer), watching it; the
/// database belongs to the test's first app.
pub async fn spawn_node(
    url: DatabaseUrl,
) -> TestApp<impl Service<Request, Response = ServiceResponse<impl MessageBody>, Error = actix_web::Error>> {
    start(Config::for_tests(url), true).await
}

/// [`spawn_node`] with the test configuration as `adjust` changes it.
pub async fn spawn_node_with(
    url: DatabaseUrl,
    adjust: impl FnOnce(&mut Config),
) -> TestApp<impl Service<Request, Response = ServiceResponse<impl MessageBody>, Error = actix_web::Error>> {
    let mut config = Config::for_tests(url);
    adjust(&mut config);
    start(config, true).await
}

/// The application with the test configuration as `adjust` changes it (comment rules, say).
pub async fn spawn_with(
    backend: Backend,
    adjust: impl FnOnce(&mut Config),
) -> TestApp<impl Service<Request, Response = ServiceResponse<impl MessageBody>, Error = actix_web::Error>> {
    let db = TestDb::create(backend);
    let mut config = Config::for_tests(db.url.clone());
    adjust(&mut config);
    let app = start(config, false).await;
    TestApp { _db: Some(db), ..app }
}

/// [`spawn_with`] with the database watcher running: for the tests of readiness.
pub async fn spawn_watched_with(
    backend: Backend,
    adjust: impl FnOnce(&mut Config),
) -> TestApp<impl Service<Request, Response = ServiceResponse<impl MessageBody>, Error = actix_web::Error>> {
    let db = TestDb::create(backend);
    let app = spawn_node_with(db.url.clone(), adjust).await;
    TestApp { _db: Some(db), ..app }
}

/// The application with its media in `store`.
pub async fn spawn_with_media(
    backend: Backend,
    store: MediaStore,
    adjust: impl FnOnce(&mut Config),
) -> TestApp<impl Service<Request, Response = ServiceResponse<impl MessageBody>, Error = actix_web::Error>> {
    let db = TestDb::create(backend);
    let mut config = Config::for_tests(db.url.clone());
    adjust(&mut config);
    let app = start_with_media(config, false, store).await;
    TestApp { _db: Some(db), ..app }
}

async fn start(
    config: Config,
    watch: bool,
) -> TestApp<impl Service<Request, Response = ServiceResponse<impl MessageBody>, Error = actix_web::Error>> {
    // A test that names a store (another node's) keeps it; the others get a directory of their own.
    let default = Config::for_tests(config.database_url.clone()).media.store;
    let store = if config.media.store == default { MediaStore::Local } else { MediaStore::AsConfigured };
    start_with_media(config, watch, store).await
}

async fn start_with_media(
    mut config: Config,
    watch: bool,
    store: MediaStore,
) -> TestApp<impl Service<Request, Response = ServiceResponse<impl MessageBody>, Error = actix_web::Error>> {
    let (location, media_dir) = media_location(store, &config.media.store);
    config.media.store = location;
    let pool = Db::open(&config.database_url, config.db).expect("the test database opens and migrates");
    let state = web::Data::new(AppState::new(config, pool).expect("application state"));
    let service = actix_test::init_service(build_app(state.clone())).await;
    if watch {
        // As `serve` does it, once the cache listens; then ready once it follows the database.
        state.db.watch();
        eventually("the database watcher follows the database", || async {
            (state.db.change_feed_live() && (state.cache.serving() || !state.cache.enabled())).then_some(())
        })
        .await;
    }
    TestApp { service, state, _db: None, _media: media_dir }
}

/// The test's application behind a real HTTP/1.1 listener on loopback, for what only the wire
/// shows (that a HEAD answer has no body, say). Stops when dropped.
pub struct Listener {
    pub addr: std::net::SocketAddr,
    handle: actix_web::dev::ServerHandle,
}

impl Listener {
    /// Runs a server made by the app (its bound addresses with it) until dropped.
    pub fn serving((server, addrs): (actix_web::dev::Server, Vec<std::net::SocketAddr>)) -> Self {
        let handle = server.handle();
        actix_web::rt::spawn(server);
        Self { addr: addrs[0], handle }
    }

    /// Sends one whole request (say it with `Connection: close`) and reads the answer to its end.
    pub async fn exchange(&self, request: &str) -> String {
        use std::io::Read;
        let (addr, request) = (self.addr, request.to_owned());
        web::block(move || {
            let mut stream = std::net::TcpStream::connect(addr)?;
            stream.write_all(request.as_bytes())?;
            let mut answer = String::new();
            stream.read_to_string(&mut answer)?;
            Ok::<_, std::io::Error>(answer)
        })
        .await
        .expect("the blocking pool runs")
        .expect("the listener answers")
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let handle = self.handle.clone();
        actix_web::rt::spawn(async move { handle.stop(false).await });
    }
}

/// A signed-in account of the test.
#[derive(Debug, Clone)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub password: String,
    pub token: String,
    pub refresh_token: String,
}

/// What a test app's service is: the bound helpers outside this file, generic over the app, need
/// (`S: AppService<B>, B: MessageBody`).
pub trait AppService<B>: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error> {}

impl<S, B> AppService<B> for S where S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error> {}

impl<S, B> TestApp<S>
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    /// Now, by the application's clock.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.state.db.clock().now()
    }

    /// Moves the application's clock forward, as if that much time had passed.
    pub fn advance(&self, by: chrono::Duration) {
        self.state.db.clock().advance(by);
    }

    /// Starts the node's background work (scheduled publications, webhook deliveries), as
    /// `serve` does.
    pub fn dispatch(&self) {
        masthead::app::background::spawn(&self.state).expect("the background work starts");
    }

    /// The same application and database, served by `actix_web::HttpServer` on a free port.
    pub fn listen(&self) -> Listener {
        let shape = masthead::app::server::ServerShape { workers: 1, max_connections: 1000 };
        Listener::serving(
            masthead::app::server::http_server(self.state.clone(), "127.0.0.1:0".parse().unwrap(), shape)
                .expect("a free loopback port"),
        )
    }

    pub async fn send(&self, request: TestRequest) -> TestResponse {
        let response = actix_test::call_service(&self.service, request.to_request()).await;
        let status = response.status();
        let headers = response.headers().clone();
        let body = actix_test::read_body(response).await;
        TestResponse { status, headers, body }
    }

    pub async fn get(&self, path: &str) -> TestResponse {
        self.send(TestRequest::get().uri(path)).await
    }

    /// Uploads a form of `parts` (name, file name, bytes) to the media library as `user`.
    pub async fn upload_as(&self, user: &User, parts: &[(&str, Option<&str>, &[u8])]) -> TestResponse {
        let (content_type, body) = crate::media_files::multipart(parts);
        let request = TestRequest::post()
            .uri("/api/v1/admin/media")
            .insert_header(bearer(user))
            .insert_header(("Content-Type", content_type))
            .set_payload(body);
        self.send(request).await
    }

    pub async fn get_as(&self, user: &User, path: &str) -> TestResponse {
        self.send(TestRequest::get().uri(path).insert_header(bearer(user))).await
    }

    pub async fn post_as(&self, user: &User, path: &str, body: Value) -> TestResponse {
        self.send(TestRequest::post().uri(path).insert_header(bearer(user)).set_json(body)).await
    }

    pub async fn patch_as(&self, user: &User, path: &str, body: Value) -> TestResponse {
        self.send(TestRequest::patch().uri(path).insert_header(bearer(user)).set_json(body)).await
    }

    pub async fn put_as(&self, user: &User, path: &str, body: Value) -> TestResponse {
        self.send(TestRequest::put().uri(path).insert_header(bearer(user)).set_json(body)).await
    }

    /// A JSON POST without credentials.
    pub async fn post(&self, path: &str, body: Value) -> TestResponse {
        self.send(TestRequest::post().uri(path).set_json(body)).await
    }

    /// A reader's comment on the article `slug`, from a client address.
    pub async fn comment_from(&self, address: &str, slug: &str, body: Value) -> TestResponse {
        self.send(
            TestRequest::post()
                .uri(&format!("/api/v1/articles/{slug}/comments"))
                .peer_addr(format!("{address}:40000").parse().expect("an IP address"))
                .set_json(body),
        )
        .await
    }

    pub async fn delete_as(&self, user: &User, path: &str) -> TestResponse {
        self.send(TestRequest::delete().uri(path).insert_header(bearer(user))).await
    }

    pub async fn login(&self, email: &str, password: &str) -> TestResponse {
        self.login_from("127.0.0.1", email, password).await
    }

    /// Logs in from a given client address (login throttling is per address and per account).
    pub async fn login_from(&self, address: &str, email: &str, password: &str) -> TestResponse {
        self.send(
            TestRequest::post()
                .uri("/api/v1/auth/login")
                .peer_addr(format!("{address}:40000").parse().expect("an IP address"))
                .set_json(serde_json::json!({"email": email, "password": password})),
        )
        .await
    }

    /// Creates an account with `role` directly in the database (as `masthead users add` does),
    /// then logs it in over HTTP.
    pub async fn user(&self, role: Role, name: &str) -> User {
        let email = format!("{}@example.com", name.to_lowercase().replace(' ', "."));
        let password = format!("pw-{}", masthead::random::hex_token(8));
        let account = NewAccount { email: email.clone(), name: name.into(), role, password: password.clone() };
        let params = self.state.config.password_hashing;
        let author = self
            .state
            .db
            .run(move |conn| masthead::authors::store::create_account(conn, &account, &params))
            .await
            .expect("account created");
        let login = self.login(&email, &password).await;
        login.assert_status(200);
        let tokens = login.json();
        User {
            id: author.id,
            email,
            password,
            token: tokens["access_token"].as_str().expect("an access token").to_string(),
            refresh_token: tokens["refresh_token"].as_str().expect("a refresh token").to_string(),
        }
    }

    /// Creates a draft through the API and returns its JSON (`data`).
    pub async fn draft(&self, user: &User, body: Value) -> Value {
        let response = self.post_as(user, "/api/v1/admin/articles", body).await;
        response.assert_status(201);
        response.json()["data"].clone()
    }

    /// Creates and publishes an article; returns its editor JSON.
    pub async fn published(&self, user: &User, body: Value) -> Value {
        let id = self.draft(user, body).await["id"].as_i64().unwrap();
        let response = self.post_as(user, &format!("/api/v1/admin/articles/{id}/publish"), Value::Null).await;
        response.assert_status(200);
        response.json()["data"].clone()
    }
}

/// Waits for `check` to give a value, trying every 20 ms for up to 10 s: for what happens in the
/// background (a watcher's probe, another node's notification), never a fixed sleep.
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(std::time::Instant::now() < deadline, "timed out waiting until {what}");
        actix_rt::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

fn bearer(user: &User) -> (&'static str, String) {
    ("Authorization", format!("Bearer {}", user.token))
}

#[test]
fn database_names_replace_the_path_of_the_admin_url() {
    assert_eq!(with_database("postgres://root@127.0.0.1:5432/postgres", "x"), "postgres://root@127.0.0.1:5432/x");
    assert_eq!(with_database("postgres://root@h/db?sslmode=disable", "x"), "postgres://root@h/x?sslmode=disable");
    assert_eq!(with_database("postgresql://h:1", "x"), "postgresql://h:1/x");
}

/// The request log lines (`masthead::http`) of every test in this binary, as written. Installed
/// on first use as the process's log subscriber; tests find their own lines by the request id they
/// sent (`X-Request-Id`).
pub fn request_log() -> &'static std::sync::Mutex<Vec<String>> {
    static LINES: std::sync::OnceLock<std::sync::Mutex<Vec<String>>> = std::sync::OnceLock::new();
    static INSTALLED: Once = Once::new();
    INSTALLED.call_once(|| {
        struct Capture;
        impl Write for Capture {
            fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
                let text = String::from_utf8_lossy(bytes);
                request_log().lock().unwrap().extend(text.lines().map(str::to_owned));
                Ok(bytes.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let _ = tracing_subscriber::fmt()
            .with_env_filter("masthead::http=info")
            .with_ansi(false)
            .with_writer(|| Capture)
            .try_init();
    });
    LINES.get_or_init(Default::default)
}

/// The log lines of the request with this id, once there are any (they are written when the
/// answer is made, or when the client goes away).
pub async fn logged(request_id: &str) -> Vec<String> {
    eventually("the request is logged", || async {
        let lines: Vec<String> =
            request_log().lock().unwrap().iter().filter(|line| line.contains(request_id)).cloned().collect();
        (!lines.is_empty()).then_some(lines)
    })
    .await
}

/// Database work that holds one of the pool's connections (and its place in line) until the test
/// lets it go: a pool at its limit, on demand.
pub struct HeldConnection {
    release: std::sync::mpsc::Sender<()>,
    work: actix_web::rt::task::JoinHandle<Result<(), masthead::error::ApiError>>,
}

impl HeldConnection {
    pub fn take(db: &Db) -> Self {
        let (release, released) = std::sync::mpsc::channel::<()>();
        let db = db.clone();
        let work = actix_web::rt::spawn(async move {
            db.run(move |_| {
                released.recv().ok();
                Ok(())
            })
            .await
        });
        Self { release, work }
    }

    pub async fn release(self) {
        self.release.send(()).expect("the held work waits");
        self.work.await.expect("the held work ends").expect("the held work succeeds");
    }
}
