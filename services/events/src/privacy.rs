//! Data-protection records on the feed: who read personal data (the audit chain) and which
//! person's personal data was erased. Neither carries personal data.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{impl_event, Envelope, ErasureReason, ErasureScope, Topic};

/// schemas/PersonalDataRead.avsc
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PersonalDataRead {
    pub envelope: Envelope,
    pub read_id: Uuid,
    pub sequence: i64,
    pub person_key: String,
    pub fields: Vec<String>,
    pub purpose: String,
    pub previous_hash: String,
    pub entry_hash: String,
}
// One agency's chain lands in one partition, so it is read back in order.
impl_event!(PersonalDataRead, Topic::Privacy, |e| e
    .envelope
    .agency
    .to_string());

/// schemas/PersonalDataErased.avsc
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PersonalDataErased {
    pub envelope: Envelope,
    pub erasure_id: Uuid,
    pub scope: ErasureScope,
    pub person_key: String,
    pub reason: ErasureReason,
    pub fields: Vec<String>,
}
impl_event!(PersonalDataErased, Topic::Privacy, |e| e
    .envelope
    .agency
    .to_string());
