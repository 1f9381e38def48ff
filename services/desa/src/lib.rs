//! `desa`: village early warning. Keeps, per village, the residents who were flagged or
//! blocked and the recruiters seen there, and raises a notice to the village office when a
//! resident is blocked (rule `DESA-BLOCKED`) or a recruiter known to the police shows up in
//! the village (rule `DESA-RECRUITER`). Notices are published as AlertRaised (owner `desa`).
//!
//! Written only against `lintas_kit`'s public API, as an integrator outside the team would
//! write it: a [`Handler`](lintas_kit::consumer::Handler), its migrations, its queries.
//! Events may arrive in any order across topics (a block before the registration that tells
//! the village): every rule is checked from both sides, so the notices are the same whatever
//! the order.
#![forbid(unsafe_code)]

mod api;
mod handler;

pub use api::{router, ApiState};
pub use handler::{DesaHandler, RULE_BLOCKED, RULE_RECRUITER};

use lintas_kit::events::Topic;
use lintas_kit::store::Migrations;

/// Consumer group and database schema.
pub const GROUP: &str = "desa";

/// Key-encryption keys this subscriber may hold: none; personal data stays encrypted for it.
pub const KEKS: &[&str] = &[];

/// Events this subscriber publishes: its village notices (alerts owned by `desa`); it runs no alert desk.
pub const PUBLISHES: &[&str] = &["AlertRaised"];

/// Registrations give the village; flags and blocks concern residents; cases carry recruiter
/// reports.
pub const TOPICS: &[Topic] = &[
    Topic::Applicants,
    Topic::Screening,
    Topic::Departures,
    Topic::Cases,
];

pub fn migrations() -> Migrations {
    Migrations {
        postgres: sqlx::migrate!("./migrations/postgres"),
        sqlite: sqlx::migrate!("./migrations/sqlite"),
    }
}

/// This subscriber as a binary running several agencies lists it (the `lintas` binary's
/// `subscriber`, `up` and `rules` iterate over such a list).
pub struct Desa;

impl lintas_kit::agency::AgencySubscriber for Desa {
    const AGENCY: lintas_kit::events::Agency = lintas_kit::events::Agency::Desa;
    const GROUP: &'static str = GROUP;
    const TOPICS: &'static [Topic] = TOPICS;
    const KEKS: &'static [&'static str] = KEKS;
    const PUBLISHES: &'static [&'static str] = PUBLISHES;
    type Handler = DesaHandler;

    fn migrations() -> Migrations {
        migrations()
    }

    fn router(views: lintas_kit::views::ViewState) -> lintas_kit::axum::Router {
        router(views)
    }
}
