//! Redirects as a resource: articles' former slugs, kept when a public article's slug changes,
//! and paths of the front end redirected by editors or by imports; the public table front ends
//! answer them from.

pub mod model;
pub mod routes;
pub mod store;
