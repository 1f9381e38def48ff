//! The dashboard page, its data as JSON, and the dead-letter viewer.
//!
//! The page polls `/ops/api/snapshot`; everything it draws comes from there, so the same
//! figures are available to scripts. The page and its script and style are a static shell
//! with a sign-in form and no data; every `/ops/api/` route needs a bearer token with the
//! operator role (401 without one, 403 for a token without the role), which the page keeps
//! in the tab's `sessionStorage` (never in a URL or a cookie).

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use lintas_kit::auth::{AuthError, Caller, Tokens, OPERATOR_ROLE};
use lintas_kit::views::problem;

use crate::viewer::TooManyViews;
use crate::{now_ms, Ops};

const PAGE: &str = include_str!("../assets/index.html");
const SCRIPT: &str = include_str!("../assets/app.js");
const STYLE: &str = include_str!("../assets/app.css");

/// The page runs only its own script and talks only to this server: a script injected
/// through a dead-letter reason could neither run nor send the token elsewhere. Style
/// attributes are the charts' and bars' sizes and colours.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     style-src-attr 'unsafe-inline'; connect-src 'self'; img-src 'self'; form-action 'none'; \
     frame-ancestors 'none'; base-uri 'none'";

/// Router state: the monitor and the callers' tokens.
#[derive(Clone)]
struct Api {
    ops: Ops,
    tokens: Tokens,
}

impl AsRef<Tokens> for Api {
    fn as_ref(&self) -> &Tokens {
        &self.tokens
    }
}

/// `/ops` (the page), `/ops/app.js`, `/ops/app.css`, and with an operator's token
/// `/ops/api/snapshot`, `/ops/api/dead-letters/{topic}/{partition}/{offset}`,
/// `POST /ops/api/groups` (`{"group": "…"}`: look for an integrator's group by name),
/// `POST /ops/api/groups/{group}/dead-letters/redrive` (`{"all": true}`, `{"class": "…"}` or
/// `{"partition": 0, "from_offset": 3, "to_offset": 9}`, and an optional `"reason"`) and
/// `POST /ops/api/groups/{group}/dead-letters/{partition}/{offset}/discard`
/// (`{"reason": "…"}`, required): [`crate::redrive`].
pub fn router(ops: Ops, tokens: Tokens) -> Router {
    Router::new()
        .route(
            "/ops",
            get(|| async { asset("text/html; charset=utf-8", PAGE) }),
        )
        .route(
            "/ops/app.js",
            get(|| async { asset("text/javascript; charset=utf-8", SCRIPT) }),
        )
        .route(
            "/ops/app.css",
            get(|| async { asset("text/css; charset=utf-8", STYLE) }),
        )
        .route("/ops/api/snapshot", get(snapshot))
        .route("/ops/api/groups", post(name_group))
        .route(
            "/ops/api/dead-letters/{topic}/{partition}/{offset}",
            get(dead_letter),
        )
        .route(
            "/ops/api/groups/{group}/dead-letters/redrive",
            post(redrive),
        )
        .route(
            "/ops/api/groups/{group}/dead-letters/{partition}/{offset}/discard",
            post(discard),
        )
        .with_state(Api { ops, tokens })
}

/// A caller whose token carries the operator role.
struct Operator(Caller);

impl FromRequestParts<Api> for Operator {
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, state: &Api) -> Result<Self, AuthError> {
        let caller = Caller::from_request_parts(parts, state).await?;
        if caller.has_role(OPERATOR_ROLE) {
            Ok(Operator(caller))
        } else {
            Err(AuthError::needs(format_args!(
                "an operator token (role {OPERATOR_ROLE})"
            )))
        }
    }
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
            (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        body,
    )
        .into_response()
}

async fn snapshot(_: Operator, State(api): State<Api>) -> Response {
    let now = now_ms();
    let mut view = api.ops.view();
    let minutes = view.minutes.as_mut().map(|s| s.rates(now));
    let hours = view.hours.as_mut().map(|s| s.rates(now));
    let mut alerts: Vec<_> = view.alerts.values().cloned().collect();
    alerts.sort_by_key(|a| std::cmp::Reverse(a.raised_at_ms));
    alerts.truncate(50);
    let open = view
        .alerts
        .values()
        .filter(|a| a.status != "closed")
        .count();
    let body = Json(serde_json::json!({
        "generated_at_ms": now,
        "broker_error": view.broker,
        "events_seen": view.events_seen,
        "throughput": { "minutes": minutes, "hours": hours },
        "groups": view.groups,
        // A broker that does not list its groups (the embedded broker of `lintas up`) shows
        // only our subscribers and the groups named here: the page says so.
        "group_discovery": {
            "broker_lists_groups": view.lists_groups,
            "named": api.ops.named_groups(),
            "max_named": crate::MAX_NAMED_GROUPS,
        },
        "dead_letters": {
            "topics": view.dead_letter_counts.values().collect::<Vec<_>>(),
            "newest": view.newest_dead_letters,
        },
        "alerts": { "open": open, "newest": alerts },
        "services": view.services,
    }));
    ([(header::CACHE_CONTROL, "no-store")], body).into_response()
}

async fn dead_letter(
    Operator(caller): Operator,
    State(api): State<Api>,
    Path((topic, partition, offset)): Path<(String, i32, i64)>,
) -> Response {
    let not_found = || {
        problem(
            StatusCode::NOT_FOUND,
            format!("no dead letter at {topic}/{partition}/{offset} (not a dead-letter topic, or no longer retained)"),
        )
    };
    let Some(group) = api
        .ops
        .settings
        .dead_letter_group(&topic)
        .map(str::to_string)
    else {
        return not_found();
    };
    if let Err(TooManyViews(wait)) = api.ops.viewer.admit() {
        let mut response = problem(
            StatusCode::TOO_MANY_REQUESTS,
            "too many dead letters viewed: the viewer reads from the broker at a bounded rate; retry later",
        );
        let seconds = wait.as_secs().max(1).to_string();
        if let Ok(value) = HeaderValue::from_str(&seconds) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return response;
    }
    // Who looked at which dead letter: the record may hold personal data.
    tracing::info!(office = %caller.office, agency = %caller.agency, %topic, partition, offset, "dead letter viewed");
    match api.ops.viewer.read(&topic, partition, offset, &group).await {
        Ok(Some(letter)) => Json(letter).into_response(),
        Ok(None) => not_found(),
        Err(e) => {
            tracing::warn!(error = %e, %topic, partition, offset, "dead letter not read");
            problem(
                StatusCode::SERVICE_UNAVAILABLE,
                "could not read from the broker; retry",
            )
        }
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct NameGroup {
    group: String,
}

/// Looks for an integrator's consumer group by name (201, or 200 when it already was): on a
/// broker that does not list its groups this is how other groups reach the page.
async fn name_group(
    Operator(caller): Operator,
    State(api): State<Api>,
    body: Result<Json<NameGroup>, JsonRejection>,
) -> Response {
    let Json(NameGroup { group }) = match body {
        Ok(body) => body,
        Err(e) => {
            return problem(
                StatusCode::BAD_REQUEST,
                format!(
                    "expected {{\"group\": \"<consumer group id>\"}}: {}",
                    e.body_text()
                ),
            )
        }
    };
    match api.ops.name_group(&group) {
        Ok(added) => {
            tracing::info!(office = %caller.office, agency = %caller.agency, %group, added, "consumer group named to the dashboard");
            let status = if added {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            (
                status,
                Json(serde_json::json!({ "group": group, "named": api.ops.named_groups() })),
            )
                .into_response()
        }
        Err(e @ crate::NameGroupError::Invalid) => {
            problem(StatusCode::UNPROCESSABLE_ENTITY, e.to_string())
        }
        Err(e @ crate::NameGroupError::TooMany) => problem(StatusCode::CONFLICT, e.to_string()),
    }
}

async fn redrive(
    Operator(caller): Operator,
    State(api): State<Api>,
    Path(group): Path<String>,
    body: Result<Json<crate::redrive::RedriveBody>, JsonRejection>,
) -> Response {
    crate::redrive::redrive(&api.ops, &caller, &group, body).await
}

async fn discard(
    Operator(caller): Operator,
    State(api): State<Api>,
    Path(at): Path<(String, i32, i64)>,
    body: Result<Json<crate::redrive::DiscardBody>, JsonRejection>,
) -> Response {
    crate::redrive::discard(&api.ops, &caller, at, body).await
}
