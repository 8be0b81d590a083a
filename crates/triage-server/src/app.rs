//! Building and running the HTTP server.

use std::net::TcpListener;
use std::time::Instant;

use actix_web::dev::Server;
use actix_web::{App, HttpResponse, HttpServer, web};
use tracing_actix_web::TracingLogger;
use triage_engine::TriageEngine;

use crate::config::ValidatedSettings;
use crate::problem::{ApiError, ErrorCode};
use crate::routes::{
    admin, boilerplate, connectors, console, docs, feedback, gaps, health, incidents, kb, method_not_allowed, metrics, route_not_found,
    session, stats, tickets, triage,
};
use crate::state::AppState;

/// A bound, not yet running server. The engine loads in the background; `/readyz` says when.
pub struct Application {
    port: u16,
    server: Server,
    state: web::Data<AppState>,
}

impl Application {
    /// Binds the listener, starts loading the engine, and builds the server.
    pub fn build(settings: ValidatedSettings) -> anyhow::Result<Self> {
        crate::config::apply_text_settings(&settings)?;
        let listener = TcpListener::bind((settings.server.host.as_str(), settings.server.port)).map_err(|e| {
            anyhow::anyhow!("cannot listen on {}:{}: {e}; pick another port with --port", settings.server.host, settings.server.port)
        })?;
        let port = listener.local_addr()?.port();
        let workers = if settings.server.workers == 0 {
            std::thread::available_parallelism().map_or(2, usize::from)
        } else {
            settings.server.workers
        };
        let shutdown = settings.server.shutdown_timeout_secs;
        let request_timeout = std::time::Duration::from_secs(settings.server.request_timeout_secs);
        let cors_origin = settings.server.cors_allowed_origin.clone();
        let params = settings.engine_params();
        let state = web::Data::new(AppState::new(settings));
        spawn_engine_load(state.clone(), params);
        state.start_connectors().map_err(|e| anyhow::anyhow!("cannot start the connectors' threads: {e}"))?;
        let app_state = state.clone();
        let server = HttpServer::new(move || {
            let metrics_state = state.clone();
            let cors = if cors_origin.is_empty() {
                actix_cors::Cors::default()
            } else {
                actix_cors::Cors::default()
                    .allowed_origin(&cors_origin)
                    .allowed_methods(["GET", "POST", "DELETE"])
                    .allowed_headers([
                        actix_web::http::header::AUTHORIZATION,
                        actix_web::http::header::CONTENT_TYPE,
                        crate::telemetry::REQUEST_ID_HEADER,
                    ])
                    .expose_headers([crate::telemetry::REQUEST_ID_HEADER])
                    .max_age(600)
            };
            App::new()
                .wrap(cors)
                .wrap(actix_web::middleware::from_fn(limit_url))
                // metrics, and the request id (settled by the root span) on every answer
                .wrap_fn(move |req, srv| {
                    let started = Instant::now();
                    let state = metrics_state.clone();
                    let route = req.match_pattern().unwrap_or_else(|| "unmatched".to_owned());
                    let request_id = crate::telemetry::RequestId::of(&req);
                    let fut = crate::telemetry::with_request_id(request_id.clone(), actix_web::dev::Service::call(srv, req));
                    async move {
                        let answer = fut.await;
                        let status = match &answer {
                            Ok(res) => res.status(),
                            Err(e) => e.as_response_error().status_code(),
                        };
                        state.metrics.record_request(&route, status.as_u16(), started.elapsed().as_secs_f64());
                        crate::telemetry::tag_answer(answer, request_id)
                    }
                })
                .wrap(TracingLogger::<crate::telemetry::PrivateRootSpan>::new())
                .app_data(state.clone())
                .app_data(
                    web::QueryConfig::default()
                        .error_handler(|e, _| ApiError::new(ErrorCode::InvalidQuery, format!("{e}; see /docs for the parameters")).into()),
                )
                .app_data(web::PathConfig::default().error_handler(|e, _| ApiError::new(ErrorCode::RouteNotFound, e.to_string()).into()))
                .configure(configure_routes)
                .default_service(web::to(route_not_found))
        })
        .workers(workers)
        .client_request_timeout(request_timeout)
        .shutdown_timeout(shutdown)
        .listen(listener)?
        .run();
        tracing::info!(port, workers, "listening");
        Ok(Self { port, server, state: app_state })
    }

    /// The port the server listens on (the one picked when `server.port` was 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Runs until SIGINT/SIGTERM; in-flight requests then get `server.shutdown_timeout_secs`.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        // connectors finish the call they are in; what is queued stays in the outbox
        let state = self.state.clone();
        let _ = tokio::task::spawn_blocking(move || {
            if let Some(c) = state.connectors() {
                c.stop();
            }
        })
        .await;
        result
    }
}

/// Longest path and query string accepted (`414 uri_too_long` above).
pub(crate) const MAX_URL_BYTES: usize = 8 * 1024;

/// Answers an over-long URL with a problem+json 414, before authentication or routing. (Past
/// 64 KiB the HTTP parser refuses the request itself, with an empty 400, before this runs.)
async fn limit_url(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    let len = req.uri().path_and_query().map_or(0, |p| p.as_str().len());
    if len > MAX_URL_BYTES {
        let e = ApiError::new(
            ErrorCode::UriTooLong,
            format!("the URL has {len} bytes; the limit is {MAX_URL_BYTES}: send long text in a POST body"),
        );
        return Ok(req.error_response(e).map_into_right_body());
    }
    next.call(req).await.map(actix_web::dev::ServiceResponse::map_into_left_body)
}

/// Every route, with a problem+json 405 for known paths and wrong methods.
pub(crate) fn configure_routes(cfg: &mut web::ServiceConfig) {
    let resource = |path: &str| web::resource(path.to_owned()).default_service(web::to(method_not_allowed));
    cfg.service(resource("/v1/triage").route(web::post().to(triage::post_triage)))
        .service(resource("/v1/triage/{id}").route(web::get().to(triage::get_triage)))
        .service(resource("/v1/session").route(web::get().to(session::get_session)))
        .service(resource("/v1/kb/articles").route(web::get().to(kb::list_articles)))
        .service(resource("/v1/kb/gaps").route(web::get().to(gaps::get_gaps)))
        .service(resource("/console").route(web::get().to(console::page)))
        .service(resource("/console/{file}").route(web::get().to(console::asset)))
        .service(resource("/v1/triage/{id}/feedback").route(web::post().to(feedback::post_feedback)))
        .service(resource("/v1/tickets/resolved").route(web::post().to(tickets::post_resolved)))
        .service(resource("/v1/tickets/resolved/{external_id}").route(web::delete().to(tickets::delete_resolved)))
        .service(resource("/v1/admin/keys").route(web::post().to(admin::post_key)).route(web::get().to(admin::get_keys)))
        .service(resource("/v1/admin/keys/{id}").route(web::delete().to(admin::delete_key)))
        .service(resource("/v1/admin/audit").route(web::get().to(admin::get_audit)))
        .service(resource("/v1/stats").route(web::get().to(stats::get_stats)))
        .service(resource("/v1/admin/boilerplate").route(web::get().to(boilerplate::get_boilerplate)))
        .service(resource("/v1/admin/models/train").route(web::post().to(admin::post_train)))
        .service(resource("/v1/admin/models/rollback").route(web::post().to(admin::post_rollback)))
        .service(resource("/v1/admin/models/shadow").route(web::delete().to(admin::delete_shadow)))
        .service(resource("/v1/admin/models/{version}/shadow").route(web::post().to(admin::post_shadow)))
        .service(resource("/v1/admin/models/{version}/promote").route(web::post().to(admin::post_promote)))
        .service(resource("/v1/admin/models").route(web::get().to(admin::get_models)))
        .service(resource("/v1/admin/jobs/{id}").route(web::get().to(admin::get_job)))
        .service(resource("/v1/connectors/{name}/events").route(web::post().to(connectors::post_events)))
        .service(resource("/v1/admin/connectors").route(web::get().to(connectors::get_connectors)))
        .service(resource("/v1/admin/connectors/{name}/outbox").route(web::get().to(connectors::get_outbox)))
        .service(resource("/v1/admin/connectors/{name}/pause").route(web::post().to(connectors::post_pause)))
        .service(resource("/v1/admin/connectors/{name}/resume").route(web::post().to(connectors::post_resume)))
        .service(resource("/v1/admin/connectors/{name}/outbox/{id}/retry").route(web::post().to(connectors::post_retry)))
        .service(resource("/v1/incidents").route(web::get().to(incidents::list)))
        .service(resource("/v1/incidents/{id}").route(web::get().to(incidents::get)))
        .service(resource("/v1/incidents/{id}/confirm").route(web::post().to(incidents::confirm)))
        .service(resource("/v1/incidents/{id}/resolve").route(web::post().to(incidents::resolve)))
        .service(resource("/v1/incidents/{id}/dismiss").route(web::post().to(incidents::dismiss)))
        .service(resource("/v1/incidents/{id}/message").route(web::put().to(incidents::put_message)))
        .service(resource("/metrics").route(web::get().to(metrics::get_metrics)))
        .service(resource("/v1/kb/search").route(web::get().to(kb::search)))
        .service(resource("/v1/kb/articles/{id}").route(web::get().to(kb::article)))
        .service(resource("/healthz").route(web::get().to(health::healthz)))
        .service(resource("/readyz").route(web::get().to(health::readyz)))
        .service(resource("/openapi.json").route(web::get().to(docs::openapi_json)))
        .service(resource("/docs").route(web::get().to(docs::docs_page)))
        .service(resource("/").route(web::get().to(|| async { HttpResponse::Found().insert_header(("Location", "/docs")).finish() })));
}

fn spawn_engine_load(state: web::Data<AppState>, params: triage_engine::EngineParams) {
    let span = tracing::info_span!("engine_load", kb_dir = %params.kb_dir.display(), data_dir = %params.data_dir.display());
    std::thread::Builder::new()
        .name("engine-load".into())
        .spawn(move || {
            let _enter = span.enter();
            let started = Instant::now();
            match TriageEngine::open(&params) {
                Ok((engine, report)) => {
                    let s = report.sync;
                    tracing::info!(
                        articles = report.articles,
                        added = s.added,
                        updated = s.updated,
                        removed = s.removed,
                        unchanged = s.unchanged,
                        millis = started.elapsed().as_millis() as u64,
                        "engine ready"
                    );
                    match engine.ensure_operator_key() {
                        Ok(Some(path)) => tracing::warn!(path = %path.display(), "first start: an operator API key was written to this file (owner-readable only); use it to create tenant keys, then keep it safe"),
                        Ok(None) => {}
                        Err(e) => tracing::error!(error = %e, "could not create the operator key"),
                    }
                    state.set_engine(engine);
                    // answering already; similar tickets move to the in-memory scorer once loaded
                    if let Ok(engine) = state.engine() {
                        if let Err(e) = engine.load_ticket_scorer() {
                            tracing::warn!(error = %e, "similar-ticket scorer not loaded; similar tickets still come from the index, only slower");
                        }
                        spawn_index_repair(std::sync::Arc::downgrade(engine));
                        // replicas: what the others write reaches this one (issue 15)
                        if let Err(e) = engine.start_following() {
                            tracing::error!(error = %e, "cannot follow the change feed; this replica will not see other replicas' writes until restarted");
                        }
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "engine failed to load; /readyz will answer 503");
                    state.set_load_error(e.to_string());
                }
            }
        })
        .expect("spawning the engine-load thread");
}

/// Every few seconds, rebuilds the ticket index from the store when a write to it failed (the
/// store had committed; see `TriageEngine::repair_ticket_index`). Ends with the engine.
fn spawn_index_repair(engine: std::sync::Weak<TriageEngine>) {
    let spawned = std::thread::Builder::new().name("index-repair".into()).spawn(move || {
        let span = tracing::info_span!("index_repair");
        let _enter = span.enter();
        let mut pruned = std::time::Instant::now();
        loop {
            std::thread::sleep(std::time::Duration::from_secs(2));
            let Some(engine) = engine.upgrade() else { return };
            if let Err(e) = engine.repair_ticket_index() {
                tracing::warn!(error = %e, "ticket index repair failed; retrying in 2 s");
            }
            // the change feed's retention, where no follower thread runs it
            if !engine.follows_changes() && pruned.elapsed() >= std::time::Duration::from_secs(3_600) {
                pruned = std::time::Instant::now();
                engine.prune_changes();
            }
        }
    });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "could not start the index-repair thread; a failed index write is then repaired at the next start");
    }
}

/// Builds and runs the service until it is stopped.
pub async fn run(settings: ValidatedSettings) -> anyhow::Result<()> {
    let app = Application::build(settings)?;
    app.run_until_stopped().await?;
    tracing::info!("stopped");
    Ok(())
}
