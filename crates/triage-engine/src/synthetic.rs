//! A deterministic generator of plausible resolved tickets, for benchmarks and load tests when
//! the public data sets are absent. Not for training anything real.

use std::collections::BTreeMap;

use triage_core::ticket_resolved::{RawResolved, ResolvedTicket};

const THEMES: &[(&str, &str, &[&str])] = &[
    (
        "accounts",
        "identity-access",
        &["locked out of my account", "password expired", "mfa prompt not arriving", "reset my password", "account disabled after leave"],
    ),
    (
        "printing",
        "print-services",
        &["printer offline", "paper jam on floor two", "toner low warning", "scan to email not arriving", "secure print badge not working"],
    ),
    (
        "remote-access",
        "network-team",
        &["vpn will not connect", "vpn keeps dropping", "remote desktop gateway error", "certificate expired on vpn"],
    ),
    (
        "email-and-collaboration",
        "m365-team",
        &["outlook stuck loading profile", "mailbox full", "teams no audio in meetings", "onedrive not syncing", "shared mailbox missing"],
    ),
    (
        "hardware",
        "end-user-computing",
        &["laptop will not charge", "docking station monitors blank", "keyboard not working", "bitlocker recovery screen"],
    ),
    (
        "business-applications",
        "applications-support",
        &["council tax screen frozen", "planning documents will not upload", "housing repairs job not sent", "gis layers not loading"],
    ),
];

const FILLER: &[&str] = &[
    "since this morning",
    "after the update",
    "on the third floor",
    "for the whole team",
    "when working from home",
    "urgent customer waiting",
    "tried restarting already",
    "happened yesterday too",
    "in the civic centre",
    "on my new laptop",
    "please call back",
    "again today",
];

/// Small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next() % items.len() as u64) as usize]
    }
}

/// `n` resolved tickets of `tenant`, the same for the same seed.
pub fn resolved_tickets(tenant: &str, n: usize, seed: u64) -> Vec<ResolvedTicket> {
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    (0..n)
        .map(|i| {
            let (category, group, titles) = rng.pick(THEMES);
            let title = format!("{} {}", rng.pick(titles), rng.pick(FILLER));
            let description =
                format!("{} {} ref {}{}", rng.pick(titles), rng.pick(FILLER), rng.next() % 10_000, if i % 7 == 0 { " help" } else { "" });
            let notes = format!(
                "resolved: {} for case {}",
                rng.pick(&[
                    "restarted the service",
                    "reset the account",
                    "reseated the cable",
                    "cleared the queue",
                    "reinstalled the client"
                ]),
                i
            );
            let external = format!("SYN-{i:07}");
            let fcr = !rng.next().is_multiple_of(3);
            ResolvedTicket::parse(&RawResolved {
                tenant,
                external_id: &external,
                title: Some(&title),
                description: Some(&description),
                category: Some(category),
                assignment_group: Some(group),
                priority: Some(["p2", "p3", "p4"][i % 3]),
                resolution_notes: Some(&notes),
                resolved_at_first_contact: Some(fcr),
                ..RawResolved::default()
            })
            .expect("generated tickets are valid")
        })
        .collect()
}

/// The labels of generated tickets, for quick checks.
pub fn label_counts(tickets: &[ResolvedTicket]) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for t in tickets {
        *out.entry(t.category.clone().unwrap_or_default()).or_insert(0) += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_is_deterministic_and_varied() {
        let a = resolved_tickets("northmoor", 200, 7);
        assert_eq!(a, resolved_tickets("northmoor", 200, 7));
        assert_ne!(a, resolved_tickets("northmoor", 200, 8));
        assert_eq!(label_counts(&a).len(), THEMES.len());
    }
}
