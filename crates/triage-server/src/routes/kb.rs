//! `GET /v1/kb/search` and `GET /v1/kb/articles/{id}`.

use actix_web::{HttpResponse, web};
use triage_core::auth::Action;
use triage_engine::KbQuery;

use crate::auth::Auth;
use crate::problem::{ApiError, ErrorCode, Problem};
use crate::state::AppState;
use crate::wire::{ArticleParams, ArticleView, SearchParams, SearchResponse, SuggestionView};

/// Longest accepted search text, in characters.
pub(crate) const MAX_QUERY_CHARS: usize = 2_000;

/// Search the knowledge base.
#[utoipa::path(
    get,
    path = "/v1/kb/search",
    tag = "knowledge base",
    params(SearchParams),
    responses(
        (status = 200, description = "Matching articles, best first", body = SearchResponse),
        (status = 400, description = "invalid_query", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "invalid_tenant", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(results = tracing::field::Empty))]
pub(crate) async fn search(auth: Auth, params: web::Query<SearchParams>, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    auth.require(Action::SearchKb)?;
    let p = params.into_inner();
    let max = state.settings.search.max_limit;
    let limit = p.limit.unwrap_or(state.settings.search.default_limit);
    if !(1..=max).contains(&limit) {
        return Err(ApiError::new(ErrorCode::InvalidQuery, format!("limit is {limit}; use 1..={max}")));
    }
    let text = p.q.trim();
    if text.is_empty() || text.chars().count() > MAX_QUERY_CHARS {
        return Err(ApiError::new(ErrorCode::InvalidQuery, format!("q must hold 1..={MAX_QUERY_CHARS} characters of search text")));
    }
    let tenant = auth.tenant(p.tenant.as_deref(), &state)?;
    let query = KbQuery::new(text).tenant(tenant.as_ref()).category(p.category.as_deref()).limit(limit);
    let results = state.engine()?.search(&query)?;
    tracing::Span::current().record("results", results.len());
    Ok(HttpResponse::Ok()
        .json(SearchResponse { results: results.into_iter().enumerate().map(|(i, s)| SuggestionView::ranked(i + 1, s)).collect() }))
}

/// One article. Articles scoped to other tenants answer 404, as if they did not exist.
#[utoipa::path(
    get,
    path = "/v1/kb/articles/{id}",
    tag = "knowledge base",
    params(("id" = String, Path, description = "Article id"), ArticleParams),
    responses(
        (status = 200, description = "The article", body = ArticleView),
        (status = 404, description = "article_not_found", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn article(
    auth: Auth,
    id: web::Path<String>,
    params: web::Query<ArticleParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Action::SearchKb)?;
    let tenant = auth.tenant(params.tenant.as_deref(), &state)?;
    let not_found = || ApiError::new(ErrorCode::ArticleNotFound, "no article with that id; search with /v1/kb/search");
    let article = state.engine()?.article(&id, tenant.as_ref()).ok_or_else(not_found)?;
    Ok(HttpResponse::Ok().json(ArticleView::from(article.as_ref())))
}

/// Query string of `GET /v1/kb/articles`.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct ArticleListParams {
    /// Tenant whose view and usage to show (operators; all tenants when absent).
    pub tenant: Option<String>,
    /// Count use since this day (`2026-11-01`, from its start in the desk's time zone) or RFC 3339
    /// time; all history when absent.
    pub from: Option<String>,
}

/// Every article the tenant may see, with how often triage offered it (and offered it first)
/// and what agents said of it: resolved, helpful, not helpful. Most offered first.
#[utoipa::path(
    get,
    path = "/v1/kb/articles",
    tag = "knowledge base",
    params(ArticleListParams),
    responses((status = 200, description = "Articles with usage", body = Object), (status = 400, description = "invalid_query", body = Problem, content_type = "application/problem+json"))
)]
pub(crate) async fn list_articles(
    auth: Auth,
    params: web::Query<ArticleListParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Action::ReadStats)?;
    let p = params.into_inner();
    let from = p.from.as_deref().map(|b| crate::wire_loop::parse_window_bound("from", b, &state.settings.desk.time_zone)).transpose()?;
    let tenant = auth.tenant(p.tenant.as_deref(), &state)?;
    let engine = state.engine()?.clone();
    let articles = web::block(move || engine.article_usage(tenant.as_ref(), from)).await.map_err(|e| ApiError::internal(&e))??;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "articles": articles })))
}
