//! The sitemap (sitemaps.org protocol) of the front end: published articles, and tags and
//! authors with published work, at the front end's addresses (`site`). Past the part size it is an
//! index of numbered parts.

pub mod routes;
pub mod store;
