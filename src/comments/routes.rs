//! Comment routes: readers post and read threads (public), editors moderate (editor routes).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::model::{
    AdminComment, CommentReceipt, CommentStatus, MAX_BODY_CHARS, MAX_EMAIL_CHARS, MAX_MODERATED_AT_ONCE,
    MAX_NAME_CHARS, ModerateComment, ModerateComments, PostComment, PublicComment,
};
use super::screening::spam_reason;
use super::store::{self, AdminCommentFilter, Poster, Submission};
use crate::auth::{AuthUser, MaybeAuthUser, Role};
use crate::db;
use crate::email;
use crate::error::{ApiError, Problem, Validator};
use crate::http::extract::{JsonBody, QueryParams, client_address};
use crate::http::state::AppState;
use crate::http::state::cpu_bound;
use crate::markdown::{MAX_NESTING, nesting_depth};
use crate::pagination::{Item, PageRequest, Paginated};

/// `?page=&per_page=&sort=` of a public thread.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ThreadQuery {
    /// Page number of top-level comments, from 1.
    #[param(minimum = 1, maximum = 1000000000, default = 1)]
    #[serde(default, deserialize_with = "crate::pagination::page_number")]
    pub page: Option<i64>,
    /// Top-level comments per page (their replies come with them).
    #[param(minimum = 1, maximum = 100, default = 20)]
    #[serde(default, deserialize_with = "crate::pagination::page_number")]
    pub per_page: Option<i64>,
    /// Top-level comments oldest first (default) or newest first. Replies are always oldest first.
    #[param(inline)]
    pub sort: Option<ThreadSort>,
}

/// Orders of a thread's top-level comments.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
pub enum ThreadSort {
    #[default]
    #[serde(rename = "created_at")]
    OldestFirst,
    #[serde(rename = "-created_at")]
    NewestFirst,
}

fn article_not_found() -> ApiError {
    ApiError::NotFound("no published article has this slug".into())
}

/// An article's approved comments, as a thread: a page of top-level comments, each with its
/// replies nested under it. Never shows e-mail addresses.
#[utoipa::path(
    tag = "Comments",
    operation_id = "listComments",
    params(
        ("slug" = String, Path, description = "The article's slug", example = "hello-world-again"),
        ThreadQuery,
    ),
    responses(
        (status = 200, description = "A page of the thread; `meta.total` counts top-level comments", body = Paginated<PublicComment>),
        (status = 404, description = "No published article has this slug", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/articles/{slug}/comments")]
pub async fn list_comments(
    req: HttpRequest,
    state: web::Data<AppState>,
    slug: web::Path<String>,
    QueryParams(query): QueryParams<ThreadQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = PageRequest::new(query.page, query.per_page)?;
    let newest_first = query.sort.unwrap_or_default() == ThreadSort::NewestFirst;
    let slug = slug.into_inner();
    let now = state.db.now();
    let (article, (data, total)) = state
        .db
        .run(move |conn| {
            let article = store::find_target(conn, now, &slug)?.ok_or_else(article_not_found)?;
            Ok((article.id, store::thread(conn, article.id, page, newest_first)?))
        })
        .await?;
    let response =
        crate::http::responses::public_json(&req, &state, &Paginated { data, meta: page.meta(total) }, None)?;
    Ok(crate::http::cache::shows_only_article(response, article))
}

/// Checks and renders a reader's comment (off the connection: rendering is CPU work).
fn submission(input: &PostComment) -> Result<Submission, ApiError> {
    let name = input.author_name.trim();
    let email = email::normalize(&input.author_email);
    let body = input.body.trim();
    let mut v = Validator::new();
    v.untrimmed_max("author_name", Some(&input.author_name), MAX_NAME_CHARS)
        .untrimmed_max("author_email", Some(&input.author_email), MAX_EMAIL_CHARS)
        .untrimmed_max("body", Some(&input.body), MAX_BODY_CHARS);
    v.chars("author_name", name, 1, MAX_NAME_CHARS)
        .check(!name.chars().any(char::is_control), "author_name", "must not contain control characters")
        .check(
            email::is_plausible(&email) && email.chars().count() <= MAX_EMAIL_CHARS,
            "author_email",
            "must be an e-mail address such as reader@example.com",
        )
        .chars("body", body, 1, MAX_BODY_CHARS)
        .check(input.parent_id.is_none_or(|id| id >= 1), "parent_id", "must be a comment id (1 or more)")
        .check(
            input.website.as_ref().is_none_or(|w| w.chars().count() <= 2048),
            "website",
            "must be at most 2048 characters",
        );
    v.finish()?;
    if nesting_depth(body) > MAX_NESTING {
        return Err(ApiError::invalid("body", format!("must not nest more than {MAX_NESTING} levels deep")));
    }
    Ok(Submission {
        author_name: name.to_string(),
        author_email: email,
        body: body.to_string(),
        body_html: super::render::render_comment(body),
        parent_id: input.parent_id,
        spam_reason: None,
    })
}

/// Who the rate limit counts: a hash of the client's address keyed with the server's secret, so
/// that stored hashes cannot be turned back into addresses.
fn client_hash(state: &AppState, address: &str) -> String {
    let key = state.config.jwt_secret.as_ref().map(|s| s.expose()).unwrap_or_default();
    let digest = Sha256::new().chain_update(key).chain_update(b"\0comment-client\0").chain_update(address).finalize();
    base16ct::lower::encode_string(&digest[..16])
}

/// Posts a comment on a published article. Readers need no account; the comment waits for
/// moderation (`pending`) unless the site approves comments at once, its author has an approved
/// comment already, or the abuse rules send it to `spam`. With a staff member's bearer token the
/// comment is theirs (their account's name and e-mail are used), marked as staff and approved at
/// once (authors and above). The e-mail is never shown publicly.
#[utoipa::path(
    tag = "Comments",
    operation_id = "postComment",
    params(("slug" = String, Path, description = "The article's slug", example = "hello-world-again")),
    request_body = PostComment,
    security((), ("bearer" = [])),
    responses(
        (status = 202, description = "Received; `status` says whether it is public yet", body = Item<CommentReceipt>),
        (status = 401, description = "A bearer token was sent but is invalid or expired", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Comments are closed on this article, or a contributor's token was sent", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No published article has this slug, or `parent_id` is not an approved comment of it", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`parent_id` is at the deepest level threads may reach", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/articles/{slug}/comments")]
pub async fn post_comment(
    req: HttpRequest,
    state: web::Data<AppState>,
    MaybeAuthUser(user): MaybeAuthUser,
    slug: web::Path<String>,
    JsonBody(input): JsonBody<PostComment>,
) -> Result<HttpResponse, ApiError> {
    let settings = state.config.comments.clone();
    let mut submission = {
        let settings = settings.clone();
        cpu_bound(move || {
            let mut submission = submission(&input)?;
            submission.spam_reason = spam_reason(&input, &settings);
            Ok(submission)
        })
        .await?
    };
    let poster = match user {
        Some(user) => {
            // Staff comments skip moderation: only roles that may publish get that.
            user.require(Role::Author).map_err(|_| {
                ApiError::Forbidden(
                    "contributors cannot comment as staff; post without a token to comment as a reader".into(),
                )
            })?;
            submission.spam_reason = None;
            Poster::Staff { author_id: user.id }
        }
        None => Poster::Reader { client_hash: client_hash(&state, &client_address(&req, state.config.trust_proxy)) },
    };
    let slug = slug.into_inner();
    let now = state.db.now();
    let row = state.db.run(move |conn| store::post(conn, now, &slug, poster, submission, &settings)).await?;
    let receipt = CommentReceipt::new(row);
    Ok(crate::http::responses::private_json(StatusCode::ACCEPTED, &Item { data: receipt }))
}

/// `?status=&article=&q=&page=&per_page=` of the moderation queue.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AdminCommentQuery {
    /// Only comments in this state.
    #[param(inline)]
    pub status: Option<CommentStatus>,
    /// Only comments on this article (its id).
    #[param(minimum = 1)]
    pub article: Option<i64>,
    /// Words in the body, the name or the e-mail (case-insensitive).
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// Page number, from 1.
    #[param(minimum = 1, maximum = 1000000000, default = 1)]
    #[serde(default, deserialize_with = "crate::pagination::page_number")]
    pub page: Option<i64>,
    /// Comments per page.
    #[param(minimum = 1, maximum = 100, default = 20)]
    #[serde(default, deserialize_with = "crate::pagination::page_number")]
    pub per_page: Option<i64>,
}

/// The moderation queue, newest first. Editors and admins see every comment; authors and
/// contributors see the comments on their own articles.
#[utoipa::path(
    tag = "Comments",
    operation_id = "adminListComments",
    params(AdminCommentQuery),
    responses(
        (status = 200, description = "A page of comments, e-mail addresses included", body = Paginated<AdminComment>),
    )
)]
#[get("/comments")]
pub async fn admin_list_comments(
    user: AuthUser,
    state: web::Data<AppState>,
    QueryParams(query): QueryParams<AdminCommentQuery>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Contributor)?;
    let page = PageRequest::new(query.page, query.per_page)?;
    let text = query.q.map(|q| q.trim().to_string()).filter(|q| !q.is_empty());
    Validator::new()
        .check(query.article.is_none_or(|id| id >= 1), "article", "must be an article id (1 or more)")
        .check(text.as_ref().is_none_or(|q| q.chars().count() <= 200), "q", "must be at most 200 characters")
        .finish()?;
    let filter = AdminCommentFilter {
        status: query.status,
        article: query.article,
        text,
        byline: (!user.role.edits_all_articles()).then_some(user.id),
    };
    let (data, total) = state.db.run(move |conn| store::list_admin(conn, &filter, page)).await?;
    Ok(crate::http::responses::private_json(StatusCode::OK, &Paginated { data, meta: page.meta(total) }))
}

/// Approves a comment, or marks it as spam or rejected. Editors and admins.
#[utoipa::path(
    tag = "Comments",
    operation_id = "adminModerateComment",
    params(("id" = i64, Path, description = "The comment's id", minimum = 1)),
    request_body = ModerateComment,
    responses(
        (status = 200, description = "The comment, moderated", body = Item<AdminComment>),
        (status = 403, description = "Only editors and admins moderate", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No comment has this id", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/comments/{id}")]
pub async fn admin_moderate_comment(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    JsonBody(input): JsonBody<ModerateComment>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Editor)?;
    let id = id.into_inner();
    let status = input.status.into();
    let mut moderated = state.db.run(move |conn| store::moderate(conn, &[id], status, db::now())).await?;
    Ok(crate::http::responses::private_json(StatusCode::OK, &Item { data: moderated.remove(0) }))
}

/// Comments moderated at once.
#[derive(Debug, Serialize, ToSchema)]
pub struct ModeratedComments {
    /// In the order of `ids`.
    pub data: Vec<AdminComment>,
}

/// One decision for up to 100 comments, all or none: when an id is unknown nothing changes.
/// Editors and admins.
#[utoipa::path(
    tag = "Comments",
    operation_id = "adminModerateComments",
    request_body = ModerateComments,
    responses(
        (status = 200, description = "The comments, moderated", body = ModeratedComments),
        (status = 403, description = "Only editors and admins moderate", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "An id is not a comment; nothing was changed", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/comments/moderate")]
pub async fn admin_moderate_comments(
    user: AuthUser,
    state: web::Data<AppState>,
    JsonBody(input): JsonBody<ModerateComments>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Editor)?;
    Validator::new()
        .check(
            (1..=MAX_MODERATED_AT_ONCE).contains(&input.ids.len()),
            "ids",
            format!("must hold 1 to {MAX_MODERATED_AT_ONCE} ids"),
        )
        .finish()?;
    let status = input.status.into();
    let mut ids = Vec::with_capacity(input.ids.len());
    for id in input.ids {
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    let data = state.db.run(move |conn| store::moderate(conn, &ids, status, db::now())).await?;
    Ok(crate::http::responses::private_json(StatusCode::OK, &ModeratedComments { data }))
}

/// Removes a comment for good. When it has replies, a placeholder without its name, e-mail or
/// text keeps its place in the thread. Editors and admins.
#[utoipa::path(
    tag = "Comments",
    operation_id = "adminDeleteComment",
    params(("id" = i64, Path, description = "The comment's id", minimum = 1)),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "Only editors and admins remove comments", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No comment has this id", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/comments/{id}")]
pub async fn admin_delete_comment(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Editor)?;
    let id = id.into_inner();
    state.db.run(move |conn| store::delete(conn, id, db::now())).await?;
    Ok(crate::http::responses::private_no_content())
}

/// The routes under `/api/v1` that anyone may call.
pub fn public(cfg: &mut ServiceConfig) {
    cfg.service(list_comments).service(post_comment);
}

/// The routes under `/api/v1/admin`, for staff.
pub fn editor(cfg: &mut ServiceConfig) {
    cfg.service(admin_list_comments)
        .service(admin_moderate_comments)
        .service(admin_moderate_comment)
        .service(admin_delete_comment);
}
