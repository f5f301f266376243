//! Reader comments: posted without an account on published articles, shown once approved, as
//! threads; moderated by editors.
//!
//! `model` holds the rows, inputs and views (the e-mail is only in the editors' view), `render` the
//! light Markdown of comment bodies, `screening` the abuse rules that decide a new comment's status,
//! `store` every query, `routes` the public and editor routes.

pub mod model;
pub mod render;
pub mod routes;
pub mod screening;
pub mod store;
