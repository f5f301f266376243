//! The committed contract, `openapi/openapi.json`, is what the code generates.

use serde_json::{Value, json};

/// Fails when the committed document is stale. To refresh it:
/// `cargo run -- openapi > openapi/openapi.json` (or run the tests with `MASTHEAD_UPDATE_OPENAPI=1`).
#[test]
fn committed_openapi_document_is_current() {
    let generated = masthead::app::document_json();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");
    if std::env::var("MASTHEAD_UPDATE_OPENAPI").is_ok_and(|v| v == "1") {
        std::fs::write(path, &generated).expect("write openapi/openapi.json");
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == generated,
        "openapi/openapi.json is stale: run `cargo run -- openapi > openapi/openapi.json` and commit it"
    );
}

#[test]
fn every_operation_is_documented_for_code_generators() {
    let document = serde_json::to_value(masthead::app::document()).unwrap();
    let mut operation_ids = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let id = operation["operationId"].as_str().unwrap_or_else(|| panic!("{method} {path} has no operationId"));
            operation_ids.push(id.to_string());
            assert!(operation["tags"].as_array().is_some_and(|t| !t.is_empty()), "{method} {path} has no tag");
            let needs_token = path.starts_with("/api/v1/admin/")
                || ["/api/v1/auth/me", "/api/v1/auth/password"].contains(&path.as_str());
            // Posting a comment takes a token optionally: staff comments are marked as such.
            let takes_token = method == "post" && path == "/api/v1/articles/{slug}/comments";
            // The scope an integration token needs, where one may call the route at all.
            let scope = match (path.split('/').nth(4), method.as_str()) {
                (Some("articles" | "tags" | "media" | "redirects"), "get") => Some("content:read"),
                (Some("media"), _) => Some("media:write"),
                (Some("articles"), "post") if path.ends_with("/preview") => Some("content:read"),
                (Some("articles" | "tags" | "redirects"), _) => Some("content:write"),
                (Some("comments"), _) if path.starts_with("/api/v1/admin/") => Some("comments:moderate"),
                (Some("webhooks"), _) => Some("webhooks:manage"),
                _ => None,
            };
            let expected = match (needs_token, takes_token) {
                (true, _) => json!([{"bearer": scope.into_iter().collect::<Vec<_>>()}]),
                (false, true) => json!([{}, {"bearer": []}]),
                (false, false) => json!([]),
            };
            let security = operation.get("security").cloned().unwrap_or(Value::Null);
            assert_eq!(
                security, expected,
                "{method} {path}: bearer security (and tokens' scopes) on exactly the routes that take it"
            );
            let responses = operation["responses"].as_object().unwrap();
            if needs_token {
                assert!(responses.contains_key("401"), "{method} {path} does not document 401");
            }
            for (status, response) in responses {
                // Shared error responses are references to components.responses.
                let response = match response["$ref"].as_str() {
                    Some(reference) => {
                        let name = reference.strip_prefix("#/components/responses/").expect("a response reference");
                        &document["components"]["responses"][name]
                    }
                    None => response,
                };
                if status.starts_with('4') || status.starts_with('5') {
                    assert!(
                        response["content"].get("application/problem+json").is_some(),
                        "{method} {path} {status} is not documented as problem+json"
                    );
                }
            }
        }
    }
    // Links name operations that exist, and creations link to what acts on them.
    let mut linked = 0;
    for item in document["paths"].as_object().unwrap().values() {
        for operation in item.as_object().unwrap().values() {
            for response in operation["responses"].as_object().unwrap().values() {
                for link in response["links"].as_object().into_iter().flatten().map(|(_, link)| link) {
                    let target = link["operationId"].as_str().unwrap();
                    assert!(operation_ids.iter().any(|id| id == target), "a link to {target}, which does not exist");
                    // Each parameter comes from a field the response has (its example is composed
                    // from the schema), and the target takes a parameter of that name.
                    let parameters = link["parameters"].as_object().unwrap();
                    for (name, expression) in parameters {
                        let pointer = expression.as_str().unwrap().strip_prefix("$response.body#").unwrap();
                        let example = &response["content"]["application/json"]["example"];
                        assert!(example.pointer(pointer).is_some(), "{target}: `{pointer}` is not in the response");
                        let takes = document["paths"]
                            .as_object()
                            .unwrap()
                            .values()
                            .flat_map(|i| i.as_object().unwrap().values());
                        let takes = takes
                            .filter(|op| op["operationId"] == target)
                            .flat_map(|op| op["parameters"].as_array().into_iter().flatten())
                            .any(|p| p["name"] == name.as_str());
                        assert!(takes, "{target} takes no parameter `{name}`");
                    }
                    linked += 1;
                }
            }
        }
    }
    assert!(linked >= 21, "creations link to their follow-up operations ({linked})");
    let count = operation_ids.len();
    operation_ids.sort();
    operation_ids.dedup();
    assert_eq!(operation_ids.len(), count, "operation ids are unique");
    assert!(count >= 30, "every route is in the document ({count})");
}

#[test]
fn list_bounds_are_in_the_document() {
    let document = serde_json::to_value(masthead::app::document()).unwrap();
    let params = document["paths"]["/api/v1/articles"]["get"]["parameters"].as_array().unwrap();
    let per_page = params.iter().find(|p| p["name"] == "per_page").unwrap();
    assert_eq!(per_page["schema"]["minimum"], 1);
    assert_eq!(per_page["schema"]["maximum"], 100);
    assert_eq!(per_page["schema"]["default"], 20);
}

/// utoipa's attributes take only literals, so the shared patterns are repeated on each field: every
/// copy in the document must be the one the server's checks were written against.
#[test]
fn shared_patterns_are_the_same_everywhere() {
    fn patterns(value: &Value, found: &mut Vec<String>) {
        match value {
            Value::Object(fields) => {
                if let Some(Value::String(pattern)) = fields.get("pattern") {
                    found.push(pattern.clone());
                }
                fields.values().for_each(|v| patterns(v, found));
            }
            Value::Array(items) => items.iter().for_each(|v| patterns(v, found)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    patterns(&serde_json::to_value(masthead::app::document()).unwrap(), &mut found);
    let not_blank: Vec<&String> = found.iter().filter(|p| p.contains("\\u1680") && !p.starts_with('^')).collect();
    let urls: Vec<&String> = found.iter().filter(|p| p.contains("https?://")).collect();
    assert!(not_blank.len() >= 8 && urls.len() >= 7, "{} and {}", not_blank.len(), urls.len());
    assert!(not_blank.iter().all(|p| *p == masthead::http::openapi::NOT_BLANK), "{not_blank:?}");
    let (optional, outbound) = (masthead::http::openapi::OPTIONAL_HTTP_URL, masthead::http::openapi::OUTBOUND_URL);
    let redirect_target = masthead::redirects::model::TARGET_PATTERN;
    assert!(urls.iter().all(|p| *p == optional || *p == outbound || *p == redirect_target), "{urls:?}");
    assert_eq!(urls.iter().filter(|p| **p == outbound).count(), 2, "webhook URLs, created and changed");
}
