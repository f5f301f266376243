//! The HTTP kit every resource builds on: the application state, extractors, responses, request
//! bodies, the public response cache and the middleware, and the OpenAPI defaults.

pub mod body;
pub mod cache;
pub mod caller;
pub mod extract;
pub mod head_requests;
pub mod metrics;
pub mod openapi;
pub mod request_log;
pub mod responses;
pub mod security_headers;
pub mod state;
pub mod unknown_parameters;
pub mod validators;
