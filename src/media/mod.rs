//! The media library: images uploaded, checked and stripped of metadata, kept in the media store
//! (`storage`), and served under `/media` at URLs that never change meaning, in the widths and
//! formats the site declares.

pub mod formats;
pub mod model;
pub mod processing;
pub mod routes;
pub mod serving;
pub mod store;
pub mod upload;
