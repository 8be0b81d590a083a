//! Ranking metrics for retrieval evaluation.

/// Accumulates ranking metrics over queries, given the 1-based rank of the expected item
/// (`None` when it was not retrieved).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RankingMetrics {
    queries: usize,
    hits_at_1: usize,
    hits_at_3: usize,
    hits_at_5: usize,
    reciprocal_rank_sum: f64,
}

impl RankingMetrics {
    /// Records one query's outcome.
    pub fn record(&mut self, rank: Option<usize>) {
        self.queries += 1;
        if let Some(r) = rank.filter(|&r| r >= 1) {
            self.hits_at_1 += usize::from(r == 1);
            self.hits_at_3 += usize::from(r <= 3);
            self.hits_at_5 += usize::from(r <= 5);
            self.reciprocal_rank_sum += 1.0 / r as f64;
        }
    }

    /// How many queries were recorded, including those whose expected item was not found.
    pub fn queries(&self) -> usize {
        self.queries
    }

    fn ratio(&self, n: usize) -> f64 {
        if self.queries == 0 { 0.0 } else { n as f64 / self.queries as f64 }
    }

    /// Precision at 1: share of queries whose expected item ranked first.
    pub fn p_at_1(&self) -> f64 {
        self.ratio(self.hits_at_1)
    }

    /// Share of queries whose expected item ranked in the top 3.
    pub fn hit_at_3(&self) -> f64 {
        self.ratio(self.hits_at_3)
    }

    /// Share of queries whose expected item ranked in the top 5.
    pub fn hit_at_5(&self) -> f64 {
        self.ratio(self.hits_at_5)
    }

    /// Mean reciprocal rank (0 for a miss).
    pub fn mrr(&self) -> f64 {
        if self.queries == 0 { 0.0 } else { self.reciprocal_rank_sum / self.queries as f64 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_match_a_hand_computed_case() {
        let mut m = RankingMetrics::default();
        for rank in [Some(1), Some(2), Some(4), None] {
            m.record(rank);
        }
        assert_eq!(m.queries(), 4);
        assert_eq!(m.p_at_1(), 0.25);
        assert_eq!(m.hit_at_3(), 0.5);
        assert_eq!(m.hit_at_5(), 0.75);
        assert!((m.mrr() - (1.0 + 0.5 + 0.25) / 4.0).abs() < 1e-12);
    }

    #[test]
    fn no_queries_give_zero_not_nan() {
        let m = RankingMetrics::default();
        assert_eq!(m.mrr(), 0.0);
        assert_eq!(m.p_at_1(), 0.0);
    }
}
