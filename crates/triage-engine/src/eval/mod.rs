//! Offline evaluation against public data sets. Uses the same index, analysis and ranking as the
//! service; nothing here is tuned for one data set.

pub mod incidents;
pub mod incidents_stream;
pub mod noise;
pub mod noisy;
pub mod retrieval;
pub mod similar;
