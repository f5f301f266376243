//! `GET /sitemap.xml` and its numbered parts, `GET /sitemap-{n}.xml`. They list the front end's
//! URLs, so the front end serves them at its own origin (a proxy to these routes): by the
//! protocol, a sitemap lists URLs of its own host.

use actix_web::{HttpRequest, HttpResponse, get, web};
use chrono::NaiveDateTime;
use quick_xml::escape::escape;

use super::store::{self, Entry, Kind};
use crate::db::snapshot;
use crate::error::{ApiError, Problem};
use crate::http::responses::public_bytes;
use crate::http::state::AppState;
use crate::site::{SITEMAP_MAX_URLS, SiteSettings};

const XML: &str = "application/xml";
const NAMESPACE: &str = "http://www.sitemaps.org/schemas/sitemap/0.9";

fn site_url(state: &AppState) -> Result<&str, ApiError> {
    state.config.site.url.as_deref().ok_or_else(|| {
        ApiError::NotFound(
            "no sitemap: set MASTHEAD_SITE_URL to the front end's address (and MASTHEAD_ARTICLE_PATH to its \
             article paths) to have one"
                .into(),
        )
    })
}

/// The sitemap: every published article, and every tag and author with published work, at the
/// front end's URLs (`MASTHEAD_SITE_URL`, `MASTHEAD_ARTICLE_PATH`, `MASTHEAD_TAG_PATH`,
/// `MASTHEAD_AUTHOR_PATH`), with `lastmod`. Past `MASTHEAD_SITEMAP_PART_URLS` URLs (at most
/// 50,000) it is a sitemap index of `/sitemap-1.xml`, `/sitemap-2.xml`, ….
#[utoipa::path(
    tag = "Content",
    operation_id = "getSitemap",
    responses(
        (status = 200, description = "A sitemap (`urlset`) or a sitemap index", body = String, content_type = "application/xml"),
        (status = 404, description = "`MASTHEAD_SITE_URL` is not set", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/sitemap.xml")]
pub async fn sitemap(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let site = site_url(&state)?.to_string();
    let now = state.db.now();
    let configured = state.config.site.sitemap_part_urls as i64;
    // Counted and listed in one snapshot: a write in between cannot make them disagree.
    let (counts, entries) = state
        .db
        .run(move |conn| {
            snapshot(conn, |conn| {
                let counts = store::counts(conn, now)?;
                let entries = match counts.total() <= configured {
                    true => store::entries(conn, now, counts, 0, configured)?,
                    false => Vec::new(),
                };
                Ok((counts, entries))
            })
        })
        .await?;
    let xml = if counts.total() <= configured {
        urlset(&site, &state.config.site, &entries)
    } else {
        let part_urls = part_size(counts.total(), configured);
        index(&site, (counts.total() + part_urls - 1) / part_urls)
    };
    Ok(public_bytes(&req, &state, xml.into_bytes(), XML, None))
}

/// URLs per part: as configured, or more when that would make an index of more than 50,000
/// parts (the protocol's limit for an index too).
fn part_size(total: i64, configured: i64) -> i64 {
    let limit = SITEMAP_MAX_URLS as i64;
    configured.max((total + limit - 1) / limit)
}

/// One part of a sitemap too large for one file.
#[utoipa::path(
    tag = "Content",
    operation_id = "getSitemapPart",
    params(("part" = u32, Path, description = "The part's number, from 1", minimum = 1)),
    responses(
        (status = 200, description = "A sitemap (`urlset`)", body = String, content_type = "application/xml"),
        (status = 404, description = "No such part (the sitemap is one file, or has fewer parts), or `MASTHEAD_SITE_URL` is not set", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/sitemap-{part}.xml")]
pub async fn sitemap_part(
    req: HttpRequest,
    state: web::Data<AppState>,
    part: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let site = site_url(&state)?.to_string();
    let no_part = || ApiError::NotFound("the sitemap has no such part; its parts are listed in /sitemap.xml".into());
    let part: i64 = part.parse().ok().filter(|n| (1..=SITEMAP_MAX_URLS as i64).contains(n)).ok_or_else(no_part)?;
    let now = state.db.now();
    let configured = state.config.site.sitemap_part_urls as i64;
    let entries = state
        .db
        .run(move |conn| {
            snapshot(conn, |conn| {
                let counts = store::counts(conn, now)?;
                // A sitemap of one file has no parts.
                if counts.total() <= configured {
                    return Ok(None);
                }
                let part_urls = part_size(counts.total(), configured);
                if part > (counts.total() + part_urls - 1) / part_urls {
                    return Ok(None);
                }
                Ok(Some(store::entries(conn, now, counts, (part - 1) * part_urls, part_urls)?))
            })
        })
        .await?
        .ok_or_else(no_part)?;
    let xml = urlset(&site, &state.config.site, &entries);
    Ok(public_bytes(&req, &state, xml.into_bytes(), XML, None))
}

fn w3c_datetime(time: NaiveDateTime) -> String {
    time.and_utc().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A `<urlset>` of `entries` at the front end's URLs.
fn urlset(site: &str, paths: &SiteSettings, entries: &[Entry]) -> String {
    let mut xml = String::with_capacity(200 + entries.len() * 120);
    xml.push_str(&format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"{NAMESPACE}\">\n"));
    for entry in entries {
        let path = match entry.kind {
            Kind::Article => paths.article_path.path(&entry.slug, entry.published_at),
            Kind::Tag => paths.tag_path.path(&entry.slug, None),
            Kind::Author => paths.author_path.path(&entry.slug, None),
        };
        let loc = format!("{site}{path}");
        xml.push_str(&format!(
            "<url><loc>{}</loc><lastmod>{}</lastmod></url>\n",
            escape(loc.as_str()),
            w3c_datetime(entry.lastmod)
        ));
    }
    xml.push_str("</urlset>\n");
    xml
}

/// A `<sitemapindex>` of `parts` numbered parts, at the front end's origin.
fn index(site: &str, parts: i64) -> String {
    let mut xml = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<sitemapindex xmlns=\"{NAMESPACE}\">\n");
    for part in 1..=parts {
        let loc = format!("{site}/sitemap-{part}.xml");
        xml.push_str(&format!("<sitemap><loc>{}</loc></sitemap>\n", escape(loc.as_str())));
    }
    xml.push_str("</sitemapindex>\n");
    xml
}

/// The routes at the root, beside `/media`.
pub fn public(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(sitemap).service(sitemap_part);
}
