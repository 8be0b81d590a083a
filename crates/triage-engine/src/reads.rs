//! Read views for the agent and admin console: one triage as it was answered (with the feedback
//! given on it), and the knowledge base with each article's use and helpfulness.

use std::sync::Arc;

use serde::Serialize;
use triage_core::article::Article;
use triage_core::tenant::{Audience, TenantId};
use triage_core::time::Timestamp;
use triage_store::{Feedback, FeedbackCounts, TriageRecord};

use crate::{EngineError, Result, TriageEngine};

/// A stored triage and the feedback agents gave on it.
#[derive(Debug, Clone, Serialize)]
pub struct TriageDetail {
    /// The triage as it was answered (serialised inline, not nested).
    #[serde(flatten)]
    pub record: TriageRecord,
    /// Feedback given on it, in the order it was stored.
    pub feedback: Vec<Feedback>,
}

/// One article and how it has been used by a tenant (or all) over a window.
#[derive(Debug, Clone, Serialize)]
pub struct ArticleUsage {
    /// Article id.
    pub id: String,
    /// Article title.
    pub title: String,
    /// Article category slug.
    pub category: String,
    /// Tenants the article is scoped to; empty when shared with every tenant.
    pub tenants: Vec<String>,
    /// Date of the article's last review, `YYYY-MM-DD`.
    pub updated: String,
    /// Triages that offered it, and that offered it first.
    pub offered: u64,
    /// Triages that offered it in first place.
    pub offered_first: u64,
    /// Feedback agents gave on it (serialised inline, not nested).
    #[serde(flatten)]
    pub feedback: FeedbackCounts,
    /// (resolved + helpful) / feedback, when there is feedback.
    pub helpful_rate: Option<f64>,
}

impl TriageEngine {
    /// A triage of `tenant` with its feedback. Another tenant's triage is `NotFound`.
    pub fn triage_detail(&self, tenant: Option<&TenantId>, triage_id: &str) -> Result<TriageDetail> {
        self.recorder.flush();
        let record = self.store.triage_record(tenant, triage_id)?.ok_or(EngineError::NotFound(crate::Resource::Triage))?;
        let feedback = self.store.feedback_for(triage_id)?;
        Ok(TriageDetail { record, feedback })
    }

    /// Every article `tenant` may see, with its use since `from`, most offered first.
    pub fn article_usage(&self, tenant: Option<&TenantId>, from: Option<Timestamp>) -> Result<Vec<ArticleUsage>> {
        self.recorder.flush();
        let usage = self.store.suggestion_usage(tenant, from.as_ref())?;
        let mut visible: Vec<&Arc<Article>> = self.articles.values().filter(|a| self.article(&a.id, tenant).is_some()).collect();
        visible.sort_by(|a, b| a.id.cmp(&b.id));
        let mut out: Vec<ArticleUsage> = visible
            .into_iter()
            .map(|a| {
                let key = format!("article:{}", a.id);
                let u = usage.iter().find(|u| u.suggestion == key).cloned().unwrap_or_default();
                let f = u.feedback;
                let total = f.resolved + f.helpful + f.not_helpful;
                ArticleUsage {
                    id: a.id.clone(),
                    title: a.title.clone(),
                    category: a.category.clone(),
                    tenants: match &a.audience {
                        Audience::All => Vec::new(),
                        Audience::Tenants(ts) => ts.iter().map(|t| t.as_str().to_owned()).collect(),
                    },
                    updated: a.updated.clone(),
                    offered: u.offered,
                    offered_first: u.offered_first,
                    feedback: f,
                    helpful_rate: (total > 0).then(|| (f.resolved + f.helpful) as f64 / total as f64),
                }
            })
            .collect();
        out.sort_by(|a, b| b.offered.cmp(&a.offered).then_with(|| a.id.cmp(&b.id)));
        Ok(out)
    }
}
