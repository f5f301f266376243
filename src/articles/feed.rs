//! The Atom feed (RFC 4287) of published articles: the newest 50, optionally for one tag or one
//! author. Built with `atom_syndication`, so escaping and structure are the crate's, not ours.

use actix_web::{HttpRequest, HttpResponse, get, web};
use atom_syndication::{Category, Content, Entry, Feed, Link, Person, Text};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::IntoParams;

use super::listing::PublicFilter;
use super::listing::{ListRequest, Sort, Window};
use super::store;
use crate::error::ApiError;
use crate::http::extract::QueryParams;
use crate::http::responses::public_bytes;
use crate::http::state::AppState;
use crate::pagination::PageRequest;

/// Entries in a feed.
const FEED_ENTRIES: i64 = 50;

/// `GET /api/v1/feed.atom` parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// Only articles with this tag (a slug).
    pub tag: Option<String>,
    /// Only articles by this author (a slug).
    pub author: Option<String>,
}

/// The newest 50 published articles as an Atom feed, with their bodies as HTML.
#[utoipa::path(
    tag = "Content",
    operation_id = "getFeed",
    params(
        FeedQuery,
    ),
    responses(
        (status = 200, description = "An Atom 1.0 feed", body = String, content_type = "application/atom+xml"),
    )
)]
#[get("/feed.atom")]
pub async fn feed(
    req: HttpRequest,
    state: web::Data<AppState>,
    QueryParams(query): QueryParams<FeedQuery>,
) -> Result<HttpResponse, ApiError> {
    let request = ListRequest {
        filter: PublicFilter {
            any_tags: query.tag.clone().into_iter().collect(),
            author: query.author.clone(),
            ..Default::default()
        },
        search: None,
        sort: Sort::NewestFirst,
        window: Window::Page(PageRequest::new(Some(1), Some(FEED_ENTRIES))?),
        include_body: true,
        include_text: false,
        fields: None,
    };
    let now = state.db.now();
    let listed = state.db.run(move |conn| store::list_public(conn, now, &request)).await?;

    // Links come from the configured address, never from `Host` or forwarding headers: this
    // response is cached and served to everyone who asks for the same URL.
    let base = &state.public_base;
    let authority = entry_id_authority(base);
    // The feed's own address as the cache keys it, however the request spelled it.
    let mut self_url = format!("{base}/api/v1/feed.atom");
    let filters = [("tag", &query.tag), ("author", &query.author)];
    if filters.iter().any(|(_, value)| value.is_some()) {
        let present = filters.iter().filter_map(|(name, value)| Some((*name, value.as_deref()?)));
        self_url.push('?');
        self_url.push_str(&form_urlencoded::Serializer::new(String::new()).extend_pairs(present).finish());
    }
    let mut title = "Masthead".to_string();
    if let Some(tag) = &query.tag {
        title.push_str(&format!(" — tag {tag}"));
    }
    if let Some(author) = &query.author {
        title.push_str(&format!(" — by {author}"));
    }
    let entries: Vec<Entry> = listed
        .items
        .into_iter()
        .map(|article| {
            let url = format!("{base}/api/v1/articles/{}", article.slug);
            Entry {
                // Permanent, as Atom asks: feed readers show an entry with a new id as a new
                // article, so the id follows the article's id, not its slug.
                id: format!("tag:{authority},2026:articles/{}", article.id),
                title: Text::plain(article.title),
                updated: article.updated_at.fixed_offset(),
                published: Some(article.published_at.fixed_offset()),
                authors: article.authors.into_iter().map(|a| Person { name: a.name, ..Default::default() }).collect(),
                categories: article
                    .tags
                    .into_iter()
                    .map(|t| Category { term: t.slug, label: Some(t.name), ..Default::default() })
                    .collect(),
                links: vec![Link {
                    href: url,
                    rel: "alternate".into(),
                    mime_type: Some("application/json".into()),
                    ..Default::default()
                }],
                summary: Some(Text::plain(article.excerpt)),
                content: article.body_html.map(|html| Content {
                    value: Some(html),
                    content_type: Some("html".into()),
                    ..Default::default()
                }),
                ..Default::default()
            }
        })
        .collect();
    let updated: DateTime<Utc> =
        entries.iter().map(|e| e.updated.with_timezone(&Utc)).max().unwrap_or_else(|| now.and_utc());
    let feed = Feed {
        title: Text::plain(title),
        id: self_url.clone(),
        updated: updated.fixed_offset(),
        links: vec![Link {
            href: self_url,
            rel: "self".into(),
            mime_type: Some("application/atom+xml".into()),
            ..Default::default()
        }],
        generator: Some(atom_syndication::Generator { value: "Masthead".into(), ..Default::default() }),
        entries,
        ..Default::default()
    };
    let bytes = feed.write_to(Vec::new()).map_err(|e| ApiError::Internal(format!("cannot write the feed: {e}")))?;
    Ok(public_bytes(&req, &state, bytes, "application/atom+xml; charset=utf-8", None))
}

/// The authority of the feed's `tag:` entry ids (RFC 4151): the host of the public address,
/// without a port, which a tag may not carry.
fn entry_id_authority(base: &str) -> &str {
    let host = base.split_once("://").map_or(base, |(_, rest)| rest);
    let host = host.split('/').next().unwrap_or(host);
    match host.rsplit_once(':') {
        Some((name, port))
            if !port.is_empty()
                && port.bytes().all(|b| b.is_ascii_digit())
                && (!name.contains(':') || name.ends_with(']')) =>
        {
            name
        }
        _ => host,
    }
}

#[cfg(test)]
mod tests {
    use super::entry_id_authority;

    #[test]
    fn entry_ids_name_the_host_without_its_port() {
        assert_eq!(entry_id_authority("https://news.example.com"), "news.example.com");
        assert_eq!(entry_id_authority("http://news.example.com:8080/cms"), "news.example.com");
        assert_eq!(entry_id_authority("http://[::1]:8080"), "[::1]");
        assert_eq!(entry_id_authority("http://[::1]"), "[::1]");
    }
}
