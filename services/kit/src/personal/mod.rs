//! Personal data in an agency's views: who may read it, the audit of every read, and its
//! erasure.
//!
//! - Reads: only tokens with the [`PERSONAL_DATA_ROLE`] that name the officer (an OIDC sign-in,
//!   or a static token's `officer=` claim), only with a stated purpose, and never without an entry in the agency's audit chain written in the same
//!   transaction as the read ([`record_read`]), and published on the privacy topic with it.
//! - Erasure: the agency that controls the data erases one person's personal data from its
//!   views; the erasure is recorded (never the data) and published, so a replay or a rebuild
//!   does not bring the data back ([`PersonalData::apply`], [`PersonalData::erased_at`]).
//!
//! ```text
//! GET  /v1/agencies/imigrasi/subjects/{key}?include=identity&purpose=secondary-interview
//! GET  /v1/agencies/imigrasi/audit/personal-data-reads?subject_key=…
//! GET  /v1/agencies/imigrasi/audit/personal-data-reads/verify
//! POST /v1/agencies/imigrasi/erasures   {"person_key", "reason", "legal_basis", "officer_id"}
//! GET  /v1/agencies/imigrasi/erasures
//! ```

mod audit;
mod erasure;

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use lintas_events::{Agency, AnyEvent, ErasureScope};
use serde_json::json;
use sqlx::AnyConnection;

pub use audit::{
    chain_entries, compare_with_topic, entry_of, record_read, verify_chain, verify_entries,
    AuditEntry, ChainReport, GENESIS_HASH,
};

use crate::auth::{Caller, Tokens};
use crate::consumer::{Batch, HandlerError, Record};
use crate::views::ViewState;

/// The role that may read personal data, as given in `LINTAS_TOKENS`
/// (`token=imigrasi:KANIM-CILACAP:personal_data`).
pub const PERSONAL_DATA_ROLE: &str = "personal_data";

/// Deletes the personal data of one person recorded at or before a time (ms) from an agency's
/// views, in the caller's transaction.
pub type EraseFn = for<'c> fn(
    &'c mut AnyConnection,
    &'c str,
    i64,
)
    -> Pin<Box<dyn Future<Output = Result<(), sqlx::Error>> + Send + 'c>>;

/// What personal data an agency's subscriber holds, about whom, and how it is erased.
#[derive(Clone, Copy)]
pub struct PersonalData {
    /// The agency that controls the data (and serves it).
    pub agency: Agency,
    /// Whom the person keys name: subjects (subject keys) or reported recruiters.
    pub scope: ErasureScope,
    /// The fields held, named in erasure records.
    pub fields: &'static [&'static str],
    pub erase: EraseFn,
}

impl PersonalData {
    /// The agency's audit log (list and verify) and its erasure requests, for its own
    /// tokens.
    pub fn router(self, views: ViewState) -> Router {
        let base = format!("/v1/agencies/{}", self.agency);
        let state = State { views, data: self };
        Router::new()
            .route(
                &format!("{base}/audit/personal-data-reads"),
                get(audit::reads),
            )
            .route(
                &format!("{base}/audit/personal-data-reads/verify"),
                get(audit::verify),
            )
            .route(
                &format!("{base}/erasures"),
                get(erasure::list).post(erasure::request),
            )
            .with_state(state)
    }

    /// Applies this agency's records from the privacy topic: audit entries (restored on a
    /// rebuild) and erasures (applied again, so that data replayed before them is removed).
    /// Returns whether `record` was one of them.
    pub async fn apply(
        &self,
        batch: &mut Batch<'_>,
        record: &Record,
    ) -> Result<bool, HandlerError> {
        match &record.event {
            AnyEvent::PersonalDataRead(e) if e.envelope.agency == self.agency => {
                audit::restore(batch.tx(), e).await?;
                Ok(true)
            }
            AnyEvent::PersonalDataErased(e)
                if e.envelope.agency == self.agency && e.scope == self.scope =>
            {
                erasure::apply(batch.tx(), self, e).await?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// When each of `keys` was last erased (ms), for the keys that were: personal data that
    /// occurred at or before that time must not be stored again.
    pub async fn erased_at(
        &self,
        conn: &mut AnyConnection,
        keys: &[&str],
    ) -> Result<HashMap<String, i64>, sqlx::Error> {
        erasure::erased_at(conn, self, keys).await
    }
}

/// Router state of the audit and erasure routes.
#[derive(Clone)]
struct State {
    views: ViewState,
    data: PersonalData,
}

impl AsRef<Tokens> for State {
    fn as_ref(&self) -> &Tokens {
        &self.views.tokens
    }
}

/// Why personal data is being read, and by whom: required with every read.
#[derive(Debug, Clone)]
pub struct Justification {
    pub purpose: String,
    pub officer_id: String,
}

/// Whether `text` holds a run of 8 or more digits: an identity, passport or phone number has
/// no place in a purpose, a legal basis or a note that travel beside personal data.
pub fn holds_identifying_number(text: &str) -> bool {
    let mut run = 0;
    for c in text.chars() {
        if c.is_ascii_digit() {
            run += 1;
            if run >= 8 {
                return true;
            }
        } else if !matches!(c, ' ' | '-' | '.') {
            run = 0;
        }
    }
    false
}

/// Checks that `caller` may read personal data and has said why (`purpose`, in the query);
/// the officer is the one its credential names, never a query parameter (an `officer_id` in
/// the query is refused unless it is that same officer). The refusal is the response to send.
#[allow(clippy::result_large_err)] // the refusal is the response itself, sent at once
pub fn justify(
    caller: &Caller,
    query: &HashMap<String, String>,
) -> Result<Justification, Response> {
    if !caller.has_role(PERSONAL_DATA_ROLE) {
        return Err((
            StatusCode::FORBIDDEN,
            Json(json!({ "error": "this token may not read personal data (role personal_data)" })),
        )
            .into_response());
    }
    let Some(officer_id) = caller.officer.clone() else {
        return Err((
            StatusCode::FORBIDDEN,
            Json(json!({ "error": "this credential names no officer: personal data is read only with an officer's sign-in (or a static token with officer=ID)" })),
        )
            .into_response());
    };
    if let Some(refusal) = query
        .get("officer_id")
        .and_then(|v| caller.other_officer(v))
    {
        return Err(refusal);
    }
    let mut fields = Vec::new();
    let purpose = match query.get("purpose").map(|v| v.trim()) {
        Some(v) if holds_identifying_number(v) => {
            fields.push(json!({ "field": "purpose", "message": "must not hold an identity, passport or phone number" }));
            String::new()
        }
        Some(v) if !v.is_empty() && v.len() <= 200 => v.to_string(),
        _ => {
            fields.push(json!({ "field": "purpose", "message": "required to read personal data, 1 to 200 characters" }));
            String::new()
        }
    };
    if !fields.is_empty() {
        return Err((
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({ "error": "validation_failed", "fields": fields })),
        )
            .into_response());
    }
    Ok(Justification {
        purpose,
        officer_id,
    })
}

#[cfg(test)]
mod tests {
    use super::holds_identifying_number;

    #[test]
    fn numbers_that_identify_are_spotted() {
        assert!(holds_identifying_number("check 3301014501900001"));
        assert!(holds_identifying_number("call +62 812-3456-7890"));
        assert!(!holds_identifying_number("UU 27/2022 Pasal 8"));
        assert!(!holds_identifying_number("case LP-112 of 2026"));
    }
}
