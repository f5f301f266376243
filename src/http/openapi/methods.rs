//! Which methods each path answers and which query parameters each operation takes, read from
//! the document: for 405 with `Allow` and for refusing unknown parameters.

/// What each documented path takes: its methods, to answer 405 with `Allow` rather than 404 (HEAD
/// goes with GET, see `head_requests`, as OpenAPI leaves it implicit), and each operation's query
/// parameters, to refuse any other (see `unknown_parameters`).
pub struct MethodTable {
    routes: Vec<Route>,
}

struct Route {
    path: actix_web::dev::ResourceDef,
    allow: String,
    /// The query parameters of each method's operation.
    parameters: Vec<(&'static str, Vec<String>)>,
}

impl MethodTable {
    pub fn from_document(api: &utoipa::openapi::OpenApi) -> Self {
        use utoipa::openapi::RefOr;
        use utoipa::openapi::path::ParameterIn;
        let routes = api
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let operations = [
                    ("GET", &item.get),
                    ("HEAD", &item.get),
                    ("POST", &item.post),
                    ("PUT", &item.put),
                    ("PATCH", &item.patch),
                    ("DELETE", &item.delete),
                ];
                let parameters: Vec<(&'static str, Vec<String>)> = operations
                    .iter()
                    .filter_map(|(method, operation)| {
                        let names =
                            operation.as_ref()?.parameters.iter().flatten().filter_map(|parameter| match parameter {
                                RefOr::T(p) if p.parameter_in == ParameterIn::Query => Some(p.name.clone()),
                                _ => None,
                            });
                        Some((*method, names.collect()))
                    })
                    .collect();
                let allow = parameters.iter().map(|(method, _)| *method).collect::<Vec<_>>().join(", ");
                Route { path: actix_web::dev::ResourceDef::new(path.as_str()), allow, parameters }
            })
            .collect();
        Self { routes }
    }

    /// The documented path `path` falls under. A literal path (`/comments/moderate`) wins over a
    /// template that also matches it (`/comments/{id}`).
    fn route(&self, path: &str) -> Option<&Route> {
        let literal = |route: &&Route| !route.path.pattern().unwrap_or_default().contains('{');
        let found = self.routes.iter().filter(literal).find(|route| route.path.is_match(path));
        found.or_else(|| self.routes.iter().find(|route| route.path.is_match(path)))
    }

    /// The `Allow` value for a path that exists, `None` for one that does not.
    pub fn allowed(&self, path: &str) -> Option<String> {
        self.route(path).map(|route| route.allow.clone())
    }

    /// The query parameters that `method` on `path` takes, when the document has that operation.
    pub fn query_parameters(&self, path: &str, method: &str) -> Option<&[String]> {
        let route = self.route(path)?;
        route.parameters.iter().find(|(m, _)| *m == method).map(|(_, names)| names.as_slice())
    }
}
