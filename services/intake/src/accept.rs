//! The one path every intake request takes: who may call, what the body must be, the
//! idempotency key, validation, publishing with acknowledgement, the answer.

use std::cell::Cell;

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use lintas_kit::auth::{AuthError, Caller, ALL_VILLAGES_ROLE};
use lintas_kit::events::{timefmt, Agency, AnyEvent, Envelope};
use serde_json::{json, Value};

use crate::idempotency::{self, Key, Seen};
use crate::spec::{validate, Checks, Endpoint, FieldError, Validated};
use crate::{IntakeState, Refusal};

/// Turns a validated request into the events to publish, or names the fields that do not
/// fit together.
pub type Build = fn(&Validated, &Request<'_>) -> Result<Vec<AnyEvent>, Vec<FieldError>>;

/// What a builder may use: the caller and the service's configuration.
pub struct Request<'a> {
    pub caller: &'a Caller,
    pub state: &'a IntakeState,
    key: Option<&'a Key<'a>>,
    next: Cell<usize>,
}

impl<'a> Request<'a> {
    /// An envelope stamped with the caller's agency and office, the officer and times from
    /// the request, and a fresh event id (derived from the idempotency key when there is one).
    pub fn envelope(&self, v: &Validated, nik: Option<&str>) -> Envelope {
        let occurred = v
            .opt_time("occurred_at")
            .unwrap_or_else(timefmt::millis::now);
        let mut envelope = Envelope::new(
            self.caller.agency,
            self.caller.office.clone(),
            v.text("officer_id"),
            occurred,
        );
        let index = self.next.get();
        self.next.set(index + 1);
        if let Some(key) = self.key {
            envelope.event_id = key.event_id(index);
        }
        envelope.subject_key = nik.map(|n| self.subject_key(n));
        // Every subject key the intake derives or accepts is of the current secret version.
        envelope.subject_key_id = self.state.keyer.key_id();
        envelope.correlation_id = v.opt_uuid("correlation_id");
        envelope
    }

    pub fn subject_key(&self, nik: &str) -> String {
        self.state.keyer.subject_key(nik)
    }

    /// A request without an idempotency key: what a builder makes of a body, published
    /// nowhere (the start-up self-check, tests).
    pub(crate) fn without_key(caller: &'a Caller, state: &'a IntakeState) -> Request<'a> {
        Request {
            caller,
            state,
            key: None,
            next: Cell::new(0),
        }
    }
}

/// What the request asserts beyond what its credential vouches for, by field: a checkpoint
/// office records departure checks only at its own checkpoint ([`Caller::checkpoint`]: its
/// `checkpoint=` claim, else its office code when that is a checkpoint's), and no other
/// immigration office records them; a village office reports only for its own village (the
/// regency's village office, role `all_villages`, for any).
fn beyond_credential(caller: &Caller, v: &Validated, checkpoints: &[String]) -> Vec<FieldError> {
    let mut fields = Vec::new();
    if v.holds("checkpoint_code") {
        let asserted = v.text("checkpoint_code");
        match caller.checkpoint(checkpoints) {
            Some(own) if own.eq_ignore_ascii_case(&asserted) => {}
            Some(own) => fields.push(FieldError::new(
                "checkpoint_code",
                format!("this credential records checks at {own} only"),
            )),
            None => fields.push(FieldError::new(
                "checkpoint_code",
                "only a checkpoint office's credential records departure checks",
            )),
        }
    }
    // A credential that names its officer publishes as that officer only.
    if let Some(signed_in) = &caller.officer {
        if v.has("officer_id") && v.text("officer_id").trim() != signed_in {
            fields.push(FieldError::new(
                "officer_id",
                format!("this credential is officer {signed_in}'s"),
            ));
        }
    }
    // Villages are matched by code: a name is shared by many villages.
    if caller.agency == Agency::Desa
        && v.holds("village_code")
        && !caller.has_role(ALL_VILLAGES_ROLE)
    {
        let asserted = v.opt_village_code("village_code");
        match &caller.village {
            Some(own) if Some(own) == asserted.as_ref() => {}
            Some(own) => fields.push(FieldError::new(
                "village_code",
                format!("this credential reports for village {own} only"),
            )),
            None => fields.push(FieldError::new(
                "village_code",
                "this credential names no village (claim village=CODE)",
            )),
        }
    }
    fields
}

pub async fn handle(
    endpoint: &'static Endpoint,
    build: Build,
    state: IntakeState,
    caller: Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match accept(endpoint, build, &state, &caller, &headers, &body).await {
        Ok(response) => response,
        Err(refusal) => refusal.into_response(),
    }
}

async fn accept(
    endpoint: &'static Endpoint,
    build: Build,
    state: &IntakeState,
    caller: &Caller,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Response, Refusal> {
    if !endpoint.agencies.contains(&caller.agency) {
        let agencies: Vec<String> = endpoint.agencies.iter().map(|a| a.to_string()).collect();
        let needed = format_args!("a token of {}", agencies.join(" or "));
        return Ok(AuthError::needs(needed).into_response());
    }
    // JSON only, strictly: no duplicate keys (a reader keeping the first of two would see
    // another request), no control or invisible formatting characters in any string.
    let json: Value = match lintas_kit::http::parse_body(headers, body) {
        Ok(json) => json,
        Err(refused) => return Ok(refused.into_response()),
    };

    let key_text = match headers.get("idempotency-key") {
        None => None,
        Some(v) => match v.to_str() {
            Ok(k) if !k.trim().is_empty() && k.len() <= 200 => Some(k.trim().to_string()),
            _ => {
                return Err(Refusal::BadRequest(
                    StatusCode::BAD_REQUEST,
                    "Idempotency-Key must be 1 to 200 visible characters".into(),
                ))
            }
        },
    };
    // Without a key, a request that states when the fact occurred is keyed by its content: the
    // same fact retried is the same event.
    let content_key = key_text.is_none() && json.get("occurred_at").is_some_and(|t| t.is_string());
    let auto_key = content_key.then(|| {
        format!(
            "content:{}",
            Key::new(&caller.office, "", body).request_hash
        )
    });
    let key = key_text
        .as_deref()
        .or(auto_key.as_deref())
        .map(|k| Key::new(&caller.office, k, body));
    if let Some(key) = &key {
        match idempotency::reserve(&state.store, key).await {
            Ok(Seen::Replay(answer)) => {
                let mut response = (StatusCode::ACCEPTED, Json(answer)).into_response();
                response
                    .headers_mut()
                    .insert("idempotent-replayed", HeaderValue::from_static("true"));
                return Ok(response);
            }
            Ok(Seen::Conflict) => {
                return Err(Refusal::BadRequest(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "Idempotency-Key was already used for a different request".into(),
                ))
            }
            Ok(Seen::New) => {}
            Err(e) => return Err(Refusal::Unavailable(format!("idempotency store: {e}"))),
        }
    }

    let checks = Checks {
        checkpoints: &state.checkpoints,
        time_zone: state.time_zone,
        now: time::OffsetDateTime::now_utc(),
    };
    let validated = validate(endpoint.fields, &json, &checks).map_err(Refusal::Invalid)?;
    let beyond = beyond_credential(caller, &validated, &state.checkpoints);
    if !beyond.is_empty() {
        return Err(Refusal::Forbidden(beyond));
    }
    let request = Request {
        caller,
        state,
        key: key.as_ref(),
        next: Cell::new(0),
    };
    let events = build(&validated, &request).map_err(Refusal::Invalid)?;

    let mut published = Vec::with_capacity(events.len());
    for event in &events {
        let (delivery, topic) = (state.producer.publish_any(event).await?, event.topic());
        published.push(json!({
            "event_id": event.envelope().event_id,
            "type": event.type_name(),
            "topic": state.producer.codec().topic_name(topic),
            "partition": delivery.partition,
            "offset": delivery.offset,
        }));
    }
    let first = events.first().map(|e| e.envelope());
    let answer = json!({
        "event_id": first.map(|e| e.event_id),
        "subject_key": first.and_then(|e| e.subject_key.clone()),
        "events": published,
    });
    if let Some(key) = &key {
        // Not fatal: a retry republishes the same event ids, which readers de-duplicate.
        if let Err(e) = idempotency::remember(&state.store, key, &answer).await {
            tracing::warn!(error = %e, "could not store the idempotent answer");
        }
    }
    tracing::info!(endpoint = endpoint.path, office = %caller.office, events = events.len(), "accepted");
    Ok((StatusCode::ACCEPTED, Json(answer)).into_response())
}
