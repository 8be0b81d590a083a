//! `GET /openapi.json` (generated from the code) and `GET /docs` (a readable page built from it,
//! with no assets from the internet).

use actix_web::HttpResponse;
use utoipa::OpenApi;

use crate::openapi::ApiDoc;

const DOCS_HTML: &str = include_str!("docs.html");

pub(crate) async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}

pub(crate) async fn docs_page() -> HttpResponse {
    HttpResponse::Ok().content_type("text/html; charset=utf-8").body(DOCS_HTML)
}
