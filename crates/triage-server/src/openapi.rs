//! The OpenAPI document, generated from the handlers and wire types.

use utoipa::OpenApi;

use crate::problem::Problem;
use crate::routes;
use crate::wire::{
    ArticleView, ChannelWire, SearchResponse, StatusView, SuggestionKindWire, SuggestionView, TriageRequest, TriageResponse,
};

#[derive(OpenApi)]
#[openapi(
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    info(title = "triage", description = "Service-desk triage engine: suggested fixes for new tickets."),
    paths(
        routes::triage::post_triage,
        routes::feedback::post_feedback,
        routes::tickets::post_resolved,
        routes::stats::get_stats,
        routes::boilerplate::get_boilerplate,
        routes::admin::post_shadow,
        routes::admin::delete_shadow,
        routes::connectors::post_events,
        routes::connectors::get_connectors,
        routes::connectors::get_outbox,
        routes::connectors::post_retry,
        routes::connectors::post_pause,
        routes::connectors::post_resume,
        routes::admin::post_train,
        routes::admin::get_job,
        routes::admin::get_models,
        routes::admin::post_promote,
        routes::admin::post_rollback,
        routes::admin::post_key,
        routes::admin::get_keys,
        routes::admin::delete_key,
        routes::admin::get_audit,
        routes::tickets::delete_resolved,
        routes::kb::search,
        routes::kb::article,
        routes::kb::list_articles,
        routes::gaps::get_gaps,
        routes::incidents::list,
        routes::incidents::get,
        routes::incidents::confirm,
        routes::incidents::resolve,
        routes::incidents::dismiss,
        routes::incidents::put_message,
        routes::triage::get_triage,
        routes::session::get_session,
        routes::health::healthz,
        routes::health::readyz
    ),
    components(schemas(routes::session::SessionView, routes::session::TenantView, routes::admin::CreateKeyRequest, routes::admin::CreatedKey,
        TriageRequest,
        TriageResponse,
        crate::email::EmailView,
        crate::email::AttachmentView,
        SuggestionView,
        SuggestionKindWire,
        ChannelWire,
        SearchResponse,
        ArticleView,
        StatusView,
        Problem
    ))
)]
/// The OpenAPI document of the API, generated from the handlers and wire types; served at `/openapi.json` and read by `/docs`.
pub struct ApiDoc;

/// Declares the bearer-key scheme every /v1 route uses.
pub struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
    }
}
