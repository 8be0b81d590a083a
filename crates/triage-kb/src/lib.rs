//! Knowledge-base search for triage.
//!
//! A tantivy index of knowledge-base articles (and, later, resolved tickets), analysed with the
//! shared [`triage_core::analysis::Analyzer`], ranked with BM25 over weighted fields, filtered by
//! tenant and category, with highlighted snippets. The on-disk index is brought in line with the
//! articles incrementally: only documents whose content hash changed are rewritten.
//!
//! ```
//! use triage_kb::{KbDocument, KbIndex, KbQuery};
//! use triage_core::tenant::Audience;
//!
//! let index = KbIndex::create_in_ram().unwrap();
//! let doc = KbDocument {
//!     id: "printer-offline".into(),
//!     title: "Printer shows offline".into(),
//!     body: "Check the network cable and restart the print queue.".into(),
//!     audience: Audience::All,
//!     ..KbDocument::default()
//! };
//! index.sync(&[doc]).unwrap();
//! let hits = index.search(&KbQuery::new("my printer is offline")).unwrap();
//! assert_eq!(hits[0].id, "printer-offline");
//! ```

mod error;
mod impacts;
mod index;
pub mod loader;
mod schema;
mod search;
mod snippet;
mod ticket_scorer;
mod tickets;
mod tokenizer;

pub use error::{KbError, Result};
pub use index::{KbDocument, KbIndex, SyncReport};
pub use search::{ArticleBoost, FieldWeights, KbHit, KbQuery, escape_html};
pub use tickets::{Rebuild, SimilarQueryPolicy, TicketDoc, TicketHit, TicketIndex};
pub use tokenizer::TriageTokenizer;
