//! Publisher services: HTTP in, validated events out. Each endpoint answers `202` only after
//! the broker acknowledged its events, publishes nothing for input it refuses, and honours
//! `Idempotency-Key`. Requests are declared field by field ([`spec`]); the same declaration
//! validates them and produces `/openapi.json`.
#![forbid(unsafe_code)]

pub mod accept;
pub mod checks;
pub mod endpoints;
pub mod idempotency;
pub mod spec;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use lintas_kit::auth::{Caller, Tokens};
use lintas_kit::events::SubjectKeyer;
use lintas_kit::producer::{EventProducer, PublishError};
use lintas_kit::store::{Migrations, Store};

use accept::Build;
use spec::{Checks, Endpoint, FieldError};

/// Largest request body accepted; the largest request is a few kilobytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Checkpoints (TPI) known by default: the main international airports and the seaports used
/// by people from Cilacap. Deployments configure their own (LINTAS_CHECKPOINTS).
pub const DEFAULT_CHECKPOINTS: &str =
    "TPI-CGK,TPI-YIA,TPI-SRG,TPI-SUB,TPI-KNO,TPI-DPS,TPI-BTH,TPI-CLP,TPI-TPR,TPI-DUM";

/// Database schema (or SQLite file) of the intakes: the idempotency answers.
pub const SCHEMA: &str = "intake";

pub fn migrations() -> Migrations {
    Migrations {
        postgres: sqlx::migrate!("./migrations/postgres"),
        sqlite: sqlx::migrate!("./migrations/sqlite"),
    }
}

#[derive(Clone)]
pub struct IntakeState {
    pub producer: EventProducer,
    pub keyer: SubjectKeyer,
    pub tokens: Tokens,
    pub store: Store,
    pub checkpoints: Vec<String>,
    /// The deployment's time zone, of "today" in date checks.
    pub time_zone: lintas_kit::events::calendar::TimeZone,
}

#[cfg(test)]
impl IntakeState {
    /// An intake that is never asked to publish, for tests of the builders: they only derive
    /// events.
    pub(crate) async fn for_tests() -> IntakeState {
        use lintas_kit::codec::Codec;
        use lintas_kit::producer::ProducerSettings;
        use lintas_kit::registry::RegistryClient;
        let codec = Codec::new(RegistryClient::new("http://127.0.0.1:9"), "");
        IntakeState {
            producer: EventProducer::new(&ProducerSettings::new("127.0.0.1:9"), codec).unwrap(),
            keyer: SubjectKeyer::new(&[7; 32]).unwrap(),
            tokens: Tokens::parse("").unwrap(),
            store: Store::connect("sqlite::memory:", SCHEMA).await.unwrap(),
            checkpoints: vec!["TPI-CGK".into()],
            time_zone: lintas_kit::events::calendar::TimeZone::Wib,
        }
    }
}

impl AsRef<Tokens> for IntakeState {
    fn as_ref(&self) -> &Tokens {
        &self.tokens
    }
}

/// An intake: its endpoints and how each builds its events.
pub struct Intake {
    pub name: &'static str,
    pub title: &'static str,
    pub endpoints: &'static [(&'static Endpoint, Build)],
}

pub static DISNAKER: Intake = Intake {
    name: "disnaker",
    title: "Lintas Disnaker intake",
    endpoints: &[
        (
            &endpoints::applicants::JOBSEEKERS,
            endpoints::applicants::jobseeker,
        ),
        (
            &endpoints::applicants::PASSPORT_RECOMMENDATIONS,
            endpoints::applicants::passport_recommendation,
        ),
        (
            &endpoints::applicants::APPLICANTS,
            endpoints::applicants::any_source,
        ),
    ],
};

pub static IMIGRASI: Intake = Intake {
    name: "imigrasi",
    title: "Lintas immigration office intake",
    endpoints: &[
        (
            &endpoints::applicants::PASSPORT_APPLICATIONS,
            endpoints::applicants::passport_application,
        ),
        (
            &endpoints::interviews::INTERVIEWS,
            endpoints::interviews::interview,
        ),
        (
            &endpoints::screening::VISA_FLAGS,
            endpoints::screening::visa_flag,
        ),
    ],
};

pub static CHECKPOINT: Intake = Intake {
    name: "checkpoint",
    title: "Lintas checkpoint (TPI) intake",
    endpoints: &[
        (
            &endpoints::checkpoints::DEPARTURE_CHECKS,
            endpoints::checkpoints::departure_check,
        ),
        (
            &endpoints::checkpoints::GROUP_CHECKS,
            endpoints::checkpoints::group_check,
        ),
    ],
};

pub static REFERRAL: Intake = Intake {
    name: "referral",
    title: "Lintas referral and case intake",
    endpoints: &[
        (&endpoints::cases::REFERRALS, endpoints::cases::referral),
        (&endpoints::cases::RECRUITERS, endpoints::cases::recruiter),
        (
            &endpoints::cases::INVESTIGATIONS,
            endpoints::cases::investigation,
        ),
        (&endpoints::cases::SPDP, endpoints::cases::spdp),
        (
            &endpoints::cases::PROSECUTION_STAGES,
            endpoints::cases::prosecution_stage,
        ),
    ],
};

/// The agencies that publish through `intakes`: the only credentials those intakes accept.
pub fn publishers(intakes: &[&Intake]) -> Vec<lintas_kit::events::Agency> {
    let mut agencies = Vec::new();
    for intake in intakes {
        for (endpoint, _) in intake.endpoints {
            for agency in endpoint.agencies {
                if !agencies.contains(agency) {
                    agencies.push(*agency);
                }
            }
        }
    }
    agencies
}

/// Runs every endpoint's builder on the endpoint's own example, as its example caller,
/// publishing nothing: a builder asking for a field its endpoint does not declare (a misspelt
/// name) or refusing its own example stops the service at start-up, naming the endpoint,
/// rather than failing its first request. Paths the examples do not take are covered by the
/// endpoint tests.
pub fn self_check(state: &IntakeState, intakes: &[&Intake]) -> Result<(), String> {
    let checks = Checks {
        checkpoints: &state.checkpoints,
        time_zone: state.time_zone,
        now: lintas_kit::events::timefmt::millis::now(),
    };
    for (endpoint, build) in intakes.iter().flat_map(|i| i.endpoints.iter()) {
        let path = endpoint.path;
        let example = (endpoint.example)(&checks);
        let validated = spec::validate(endpoint.fields, &example, &checks)
            .map_err(|e| format!("{path}: its example is refused: {e:?}"))?;
        let mut caller = Caller::new(endpoint.example_caller, "SELF-CHECK");
        if let Some(checkpoint) = state.checkpoints.first() {
            caller.checkpoint = Some(checkpoint.clone());
        }
        caller
            .roles
            .push(lintas_kit::auth::ALL_VILLAGES_ROLE.into());
        let built = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            build(&validated, &accept::Request::without_key(&caller, state))
        }));
        match built {
            // What an endpoint publishes is declared (its document, the Kafka ACLs of its
            // callers, `lintas describe`): an event it does not declare would be refused by the
            // broker in a deployment that grants exactly the declared topics.
            Ok(Ok(events)) => {
                if let Some(e) = events
                    .iter()
                    .find(|e| !endpoint.publishes.contains(&e.type_name()))
                {
                    return Err(format!(
                        "{path}: its builder makes {}, which the endpoint does not declare in `publishes` {:?}",
                        e.type_name(),
                        endpoint.publishes
                    ));
                }
            }
            Ok(Err(fields)) => return Err(format!("{path}: its example is refused: {fields:?}")),
            Err(panic) => {
                let reason = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                return Err(format!("{path}: its builder fails: {reason}"));
            }
        }
    }
    Ok(())
}

/// Every intake, for `lintas up` and `lintas intake all`.
pub static ALL: &[&Intake] = &[&DISNAKER, &IMIGRASI, &CHECKPOINT, &REFERRAL];

/// Routes of the given intakes, plus `/openapi.json` describing exactly them.
pub fn router(state: IntakeState, intakes: &[&'static Intake]) -> Router {
    let endpoints: Vec<(&'static Endpoint, Build)> = intakes
        .iter()
        .flat_map(|i| i.endpoints.iter().copied())
        .collect();
    let title = match intakes {
        [one] => one.title,
        _ => "Lintas intakes",
    };
    let documented: Vec<&'static Endpoint> = endpoints.iter().map(|(e, _)| *e).collect();
    let checkpoints = state.checkpoints.clone();
    let time_zone = state.time_zone;
    // Made per request: the examples' times and dates are relative to today.
    let mut router = Router::new().route(
        "/openapi.json",
        get(move || {
            let document = spec::openapi(
                title,
                &documented,
                &Checks {
                    checkpoints: &checkpoints,
                    time_zone,
                    now: time::OffsetDateTime::now_utc(),
                },
            );
            async move { Json(document) }
        }),
    );
    for (endpoint, build) in endpoints {
        router = router.route(
            endpoint.path,
            post(
                move |State(state): State<IntakeState>,
                      caller: Caller,
                      headers: HeaderMap,
                      body: Bytes| {
                    accept::handle(endpoint, build, state, caller, headers, body)
                },
            ),
        );
    }
    router
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

/// Deletes idempotency answers older than `retention`, hourly, until shutdown.
pub async fn purge_loop(
    store: Store,
    retention: std::time::Duration,
    shutdown: lintas_kit::shutdown::Shutdown,
) -> anyhow::Result<()> {
    loop {
        match idempotency::purge(&store, retention).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(purged = n, "old idempotency answers purged"),
            Err(e) => tracing::warn!(error = %e, "idempotency purge failed; next hour"),
        }
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_secs(3600)) => {}
            _ = shutdown.wait() => return Ok(()),
        }
    }
}

/// A refusal with a JSON body naming the reason and, for validation, each bad field.
#[derive(Debug)]
pub enum Refusal {
    Invalid(Vec<FieldError>),
    /// The credential does not vouch for these fields' values: 403, the fields named.
    Forbidden(Vec<FieldError>),
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
            Refusal::Forbidden(fields) => (
                StatusCode::FORBIDDEN,
                Json(serde_json::json!({ "error": "beyond this credential", "fields": fields })),
            )
                .into_response(),
            Refusal::BadRequest(status, reason) => {
                (status, Json(serde_json::json!({ "error": reason }))).into_response()
            }
            Refusal::Unavailable(reason) => {
                let mut response = (
                    StatusCode::SERVICE_UNAVAILABLE,
                    Json(serde_json::json!({
                        "error": "event not accepted, retry later",
                        "reason": reason,
                        "retry": "the event may or may not have reached the broker: retry with the same Idempotency-Key (or occurred_at), so that it is recorded once",
                    })),
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

#[cfg(test)]
mod self_check_tests {
    use super::*;

    /// Every shipped endpoint's builder makes events of its own example.
    #[tokio::test]
    async fn every_shipped_builder_passes_the_self_check() {
        let state = IntakeState::for_tests().await;
        self_check(&state, ALL).unwrap();
    }

    /// A builder making an event its endpoint does not declare stops the intake at start-up,
    /// naming the endpoint and the event.
    #[tokio::test]
    async fn an_undeclared_event_fails_the_self_check() {
        fn undeclared(
            v: &spec::Validated,
            r: &accept::Request<'_>,
        ) -> Result<Vec<lintas_kit::events::AnyEvent>, Vec<FieldError>> {
            let mut events = endpoints::applicants::jobseeker(v, r)?;
            let mut cleared: lintas_kit::events::DepartureCleared =
                lintas_kit::testing::examples::example();
            cleared.envelope = events[0].envelope().clone();
            events.push(lintas_kit::events::Event::into_any(cleared));
            Ok(events)
        }
        static UNDECLARED: Intake = Intake {
            name: "test",
            title: "a builder publishing more than its endpoint declares",
            endpoints: &[(&endpoints::applicants::JOBSEEKERS, undeclared)],
        };
        let state = IntakeState::for_tests().await;
        let error = self_check(&state, &[&UNDECLARED]).unwrap_err();
        assert!(
            error.contains("/v1/disnaker/jobseekers") && error.contains("DepartureCleared"),
            "{error}"
        );
    }

    /// A builder reading a field by a misspelt name stops the intake at start-up, naming
    /// the endpoint and the name.
    #[tokio::test]
    async fn a_misspelt_field_name_fails_the_self_check() {
        fn misspelt(
            v: &spec::Validated,
            _: &accept::Request<'_>,
        ) -> Result<Vec<lintas_kit::events::AnyEvent>, Vec<FieldError>> {
            let _ = v.opt_text("nkk");
            Ok(Vec::new())
        }
        static MISSPELT: Intake = Intake {
            name: "test",
            title: "a builder with a typo",
            endpoints: &[(&endpoints::applicants::JOBSEEKERS, misspelt)],
        };
        let state = IntakeState::for_tests().await;
        let error = self_check(&state, &[&MISSPELT]).unwrap_err();
        assert!(
            error.contains("/v1/disnaker/jobseekers") && error.contains("`nkk` is not a field"),
            "{error}"
        );
    }
}
