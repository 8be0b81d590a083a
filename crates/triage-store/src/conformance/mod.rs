//! The store's behaviour, written once against `&dyn Store` and run for every backend.
//!
//! Each case is a function `fn case(s: &dyn Store)`; [`cases!`] turns a list of them into
//! `sqlite::case` (always, in memory) and `postgresql::case` tests. A PostgreSQL test runs on
//! a database of its own (see `crate::postgres::testing`): on `TRIAGE_TEST_PG_URL`'s server, or
//! on a throwaway cluster with `TRIAGE_REQUIRE_PG=1`; without either it skips and says why.
//!
//! ```text
//! cargo test -p triage-store conformance                        # SQLite; PostgreSQL skips
//! TRIAGE_REQUIRE_PG=1 cargo test -p triage-store postgresql     # PostgreSQL, cluster started here
//! ```

mod changes;
mod connectors;
mod gaps;
mod incidents;
mod records;
mod shared;
mod stats;

fn now() -> String {
    triage_core::time::rfc3339_utc(std::time::SystemTime::now())
}

/// One `#[test]` per case and backend.
macro_rules! cases {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[test]
                fn $case() {
                    super::$case(&crate::SqliteStore::open_in_memory().unwrap());
                }
            )*
        }
        mod postgresql {
            $(
                #[test]
                fn $case() {
                    if let Some(store) = crate::postgres::testing::store(stringify!($case)) {
                        super::$case(&*store);
                    }
                }
            )*
        }
    };
}
pub(crate) use cases;
