//! The migrations: the same set for each backend, and each runs up → down → up cleanly.

use diesel::{Connection, PgConnection, SqliteConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use masthead::settings::DatabaseUrl;

use crate::harness::{Backend, TestDb};

const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");

backend_tests!(migrations_run_up_down_and_up_again);

fn names(folder: &str) -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations").join(folder);
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn each_backend_has_the_same_migrations() {
    assert_eq!(names("sqlite"), names("postgres"));
    for name in names("sqlite") {
        for folder in ["sqlite", "postgres"] {
            for file in ["up.sql", "down.sql"] {
                let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("migrations")
                    .join(folder)
                    .join(&name)
                    .join(file);
                assert!(path.is_file(), "{} is missing", path.display());
            }
        }
    }
}

async fn migrations_run_up_down_and_up_again(backend: Backend) {
    let db = TestDb::create(backend);
    match &db.url {
        DatabaseUrl::Sqlite(path) => {
            let mut conn = SqliteConnection::establish(path).unwrap();
            cycle(&mut conn, || SQLITE);
        }
        DatabaseUrl::Postgres(url) => {
            let mut conn = PgConnection::establish(url).unwrap();
            cycle(&mut conn, || POSTGRES);
        }
    }
}

/// `migrations` hands out the (non-`Clone`) embedded set once per run.
fn cycle<DB: diesel::backend::Backend>(conn: &mut impl MigrationHarness<DB>, migrations: fn() -> EmbeddedMigrations) {
    let applied = conn.run_pending_migrations(migrations()).expect("up").len();
    assert_eq!(applied, names("sqlite").len());
    assert_eq!(conn.revert_all_migrations(migrations()).expect("down").len(), applied);
    assert_eq!(conn.run_pending_migrations(migrations()).expect("up again").len(), applied);
}
