//! The caller's own account under `/api/v1/auth`: logging in and out, refreshing tokens, the
//! profile and the password. Account operations, so above both `auth` (sessions, passwords,
//! throttling) and the authors resource (the profile).

pub mod routes;
