//! The index schema and its version.

use tantivy::schema::{FAST, Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions};

use crate::tokenizer::TOKENIZER_NAME;

/// Bumped whenever the schema or the analysis changes; an index of another version is rebuilt.
pub(crate) const SCHEMA_VERSION: u32 = 3;

/// Name of the id field (also a fast field, read without touching the doc store).
pub(crate) const ID_FIELD: &str = "id";

/// Handles to the fields of the knowledge-base schema.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KbFields {
    pub id: Field,
    pub title: Field,
    pub summary: Field,
    pub symptoms: Field,
    pub tags: Field,
    pub body: Field,
    pub category: Field,
    pub tenants: Field,
    pub content_hash: Field,
}

impl KbFields {
    pub(crate) fn build() -> (Schema, KbFields) {
        let mut b = Schema::builder();
        let text = |stored: bool| {
            let indexing =
                TextFieldIndexing::default().set_tokenizer(TOKENIZER_NAME).set_index_option(IndexRecordOption::WithFreqsAndPositions);
            let opts = TextOptions::default().set_indexing_options(indexing);
            if stored { opts.set_stored() } else { opts }
        };
        let fields = KbFields {
            id: b.add_text_field(ID_FIELD, STRING | STORED | FAST),
            title: b.add_text_field("title", text(true)),
            summary: b.add_text_field("summary", text(true)),
            symptoms: b.add_text_field("symptoms", text(false)),
            tags: b.add_text_field("tags", text(false)),
            body: b.add_text_field("body", text(true)),
            category: b.add_text_field("category", STRING | STORED),
            tenants: b.add_text_field("tenants", STRING),
            content_hash: b.add_text_field("content_hash", STRING | STORED),
        };
        (b.build(), fields)
    }
}
