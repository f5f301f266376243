//! Integration tokens as a resource: staff create long-lived, scoped credentials for machines (a
//! build server, an importer), list and revoke them. How a token authenticates is `auth`'s.

pub mod model;
pub mod routes;
pub mod store;
