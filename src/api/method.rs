//! 405 for a known route called with a method it does not take, with the `Allow` header.
//!
//! Why: a client that sends `PUT /v1/tokens` has the path right and the verb wrong; a 404 "No such
//! route" would send it looking for a path that does not exist. Every resource is built with
//! [`resource`], which names its methods once and answers any other with this error.

use actix_web::http::header::ALLOW;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse, Resource, ResponseError};

use super::ApiError;

/// A resource at `path` that answers `allowed` (its routes are added by the caller) and 405 for
/// any other method.
pub fn resource(path: &str, allowed: &'static [&'static str]) -> Resource {
    web::resource(path).default_service(web::to(move |req: HttpRequest| async move {
        method_not_allowed(&req, allowed)
    }))
}

/// The 405 for `req`, naming the methods the route takes.
fn method_not_allowed(req: &HttpRequest, allowed: &[&str]) -> HttpResponse {
    let error = ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "invalid_request_error",
        format!(
            "Method {} is not allowed on {} - use {}",
            req.method(),
            req.path(),
            or_list(allowed)
        ),
    )
    .with_code("method_not_allowed");
    let mut response = error.error_response();
    if let Ok(value) = allowed.join(", ").try_into() {
        response.headers_mut().insert(ALLOW, value);
    }
    response
}

/// `GET`, `GET or POST`, `GET, PATCH or DELETE`.
fn or_list(methods: &[&str]) -> String {
    match methods {
        [] => String::new(),
        [one] => (*one).to_string(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::or_list;

    #[test]
    fn methods_are_listed_as_a_sentence() {
        assert_eq!(or_list(&["GET"]), "GET");
        assert_eq!(or_list(&["GET", "POST"]), "GET or POST");
        assert_eq!(or_list(&["GET", "PATCH", "DELETE"]), "GET, PATCH or DELETE");
    }
}
