//! A sixth agency, Dinsos (social affairs), added as a real one would be: its subscriber
//! implemented once (here, where a real one would be in its own crate, with the kit's public
//! API only) and one line in a list. The binary's own wiring then runs over that list, and the
//! sixth agency is wired like the five: named on `lintas subscriber`'s command line, its
//! dead-letter topic created, its store migrated, its query routes served with its own
//! credentials only, its handler built from the binary's settings.

use clap::builder::TypedValueParser;
use lintas_kit::agency::{AgencySubscriber, Wire};
use lintas_kit::auth::Tokens;
use lintas_kit::consumer::{Batch, Handler, HandlerError};
use lintas_kit::events::Topic;
use lintas_kit::events::{Event, VisaTypeFlagged};
use lintas_kit::store::{Migrations, Store};
use lintas_kit::testing::examples::example;
use lintas_kit::testing::{get, Harness};
use lintas_kit::views::prelude::{get as get_route, *};
use sqlx::Row;

use super::{Wired, AGENCIES};
use crate::cmd::rules::RuleArgs;
use crate::cmd::subscriber::agency_parser;
use crate::cmd::up::{agency_routes, run_topics, subscriber_stores};

// ---- The toy agency's crate ----

struct Dinsos;

/// Counts the records it applied under its office: enough to have a table and a setting.
struct DinsosHandler {
    office: String,
}

impl Handler for DinsosHandler {
    async fn apply(&self, batch: &mut Batch<'_>) -> Result<(), HandlerError> {
        let applied = batch.records().len() as i64;
        sqlx::query(
            "INSERT INTO households (office, records) VALUES ($1, $2) \
             ON CONFLICT (office) DO UPDATE SET records = households.records + $2",
        )
        .bind(&self.office)
        .bind(applied)
        .execute(batch.tx())
        .await?;
        Ok(())
    }
}

async fn households(State(state): State<ViewState>, caller: Caller) -> Response {
    if let Err(e) = require_agency(&caller, Agency::Dinsos) {
        return e.into_response();
    }
    match sqlx::query("SELECT office, records FROM households ORDER BY office")
        .fetch_all(state.store.pool())
        .await
    {
        Ok(rows) => Json(
            rows.iter()
                .map(|r| (r.get::<String, _>(0), r.get::<i64, _>(1)))
                .collect::<Vec<_>>(),
        )
        .into_response(),
        Err(e) => database_unavailable(e),
    }
}

impl AgencySubscriber for Dinsos {
    const AGENCY: Agency = Agency::Dinsos;
    const GROUP: &'static str = "dinsos";
    const TOPICS: &'static [Topic] = &[Topic::Screening];
    const KEKS: &'static [&'static str] = &[];
    const PUBLISHES: &'static [&'static str] = &[];
    type Handler = DinsosHandler;

    fn migrations() -> Migrations {
        Migrations {
            postgres: sqlx::migrate!("src/cmd/agencies/toy/postgres"),
            sqlite: sqlx::migrate!("src/cmd/agencies/toy/sqlite"),
        }
    }

    fn router(views: ViewState) -> Router {
        Router::new()
            .route("/v1/agencies/dinsos/households", get_route(households))
            .with_state(views)
    }
}

// ---- The binary's side: its builder from the settings, and one line ----

fn dinsos(rules: &RuleArgs) -> anyhow::Result<DinsosHandler> {
    Ok(DinsosHandler {
        office: rules.alert_office.clone().unwrap_or("LINTAS-DINSOS".into()),
    })
}

static DINSOS: Wire<Dinsos, RuleArgs> = Wire::new(dinsos);

/// The binary's list with the sixth agency's line added.
fn with_dinsos() -> &'static [Wired] {
    Vec::leak([AGENCIES, &[&DINSOS as Wired]].concat())
}

#[tokio::test]
async fn a_sixth_agency_is_wired_by_its_line_in_the_list() {
    let agencies = with_dinsos();

    // `lintas subscriber dinsos`: the name comes from the list.
    let command = clap::Command::new("lintas");
    let kind = agency_parser(agencies)
        .parse_ref(&command, None, std::ffi::OsStr::new("dinsos"))
        .expect("dinsos is an agency of the list");
    assert_eq!(kind.0.group(), "dinsos");
    assert_eq!(kind.0.topics(), &[Topic::Screening]);
    assert!(agency_parser(AGENCIES)
        .parse_ref(&command, None, std::ffi::OsStr::new("dinsos"))
        .is_err());

    // `lintas up`: its dead-letter topic beside the five's.
    let topics = run_topics(agencies);
    assert!(topics.contains(&lintas_kit::topics::dead_letter_topic("", "dinsos")));
    assert!(topics.contains(&lintas_kit::topics::dead_letter_topic("", "desa")));

    // Its own store (its own SQLite file), migrated with its table; its handler, built from
    // the binary's settings, applies an event there (as `lintas up` would run it).
    let dir = std::env::temp_dir().join(format!("lintas-toy-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}/", dir.display());
    let stores = subscriber_stores(agencies, &url, false).await.unwrap();
    assert_eq!(stores.len(), 6);
    assert_eq!(stores[5].schema(), "dinsos");
    let rules = <RuleArgs as clap::FromArgMatches>::from_arg_matches(
        &<RuleArgs as clap::Args>::augment_args(clap::Command::new("lintas"))
            .try_get_matches_from(["lintas", "--alert-office", "DINSOS-CILACAP"])
            .unwrap(),
    )
    .unwrap();
    let mut harness = Harness::with_store(DINSOS.handler(&rules).unwrap(), stores[5].clone());
    harness
        .apply(vec![example::<VisaTypeFlagged>().into_any()])
        .await
        .unwrap();

    // Its routes, merged with the five's, each on its store with its own agency's tokens.
    let tokens = Tokens::parse(
        "dinsos-token-0123456789=dinsos:DINSOS-CILACAP,desa-token-0123456789=desa:DPMD-CILACAP:all_villages",
    )
    .unwrap();
    let views = |store: &Store, keks: &[&str], agency: Agency| ViewState {
        store: store.clone(),
        tokens: tokens.for_agencies(&[agency]),
        codec: lintas_kit::codec::Codec::new(
            lintas_kit::registry::RegistryClient::new("http://127.0.0.1:9/no-registry"),
            "",
        )
        .entitled_to(keks),
    };
    let routes = agency_routes(agencies, &stores, views);
    let path = "/v1/agencies/dinsos/households";
    let (status, body) = get(routes.clone(), path, Some("dinsos-token-0123456789")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, serde_json::json!([["DINSOS-CILACAP", 1]]));
    let (status, _) = get(routes.clone(), path, Some("desa-token-0123456789")).await;
    assert!(status.is_client_error(), "another agency's token: {status}");
    let notices = "/v1/agencies/desa/villages/33.01.02.2003/notices";
    let (status, body) = get(routes, notices, Some("desa-token-0123456789")).await;
    assert_eq!(status, StatusCode::OK, "the five keep their routes: {body}");

    let _ = std::fs::remove_dir_all(&dir);
}
