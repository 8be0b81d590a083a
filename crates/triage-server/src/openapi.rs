//! The OpenAPI document, generated from the handlers and wire types.

use utoipa::OpenApi;

use crate::problem::Problem;
use crate::routes;
use crate::wire::{
    ArticleView, ChannelWire, SearchResponse, StatusView, SuggestionKindWire, SuggestionView, TriageRequest, TriageResponse,
};

#[derive(OpenApi)]
#[openapi(
    info(title = "triage", description = "Service-desk triage engine: suggested fixes for new tickets."),
    paths(
        routes::triage::post_triage,
        routes::feedback::post_feedback,
        routes::tickets::post_resolved,
        routes::stats::get_stats,
        routes::admin::post_train,
        routes::admin::get_job,
        routes::admin::get_models,
        routes::admin::post_promote,
        routes::admin::post_rollback,
        routes::kb::search,
        routes::kb::article,
        routes::health::healthz,
        routes::health::readyz
    ),
    components(schemas(
        TriageRequest,
        TriageResponse,
        SuggestionView,
        SuggestionKindWire,
        ChannelWire,
        SearchResponse,
        ArticleView,
        StatusView,
        Problem
    ))
)]
pub struct ApiDoc;
