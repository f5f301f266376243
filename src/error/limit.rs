//! The limits that refuse requests with 429, named for the metrics.

/// Which limit refused a request with 429; kept in the response's extensions for the metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    /// Failed logins per address or account (`auth::throttle`).
    LoginThrottle,
    /// Comments a minute from one address.
    CommentRate,
    /// Request bodies sent at once from one address.
    BodiesPerClient,
}

impl Limit {
    pub const ALL: [Limit; 3] = [Limit::LoginThrottle, Limit::CommentRate, Limit::BodiesPerClient];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::LoginThrottle => "login_throttle",
            Self::CommentRate => "comment_rate",
            Self::BodiesPerClient => "bodies_per_client",
        }
    }
}
