//! Tags: topics that group articles. Named on an article they are created on the fly; public routes
//! show only tags on published articles.

pub mod model;
pub mod routes;
pub mod store;
