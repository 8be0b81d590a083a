//! `GET /console`: the agent and admin web console. Plain HTML, CSS and JavaScript embedded in
//! the binary (nothing fetched from elsewhere); it talks to the same `/v1` API with the key the
//! user signs in with, kept in the tab's session storage.

use actix_web::http::header;
use actix_web::{HttpResponse, web};

use crate::problem::{ApiError, ErrorCode};

/// Name, content type and body of every console file.
const ASSETS: &[(&str, &str, &str)] = &[
    ("index.html", "text/html; charset=utf-8", include_str!("../../console/index.html")),
    ("console.css", "text/css; charset=utf-8", include_str!("../../console/console.css")),
    ("console.js", "text/javascript; charset=utf-8", include_str!("../../console/console.js")),
];

/// Only our own scripts, styles and API; no framing, no inline script.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; \
                   form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

fn serve(name: &str) -> Option<HttpResponse> {
    let (_, content_type, body) = ASSETS.iter().find(|(n, _, _)| *n == name)?;
    Some(
        HttpResponse::Ok()
            .content_type(*content_type)
            .insert_header((header::CACHE_CONTROL, "no-cache"))
            .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
            .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .insert_header((header::REFERRER_POLICY, "no-referrer"))
            .insert_header((header::X_FRAME_OPTIONS, "DENY"))
            .body(*body),
    )
}

pub(crate) async fn page() -> HttpResponse {
    serve("index.html").expect("index.html is embedded")
}

pub(crate) async fn asset(file: web::Path<String>) -> Result<HttpResponse, ApiError> {
    serve(&file).ok_or_else(|| ApiError::new(ErrorCode::RouteNotFound, format!("the console has no file `{file}`")))
}
