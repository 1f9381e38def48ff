//! What a subscriber's query API needs around its own queries: its store and the caller
//! tokens as router state, the agency and role checks, and the answer when the database is
//! down. [`prelude`] brings in everything a route needs, axum's types included (the kit's own
//! axum, so your crate needs no axum dependency of its own): see `services/kit/README.md` §5.

/// `use lintas_kit::views::prelude::*;` for a query route: the router and extractors, the
/// caller and its checks, the JSON answers.
pub mod prelude {
    pub use super::{
        database_unavailable, invalid, problem, require_agency, require_role, Language, ViewState,
    };
    pub use crate::auth::{AuthError, Caller};
    pub use crate::events::Agency;
    pub use axum::extract::{Path, Query, State};
    pub use axum::http::StatusCode;
    pub use axum::response::{IntoResponse, Response};
    pub use axum::routing::{get, post};
    pub use axum::{Json, Router};
}

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use lintas_events::Agency;

use crate::auth::{AuthError, Caller, Tokens};
use crate::store::Store;

/// Router state of a query API: the subscriber's store and the caller tokens, so that
/// handlers can take a [`Caller`] argument.
#[derive(Clone)]
pub struct ViewState {
    pub store: Store,
    pub tokens: Tokens,
    /// For events the API publishes through the store's outbox (alert lifecycle).
    pub codec: crate::codec::Codec,
}

impl AsRef<Tokens> for ViewState {
    fn as_ref(&self) -> &Tokens {
        &self.tokens
    }
}

/// Views are their agency's: any other agency's token gets 403 naming the agency needed.
pub fn require_agency(caller: &Caller, agency: Agency) -> Result<(), AuthError> {
    if caller.agency == agency {
        Ok(())
    } else {
        Err(AuthError::needs_agency(agency))
    }
}

/// The agency's tokens that carry `role` (for instance
/// [`crate::personal::PERSONAL_DATA_ROLE`]); any other token gets 403 naming both.
pub fn require_role(caller: &Caller, agency: Agency, role: &str) -> Result<(), AuthError> {
    if caller.agency == agency && caller.has_role(role) {
        Ok(())
    } else {
        Err(AuthError::needs_role(agency, role))
    }
}

/// 422 naming each bad field: `{"error":"validation_failed","fields":[{"field","message"}]}`.
pub fn invalid(fields: Vec<(&str, String)>) -> Response {
    let fields: Vec<serde_json::Value> = fields
        .into_iter()
        .map(|(field, message)| serde_json::json!({ "field": field, "message": message }))
        .collect();
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        Json(serde_json::json!({ "error": "validation_failed", "fields": fields })),
    )
        .into_response()
}

/// Any other refusal: `{"error": message}`.
pub fn problem(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(serde_json::json!({ "error": message.into() }))).into_response()
}

/// 503 for a failure that is not the caller's (database, registry, broker): logged, and the
/// caller may retry.
pub fn unavailable(error: anyhow::Error) -> Response {
    match error.downcast::<sqlx::Error>() {
        Ok(e) => database_unavailable(e),
        Err(e) => {
            tracing::error!(error = %e, "request failed");
            problem(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily unavailable; retry",
            )
        }
    }
}

/// 503 with a JSON reason, logged: the caller may retry; the cause stays in the logs.
pub fn database_unavailable(error: sqlx::Error) -> Response {
    tracing::error!(error = %error, "query failed");
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(serde_json::json!({ "error": "database unavailable" })),
    )
        .into_response()
}

/// `?lang=` named a language Lintas does not write: answered as a 422 naming the parameter.
#[derive(Debug)]
pub struct UnknownLanguage;

impl UnknownLanguage {
    /// The message of the 422's field.
    pub const MESSAGE: &'static str = "`id` (Bahasa Indonesia, the default) or `en` (English)";
}

impl IntoResponse for UnknownLanguage {
    fn into_response(self) -> Response {
        invalid(vec![(Language::PARAMETER, Self::MESSAGE.into())])
    }
}

/// The language a caller reads generated texts in (alert summaries, notices): Bahasa
/// Indonesia unless `?lang=en` asks for English.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Language {
    #[default]
    Indonesian,
    English,
}

impl Language {
    /// The query parameter naming it.
    pub const PARAMETER: &'static str = "lang";

    /// `?lang=` of a query: absent is Bahasa Indonesia; anything but `id` or `en` is a
    /// 422 naming the parameter, so a typo does not silently give the other language.
    pub fn from_query(
        query: &std::collections::HashMap<String, String>,
    ) -> Result<Language, UnknownLanguage> {
        match query.get(Self::PARAMETER).map(String::as_str) {
            None | Some("id") => Ok(Language::Indonesian),
            Some("en") => Ok(Language::English),
            Some(_) => Err(UnknownLanguage),
        }
    }

    /// Its code: `id` or `en`.
    pub fn code(self) -> &'static str {
        match self {
            Language::Indonesian => "id",
            Language::English => "en",
        }
    }

    /// A stored text in this language: from `summaries` (a JSON object by language code),
    /// else `english`, the text rows written before translations carry.
    pub fn pick(self, english: String, summaries: Option<&str>) -> String {
        summaries
            .and_then(|json| {
                serde_json::from_str::<std::collections::HashMap<String, String>>(json).ok()
            })
            .and_then(|mut by_language| by_language.remove(self.code()))
            .unwrap_or(english)
    }
}

#[cfg(test)]
mod tests {
    use super::Language;

    #[test]
    fn officers_read_bahasa_unless_they_ask_for_english() {
        let query = |v: &str| [("lang".to_owned(), v.to_owned())].into();
        assert_eq!(
            Language::from_query(&Default::default()).unwrap(),
            Language::Indonesian
        );
        assert_eq!(
            Language::from_query(&query("en")).unwrap(),
            Language::English
        );
        assert!(Language::from_query(&query("jv")).is_err());
        let both = r#"{"id":"visa turis","en":"tourist visa"}"#;
        assert_eq!(
            Language::Indonesian.pick("tourist visa".into(), Some(both)),
            "visa turis"
        );
        assert_eq!(
            Language::English.pick("tourist visa".into(), Some(both)),
            "tourist visa"
        );
        // A row from before translations: English in every language.
        assert_eq!(Language::Indonesian.pick("old".into(), None), "old");
    }
}
