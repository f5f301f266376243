//! Articles: Markdown written by editors, rendered once per write, read by everyone once published.
//!
//! `store` holds every query (including the one visibility rule of public content, [`store::is_public`]),
//! `policy` who may do what to an article, `routes` the HTTP surface (public and editor).

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
