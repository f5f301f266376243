//! Webhooks as a resource: editors subscribe URLs to content events; every node's dispatcher
//! sends the events that writes recorded in the outbox (`db::outbox`), signed per Standard
//! Webhooks, retried with backoff until they arrive or fail for good.

pub mod claims;
pub mod dispatcher;
pub mod model;
pub mod routes;
pub mod signing;
pub mod store;
