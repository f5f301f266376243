//! What the document says without any handler saying it: the defaults every operation shares
//! (problems, security, revalidation), examples, links, and the pruning of unused schemas.

use utoipa::openapi::security::SecurityRequirement;

use crate::auth::scopes::{TokenAccess, token_access};
use crate::http::cache;

/// Routes that need a bearer token: the editor routes, and the caller's own account (all of
/// `/auth` but the exchanges that hand tokens out). Each handler enforces it by taking an
/// `AuthUser`; this says so in the document.
fn needs_bearer(path: &str) -> bool {
    const TOKEN_EXCHANGES: [&str; 3] = ["/api/v1/auth/login", "/api/v1/auth/refresh", "/api/v1/auth/logout"];
    path.starts_with("/api/v1/admin/") || (path.starts_with("/api/v1/auth/") && !TOKEN_EXCHANGES.contains(&path))
}

/// What every cached public read answers (see `cache`): `If-None-Match` and 304, with `ETag` and
/// `Cache-Control` on its 200. A single resource adds `If-Modified-Since` and `Last-Modified`
/// itself, after which `If-None-Match` goes.
fn revalidation(operation: &mut utoipa::openapi::path::Operation) {
    use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
    use utoipa::openapi::{RefOr, Required, ResponseBuilder};
    let parameters = operation.parameters.get_or_insert_with(Vec::new);
    let at = parameters
        .iter()
        .position(|p| matches!(p, RefOr::T(p) if p.name == "If-Modified-Since"))
        .unwrap_or(parameters.len());
    let if_none_match = ParameterBuilder::new()
        .name("If-None-Match")
        .parameter_in(ParameterIn::Header)
        .description(Some("An ETag from an earlier response: 304 when it still matches"))
        .required(Required::False)
        .schema(Some(string_schema()));
    parameters.insert(at, RefOr::T(if_none_match.build()));
    let responses = &mut operation.responses.responses;
    let not_modified = ResponseBuilder::new().description("Not modified: the cached copy is current (no body)");
    responses.entry("304".into()).or_insert_with(|| RefOr::T(not_modified.build()));
    if let Some(RefOr::T(ok)) = responses.get_mut("200") {
        ok.headers.entry("ETag".into()).or_insert_with(|| string_header("Strong validator of this response"));
        ok.headers
            .entry("Cache-Control".into())
            .or_insert_with(|| string_header("public, max-age=…, stale-while-revalidate=…"));
    }
}

fn string_schema() -> utoipa::openapi::Object {
    utoipa::openapi::schema::ObjectBuilder::new().schema_type(utoipa::openapi::schema::Type::String).build()
}

/// A response header holding a string.
fn string_header(description: &str) -> utoipa::openapi::RefOr<utoipa::openapi::header::Header> {
    let header = utoipa::openapi::header::HeaderBuilder::new().schema(Some(string_schema()));
    utoipa::openapi::RefOr::T(header.description(Some(description)).build())
}

/// Adds what operations share, so that no handler states it: 400 for a query parameter it does not
/// take (see `unknown_parameters`); bearer security (with the scope an integration token needs),
/// 401 and 403 on editor and account routes; 412, and the next `ETag` on its 200,
/// where `If-Match` is taken; 413, 415, 422, and 408 when the body is too slow and 429 when its
/// client sends too many at once, where a body is read; 422 on paged lists; `If-None-Match`, 304,
/// `ETag` and `Cache-Control` on cached public reads; 503 when the database is out of reach or
/// busy (all but `/healthz`), and 500.
pub fn complete(api: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{Ref, RefOr};
    for (path, item) in api.paths.paths.iter_mut() {
        if let Some(get) = item.get.as_mut()
            && cache::is_cacheable(path)
        {
            revalidation(get);
        }
        let operations = [
            ("GET", &mut item.get),
            ("POST", &mut item.post),
            ("PUT", &mut item.put),
            ("PATCH", &mut item.patch),
            ("DELETE", &mut item.delete),
        ];
        for (method, operation) in operations {
            let Some(operation) = operation else { continue };
            let responses = &mut operation.responses.responses;
            let shared = |name: &str| RefOr::Ref(Ref::from_response_name(name));
            responses.entry("400".into()).or_insert_with(|| shared("BadRequest"));
            if needs_bearer(path) {
                // The scope an integration token needs here, as the caller extractor enforces it.
                let scopes = match token_access(method, path) {
                    TokenAccess::Needs(scope) => vec![scope.as_str()],
                    TokenAccess::Refused(_) => Vec::new(),
                };
                operation.security.get_or_insert_with(|| vec![SecurityRequirement::new("bearer", scopes)]);
            }
            let takes_bearer =
                operation.security.iter().flatten().any(|requirement| *requirement != SecurityRequirement::default());
            if takes_bearer {
                responses.entry("401".into()).or_insert_with(|| shared("Unauthorized"));
                responses.entry("403".into()).or_insert_with(|| shared("Forbidden"));
            }
            if operation.parameters.iter().flatten().any(|p| matches!(p, RefOr::T(p) if p.name == "If-Match")) {
                responses.entry("412".into()).or_insert_with(|| shared("PreconditionFailed"));
                // A write that checks the version answers with the next one (for the next If-Match).
                if let Some(RefOr::T(ok)) = responses.get_mut("200") {
                    ok.headers.entry("ETag".into()).or_insert_with(|| string_header("Its new version"));
                }
            }
            // Paged lists check their page bounds (and filters) like bodies are checked.
            if operation.parameters.iter().flatten().any(|p| matches!(p, RefOr::T(p) if p.name == "page")) {
                responses.entry("422".into()).or_insert_with(|| shared("ValidationFailed"));
            }
            if operation.request_body.is_some() {
                responses.entry("413".into()).or_insert_with(|| shared("PayloadTooLarge"));
                responses.entry("415".into()).or_insert_with(|| shared("UnsupportedMediaType"));
                responses.entry("422".into()).or_insert_with(|| shared("ValidationFailed"));
                responses.entry("408".into()).or_insert_with(|| RefOr::Ref(Ref::from_response_name("RequestTimeout")));
                // One address may send only a few bodies at once (`body::BODIES_PER_CLIENT`).
                responses.entry("429".into()).or_insert_with(|| RefOr::Ref(Ref::from_response_name("TooManyRequests")));
            }
            if path != "/healthz" {
                responses.entry("503".into()).or_insert_with(|| RefOr::Ref(Ref::from_response_name("Unavailable")));
            }
            responses.entry("500".into()).or_insert_with(|| RefOr::Ref(Ref::from_response_name("InternalError")));
            for parameter in operation.parameters.iter_mut().flatten() {
                if let RefOr::T(parameter) = parameter {
                    never_null(parameter);
                }
            }
            // Public: say so (`security: []`) rather than leave it unsaid.
            operation.security.get_or_insert_with(Vec::new);
        }
    }
    if let Some(components) = api.components.as_mut() {
        list_items_may_be_partial(components);
        accounts_need_both_credentials(components);
    }
    drop_unused_schemas(api);
    response_examples(api);
    links(api);
}

/// OpenAPI links from what creates (or publishes) a resource to what acts on it, by the id, slug
/// or token in the answer: client generators and Schemathesis' stateful phase follow them
/// (create, then read, change, publish, comment, trash, delete).
fn links(api: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::RefOr;
    use utoipa::openapi::link::LinkBuilder;
    const ARTICLE: &[&str] = &[
        "adminGetArticle",
        "adminUpdateArticle",
        "adminPublishArticle",
        "adminUnpublishArticle",
        "adminCreatePreview",
        "adminListRevisions",
        "adminDeleteArticle",
        "adminRestoreArticle",
    ];
    let table: [(&str, &str, &str, &[&str]); 6] = [
        ("/api/v1/admin/articles", "201", "id", ARTICLE),
        // A published article is public by its slug (at once, unless scheduled): read it, comment.
        (
            "/api/v1/admin/articles/{id}/publish",
            "200",
            "slug",
            &["getArticle", "listComments", "postComment", "listRelatedArticles"],
        ),
        ("/api/v1/admin/articles/{id}/preview", "201", "token", &["getPreview"]),
        ("/api/v1/admin/authors", "201", "id", &["adminGetAuthor", "adminUpdateAuthor", "adminDeleteAuthor"]),
        ("/api/v1/admin/tags", "201", "id", &["adminGetTag", "adminUpdateTag", "adminDeleteTag"]),
        ("/api/v1/articles/{slug}/comments", "202", "id", &["adminModerateComment", "adminDeleteComment"]),
    ];
    for (path, status, parameter, targets) in table {
        let Some(RefOr::T(response)) = api
            .paths
            .paths
            .get_mut(path)
            .and_then(|item| item.post.as_mut())
            .and_then(|operation| operation.responses.responses.get_mut(status))
        else {
            continue;
        };
        for target in targets {
            let link = LinkBuilder::new()
                .operation_id(*target)
                .parameter(parameter, format!("$response.body#/data/{parameter}"))
                .description(format!("`{parameter}` of the created resource"))
                .build();
            response.links.insert((*target).to_string(), RefOr::T(link));
        }
    }
}

/// Gives every JSON success response an example, composed from the examples of its fields (and
/// plain placeholders where a field has none), so that integrators and tools see a whole response
/// for every operation without a second, hand-written copy of it that could drift.
fn response_examples(api: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::RefOr;
    let document = serde_json::to_value(&*api).unwrap_or_default();
    let schemas = document["components"]["schemas"].clone();
    for item in api.paths.paths.values_mut() {
        let operations = [&mut item.get, &mut item.post, &mut item.put, &mut item.patch, &mut item.delete];
        for operation in operations.into_iter().flatten() {
            for (status, response) in operation.responses.responses.iter_mut() {
                let RefOr::T(response) = response else { continue };
                if !status.starts_with('2') {
                    continue;
                }
                for (content_type, content) in response.content.iter_mut() {
                    let RefOr::T(content) = content else { continue };
                    if content_type != "application/json" || content.example.is_some() {
                        continue;
                    }
                    let schema = serde_json::to_value(&content.schema).unwrap_or_default();
                    content.example = Some(example_of(&schema, &schemas, 0));
                }
            }
        }
    }
}

/// An example value for a JSON schema (a document fragment), resolving `$ref`s in `schemas`.
/// `refs` counts the references followed: past a few, lists are shown empty, which ends recursive
/// shapes (replies of replies) with a value that still fits the schema.
fn example_of(schema: &serde_json::Value, schemas: &serde_json::Value, refs: usize) -> serde_json::Value {
    use serde_json::{Value, json};
    if let Some(example) = schema.get("example").or_else(|| schema.get("examples").and_then(|e| e.get(0))) {
        return example.clone();
    }
    if let Some(name) = schema.get("$ref").and_then(Value::as_str).and_then(|r| r.rsplit('/').next()) {
        // A shape that refers to itself other than through a list would never end.
        return if refs > 16 { Value::Null } else { example_of(&schemas[name], schemas, refs + 1) };
    }
    if let Some(parts) = schema.get("allOf").and_then(Value::as_array) {
        let mut merged = serde_json::Map::new();
        for part in parts {
            if let Value::Object(fields) = example_of(part, schemas, refs) {
                merged.extend(fields);
            }
        }
        return Value::Object(merged);
    }
    if let Some(variants) = schema.get("oneOf").or_else(|| schema.get("anyOf")).and_then(Value::as_array) {
        let chosen = variants.iter().find(|v| v.get("type") != Some(&json!("null"))).unwrap_or(&Value::Null);
        return example_of(chosen, schemas, refs);
    }
    if let Some(first) = schema.get("enum").and_then(|e| e.get(0)) {
        return first.clone();
    }
    let kind = match schema.get("type") {
        Some(Value::Array(kinds)) => kinds.iter().find(|k| *k != "null").cloned().unwrap_or(Value::Null),
        Some(kind) => kind.clone(),
        None if schema.get("properties").is_some() => json!("object"),
        None => Value::Null,
    };
    match kind.as_str() {
        Some("object") => {
            let fields = schema.get("properties").and_then(Value::as_object).into_iter().flatten();
            Value::Object(fields.map(|(name, property)| (name.clone(), example_of(property, schemas, refs))).collect())
        }
        Some("array") if refs > 4 => json!([]),
        Some("array") => {
            let item = schema.get("items").map_or(Value::Null, |items| example_of(items, schemas, refs));
            if item.is_null() { json!([]) } else { json!([item]) }
        }
        Some("string") => match schema.get("format").and_then(Value::as_str) {
            Some("date-time") => json!("2026-11-25T08:00:00Z"),
            Some("email") => json!("ada@example.com"),
            Some("uri") => json!("https://example.com/"),
            _ => json!("string"),
        },
        Some("integer") => schema.get("minimum").cloned().unwrap_or(json!(1)),
        Some("number") => json!(1.0),
        Some("boolean") => json!(true),
        _ => Value::Null,
    }
}

/// utoipa registers a component for every type named in a response, also when it only appears
/// inlined in a generic wrapper (`Item<AdminArticle>`); keep the ones something refers to.
fn drop_unused_schemas(api: &mut utoipa::openapi::OpenApi) {
    let Some(mut components) = api.components.take() else {
        return;
    };
    let mut schemas = std::mem::take(&mut components.schemas);
    api.components = Some(components);
    // Everything outside the schemas, then each schema found to be used, until nothing new is.
    let mut pending = vec![serde_json::to_string(&*api).unwrap_or_default()];
    let mut kept = std::collections::BTreeMap::new();
    while let Some(text) = pending.pop() {
        let used: Vec<String> =
            schemas.keys().filter(|name| text.contains(&format!("\"#/components/schemas/{name}\""))).cloned().collect();
        for name in used {
            if let Some(schema) = schemas.remove(&name) {
                pending.push(serde_json::to_string(&schema).unwrap_or_default());
                kept.insert(name, schema);
            }
        }
    }
    if let Some(components) = api.components.as_mut() {
        components.schemas = kept;
    }
}

/// An optional parameter is absent or a value, never JSON `null` (a query string or a header has
/// no such thing), though utoipa types an optional header as `["string", "null"]`.
fn never_null(parameter: &mut utoipa::openapi::path::Parameter) {
    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::{Schema, SchemaType, Type};
    if let Some(RefOr::T(Schema::Object(object))) = parameter.schema.as_mut()
        && let SchemaType::Array(types) = &object.schema_type
    {
        let types: Vec<Type> = types.iter().filter(|t| **t != Type::Null).cloned().collect();
        object.schema_type = match &types[..] {
            [one] => SchemaType::Type(one.clone()),
            _ => SchemaType::Array(types),
        };
    }
}

/// The items of `GET /api/v1/articles`: every field of an `ArticleSummary`, except that with
/// `fields=` only the fields asked for are present, so the list's items require none.
fn list_items_may_be_partial(components: &mut utoipa::openapi::Components) {
    use utoipa::openapi::schema::{ArrayItems, Schema};
    use utoipa::openapi::{Ref, RefOr};
    let Some(RefOr::T(Schema::Object(summary))) = components.schemas.get("ArticleSummary") else {
        return;
    };
    let mut item = summary.clone();
    item.required.clear();
    item.description = Some(
        "An article in the public list: every field of `ArticleSummary`, or with `fields=` only the \
         fields asked for."
            .into(),
    );
    components.schemas.insert("ArticleListItem".into(), RefOr::T(Schema::Object(item)));
    if let Some(RefOr::T(Schema::Object(list))) = components.schemas.get_mut("ArticleList")
        && let Some(RefOr::T(Schema::Array(data))) = list.properties.get_mut("data")
    {
        data.items = ArrayItems::RefOrSchema(Box::new(RefOr::Ref(Ref::from_schema_name("ArticleListItem"))));
    }
}

/// A new author is an account with an e-mail *and* a password (and then may have a role), or a
/// byline without any of the three (JSON Schema `dependentRequired`).
fn accounts_need_both_credentials(components: &mut utoipa::openapi::Components) {
    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::Schema;
    if let Some(RefOr::T(Schema::Object(create))) = components.schemas.get_mut("CreateAuthor") {
        let dependent = serde_json::json!({
            "email": ["password"],
            "password": ["email"],
            "role": ["email", "password"],
        });
        create.extensions.get_or_insert_with(Default::default).insert("dependentRequired".into(), dependent);
    }
}
