//! Articles: Markdown written by editors, rendered once per write, read by everyone once published.
//!
//! `store` holds every query (public ones through the one visibility rule, `db::visibility`),
//! `policy` who may do what to an article, `routes` the HTTP surface (public, editor, revisions),
//! `feed` the Atom feed and `preview` the signed preview links.

pub mod feed;
pub mod listing;
pub mod model;
pub mod policy;
pub mod preview;
pub mod revisions;
pub mod routes;
pub mod search;
pub mod store;
pub mod views;
