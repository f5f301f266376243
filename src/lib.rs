//! Masthead: a headless CMS served as a JSON API, on SQLite or PostgreSQL.
//!
//! The modules form one-way layers, each using only those below it (README "Layout"):
//! `app` (the route table and the server) → the resources (`articles`, `authors`, `tags`,
//! `comments`, `accounts`) → `http` (state, extractors, responses, the cache) → `auth` → `db` →
//! the ground (configuration, settings, errors, Markdown, slugs, e-mail, pagination, randomness).
//! `main.rs` is a thin command line over `app`, so that the tests drive the app production runs.

pub mod app;

pub mod accounts;
pub mod archive;
pub mod articles;
pub mod authors;
pub mod comments;
pub mod imports;
pub mod media;
pub mod redirects;
pub mod sitemap;
pub mod tags;
pub mod tokens;
pub mod webhooks;

pub mod http;

pub mod auth;

pub mod db;
pub mod schema;

pub mod clock;
pub mod config;
pub mod email;
pub mod error;
pub mod markdown;
pub mod media_links;
pub mod optional_fields;
pub mod os;
pub mod outbound;
pub mod pagination;
pub mod random;
pub mod settings;
pub mod single_flight;
pub mod site;
pub mod slugs;
pub mod storage;
pub mod thread_scope;
pub mod timestamps;
pub mod turns;
pub mod workers;
