//! Publisher services: HTTP in, validated events out. Each endpoint answers `202` only after
//! the broker acknowledged the event, and publishes nothing for input it refuses.
#![forbid(unsafe_code)]

mod applicants;
pub mod validate;

use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use lintas_kit::auth::Tokens;
use lintas_kit::events::SubjectKeyer;
use lintas_kit::producer::{EventProducer, PublishError};

/// Largest request body accepted; an applicant record is a few hundred bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

#[derive(Clone)]
pub struct IntakeState {
    pub producer: EventProducer,
    pub keyer: SubjectKeyer,
    pub tokens: Tokens,
}

impl AsRef<Tokens> for IntakeState {
    fn as_ref(&self) -> &Tokens {
        &self.tokens
    }
}

/// The registration intake's routes.
pub fn router(state: IntakeState) -> Router {
    Router::new()
        .route("/v1/applicants", post(applicants::register))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

/// A refusal with a JSON body naming the reason and, for validation, each bad field.
#[derive(Debug)]
pub enum Refusal {
    Invalid(Vec<validate::FieldError>),
    BadRequest(StatusCode, String),
    Unavailable(String),
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::Invalid(fields) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                Json(serde_json::json!({ "error": "validation_failed", "fields": fields })),
            )
                .into_response(),
            Refusal::BadRequest(status, reason) => {
                (status, Json(serde_json::json!({ "error": reason }))).into_response()
            }
            Refusal::Unavailable(reason) => {
                let mut response = (
                    StatusCode::SERVICE_UNAVAILABLE,
                    Json(serde_json::json!({ "error": "event not accepted, retry later", "reason": reason })),
                )
                    .into_response();
                response
                    .headers_mut()
                    .insert("retry-after", "5".parse().expect("static header"));
                response
            }
        }
    }
}

impl From<PublishError> for Refusal {
    fn from(e: PublishError) -> Self {
        tracing::warn!(error = %e, "publish failed; answering 503");
        Refusal::Unavailable(e.to_string())
    }
}

/// How long the intake waits for the broker before answering 503.
pub const BROKER_WAIT: Duration = Duration::from_secs(10);
