//! `GET /metrics` (Prometheus text format).

use actix_web::{HttpResponse, web};

use crate::problem::{ApiError, ErrorCode};
use crate::state::AppState;

pub(crate) async fn get_metrics(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    if !state.settings.metrics.enabled {
        return Err(ApiError::new(ErrorCode::RouteNotFound, "metrics are disabled (metrics.enabled = false)"));
    }
    let mut incidents = crate::metrics::IncidentGauges::default();
    let (version, jobs, articles, tickets) = match state.engine() {
        Ok(e) => {
            // every replica's jobs, read from the store off the worker thread
            let engine = e.clone();
            let counts = match web::block(move || engine.job_counts()).await {
                Ok(Ok(counts)) => counts,
                Ok(Err(err)) => {
                    tracing::warn!(error = %err, "job counts unavailable for metrics");
                    Default::default()
                }
                Err(err) => {
                    tracing::warn!(error = %err, "job counts unavailable for metrics");
                    Default::default()
                }
            };
            let jobs: Vec<(&str, usize)> = [
                ("queued", triage_engine::JobState::Queued),
                ("running", triage_engine::JobState::Running),
                ("succeeded", triage_engine::JobState::Succeeded),
                ("failed", triage_engine::JobState::Failed),
            ]
            .into_iter()
            .map(|(name, s)| (name, counts.get(&s).copied().unwrap_or(0)))
            .collect();
            let (suspected, confirmed) = e.incidents().open_counts();
            let follow = e.follow_status();
            incidents = crate::metrics::IncidentGauges {
                suspected,
                confirmed,
                dropped: e.incidents().dropped(),
                follow: follow.following.then_some((follow.applied_seq, follow.applied_changes, follow.last_error.is_some())),
            };
            (e.model_version(), jobs, e.article_count(), e.ticket_count())
        }
        Err(_) => (None, Vec::new(), 0, 0),
    };
    let body = state.metrics.render(version.as_deref(), &jobs, articles, tickets, &incidents);
    Ok(HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(body))
}
