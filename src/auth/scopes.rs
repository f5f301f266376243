//! What an integration token may do: its scopes, and the one table of which scope each route
//! needs, which the caller extractor enforces and the OpenAPI document states.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A permission an integration token carries. A token acts as its owner, so it may do what the
/// owner's current role allows *and* one of its scopes names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
pub enum Scope {
    /// The editor routes' reads: drafts, revisions, previews, tags, media, redirects.
    #[serde(rename = "content:read")]
    ContentRead,
    /// Creating, editing, publishing, unpublishing, trashing and restoring articles; tags;
    /// redirects (the owner must be an editor or admin).
    #[serde(rename = "content:write")]
    ContentWrite,
    /// The comment moderation queue.
    #[serde(rename = "comments:moderate")]
    CommentsModerate,
    /// Webhooks: subscribing, rotating secrets, deliveries (the owner must be an editor or admin).
    #[serde(rename = "webhooks:manage")]
    WebhooksManage,
    /// Uploading images to the media library and editing or deleting them (the owner must be an
    /// author or above); reading the library takes `content:read`.
    #[serde(rename = "media:write")]
    MediaWrite,
}

impl Scope {
    pub const ALL: [Scope; 5] =
        [Scope::ContentRead, Scope::ContentWrite, Scope::CommentsModerate, Scope::WebhooksManage, Scope::MediaWrite];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ContentRead => "content:read",
            Self::ContentWrite => "content:write",
            Self::CommentsModerate => "comments:moderate",
            Self::WebhooksManage => "webhooks:manage",
            Self::MediaWrite => "media:write",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|scope| scope.as_str() == text)
    }
}

/// What a route asks of an integration token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenAccess {
    Needs(Scope),
    /// Integration tokens may not call it at all; the reason, for the 403.
    Refused(&'static str),
}

/// What a route (its `pattern` as the router matched it, e.g. `/api/v1/admin/articles/{id}`)
/// asks of an integration token called with `method`. A resource not named here is refused, so a
/// new resource is closed to tokens until it is given a scope; a new route of a named one takes
/// that resource's scope (its reads `content:read`).
pub fn token_access(method: &str, pattern: &str) -> TokenAccess {
    let Some(rest) = pattern.strip_prefix("/api/v1/admin/") else {
        return TokenAccess::Refused(
            "integration tokens are for the editor routes (/api/v1/admin) only; log in for the rest",
        );
    };
    let resource = rest.split('/').next().unwrap_or_default();
    // A preview link is a read, although it is made with a POST.
    let reads = method == "GET" || method == "HEAD" || (resource == "articles" && rest.ends_with("/preview"));
    match resource {
        "articles" | "tags" | "media" | "redirects" if reads => TokenAccess::Needs(Scope::ContentRead),
        "media" => TokenAccess::Needs(Scope::MediaWrite),
        "articles" | "tags" | "redirects" => TokenAccess::Needs(Scope::ContentWrite),
        "comments" => TokenAccess::Needs(Scope::CommentsModerate),
        "webhooks" => TokenAccess::Needs(Scope::WebhooksManage),
        "tokens" => TokenAccess::Refused("integration tokens cannot manage tokens; log in"),
        "export" => TokenAccess::Refused("integration tokens cannot export everything; log in as an admin"),
        _ => TokenAccess::Refused("integration tokens cannot manage accounts; log in"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_editor_route_family_has_its_scope_and_the_rest_is_closed() {
        use TokenAccess::*;
        assert_eq!(token_access("GET", "/api/v1/admin/articles/{id}"), Needs(Scope::ContentRead));
        assert_eq!(token_access("POST", "/api/v1/admin/articles/{id}/preview"), Needs(Scope::ContentRead));
        assert_eq!(token_access("POST", "/api/v1/admin/articles/{id}/publish"), Needs(Scope::ContentWrite));
        assert_eq!(token_access("PATCH", "/api/v1/admin/tags/{id}"), Needs(Scope::ContentWrite));
        assert_eq!(token_access("GET", "/api/v1/admin/comments"), Needs(Scope::CommentsModerate));
        assert_eq!(token_access("GET", "/api/v1/admin/webhooks/{id}/deliveries"), Needs(Scope::WebhooksManage));
        assert_eq!(token_access("GET", "/api/v1/admin/media"), Needs(Scope::ContentRead));
        assert_eq!(token_access("POST", "/api/v1/admin/media"), Needs(Scope::MediaWrite));
        assert_eq!(token_access("DELETE", "/api/v1/admin/media/{id}"), Needs(Scope::MediaWrite));
        assert!(matches!(token_access("POST", "/api/v1/admin/tokens"), Refused(_)));
        assert!(matches!(token_access("GET", "/api/v1/admin/authors"), Refused(_)));
        assert!(matches!(token_access("GET", "/api/v1/auth/me"), Refused(_)));
        for scope in Scope::ALL {
            assert_eq!(Scope::parse(scope.as_str()), Some(scope));
        }
    }
}
