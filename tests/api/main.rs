//! Black-box HTTP tests of Masthead, in one test binary (each extra binary re-links every
//! dependency). Every test in a module listed in `backend_tests!` runs twice: on SQLite and on
//! PostgreSQL, through the same code; see `harness` for the databases.

/// Declares async test bodies `async fn name(backend: Backend)` as one test per backend:
/// `sqlite::name` and `postgres::name`.
macro_rules! backend_tests {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[actix_web::test]
                async fn $name() {
                    super::$name(crate::harness::Backend::Sqlite).await
                }
            )+
        }
        mod postgres {
            $(
                #[actix_web::test]
                async fn $name() {
                    if crate::harness::postgres_enabled() {
                        super::$name(crate::harness::Backend::Postgres).await
                    }
                }
            )+
        }
    };
}

mod accounts;
mod archive;
mod articles;
mod auth;
mod authors_and_tags;
mod bodies;
mod cache;
mod cli;
mod comments;
mod concurrency;
mod docs;
mod errors;
mod feed;
mod ghost;
mod harness;
mod http;
mod lifecycle;
mod media;
mod media_files;
mod metrics;
mod migrations;
mod openapi;
mod ops;
mod previews;
mod querying;
mod receiver;
mod redirects;
mod requests;
mod resilience;
mod roles;
mod search;
mod sitemap;
mod tcp_proxy;
mod tokens;
mod webhook_delivery;
mod webhooks;
mod wordpress;
