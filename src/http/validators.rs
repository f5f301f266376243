//! Conditional requests (RFC 9110 §13): the validators a client sends, and whether what it holds
//! is still fresh, so that a 304 can replace a body.

use actix_web::HttpRequest;
use actix_web::http::header::{EntityTag, HeaderValue, HttpDate, IF_MODIFIED_SINCE, IF_NONE_MATCH};
use chrono::{DateTime, Utc};

/// HTTP dates have whole seconds: drop the rest, or a resource would always look newer than the
/// `If-Modified-Since` a client copied from its `Last-Modified`.
pub fn http_date(time: DateTime<Utc>) -> HttpDate {
    let seconds = u64::try_from(time.timestamp()).unwrap_or(0);
    HttpDate::from(std::time::UNIX_EPOCH + std::time::Duration::from_secs(seconds))
}

/// The validators a client sent (`If-None-Match`, `If-Modified-Since`): what decides between a
/// 304 and a 200. Kept apart from the request so that the response cache can have a full 200
/// made for everyone and still answer each client's own validators.
#[derive(Clone, Debug, Default)]
pub struct Validators {
    if_none_match: Vec<HeaderValue>,
    if_modified_since: Option<HeaderValue>,
}

impl Validators {
    pub fn of(req: &HttpRequest) -> Self {
        Self::from_headers(req.headers())
    }

    fn from_headers(headers: &actix_web::http::header::HeaderMap) -> Self {
        // A date sent twice is no date: RFC 9110 has the field ignored then.
        let mut since = headers.get_all(IF_MODIFIED_SINCE);
        let if_modified_since = match (since.next(), since.next()) {
            (Some(one), None) => Some(one.clone()),
            _ => None,
        };
        Self { if_none_match: headers.get_all(IF_NONE_MATCH).cloned().collect(), if_modified_since }
    }

    /// Takes them off a request, whose answer is then a full 200 whatever the client holds.
    pub fn take(req: &mut actix_web::dev::ServiceRequest) -> Self {
        let validators = Self::from_headers(req.headers());
        req.headers_mut().remove(IF_NONE_MATCH);
        req.headers_mut().remove(IF_MODIFIED_SINCE);
        validators
    }

    /// Whether a stored response (its `ETag` and `Last-Modified` as sent) is fresh for them.
    pub fn fresh_for_stored(&self, etag: Option<&str>, last_modified: Option<&str>) -> bool {
        let Some(etag) = etag.and_then(|e| e.parse::<EntityTag>().ok()) else { return false };
        self.fresh(&etag, last_modified.and_then(|v| v.parse::<HttpDate>().ok()))
    }

    /// RFC 9110 §13.1: `If-None-Match` (weak comparison) wins; `If-Modified-Since` counts only
    /// without it. Unparseable validators are ignored, as the RFC asks.
    pub fn fresh(&self, etag: &EntityTag, last_modified: Option<HttpDate>) -> bool {
        if !self.if_none_match.is_empty() {
            // `*` is the whole field or nothing; otherwise a list of tags, unreadable ones ignored.
            if let [only] = &self.if_none_match[..]
                && only.to_str().is_ok_and(|value| value.trim() == "*")
            {
                return true;
            }
            return self
                .if_none_match
                .iter()
                .filter_map(|value| value.to_str().ok())
                .flat_map(|value| value.split(','))
                .any(|item| item.trim().parse::<EntityTag>().is_ok_and(|tag| tag.weak_eq(etag)));
        }
        let since = self.if_modified_since.as_ref().and_then(|v| v.to_str().ok()?.parse::<HttpDate>().ok());
        match (last_modified, since) {
            (Some(modified), Some(since)) => {
                std::time::SystemTime::from(modified) <= std::time::SystemTime::from(since)
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn if_modified_since_compares_whole_seconds() {
        let modified: DateTime<Utc> = "2026-11-25T16:29:07.446750Z".parse().unwrap();
        let date = http_date(modified);
        let req = TestRequest::get().insert_header(("If-Modified-Since", date.to_string())).to_http_request();
        let etag = EntityTag::new_strong("x".into());
        assert!(Validators::of(&req).fresh(&etag, Some(date)), "{date}");
        let both = TestRequest::get()
            .insert_header(("If-None-Match", "\"y\", W/\"x\""))
            .insert_header(("If-Modified-Since", date.to_string()))
            .to_http_request();
        assert!(Validators::of(&both).fresh(&etag, Some(date)), "a weak match");
        let other = TestRequest::get().insert_header(("If-None-Match", "\"y\"")).to_http_request();
        assert!(!Validators::of(&other).fresh(&etag, Some(date)), "If-None-Match wins over If-Modified-Since");
    }
}
