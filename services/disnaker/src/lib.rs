//! The manpower office's subscriber (consumer group `disnaker`): residents of the regency who
//! were blocked, follow-up tasks for their village offices, and the brief's Disnaker rules:
//!
//! - DN1 a blocked resident → a follow-up task for the village office (and an alert);
//! - DN2 the placement agency named has no valid licence;
//! - DN3 work in a Middle East country under the domestic-work ban outside the single legal
//!   channel (the designated scheme to Saudi Arabia, [`channels`]): a licence number is not
//!   the channel;
//! - DN4 an applicant under 18.
//!
//! Thresholds and lists come from [`DisnakerSettings`]; defaults follow the domain brief.
//! Like every Lintas subscriber it is built only on the kit's public API, and each rule gives
//! the same alerts whatever the arrival order.
#![forbid(unsafe_code)]

mod api;
pub mod channels;
mod rules;

pub use api::{router, ApiState};
pub use rules::{DisnakerHandler, DisnakerSettings};

use lintas_kit::alerts::AlertDesk;
use lintas_kit::events::{Agency, Topic};
use lintas_kit::store::Migrations;

pub const GROUP: &str = "disnaker";

/// Key-encryption keys this subscriber may hold: none; personal data stays encrypted for it.
pub const KEKS: &[&str] = &[];

/// Events this subscriber publishes: its rules' alerts and tasks, and their lifecycle (the alert desk).
pub const PUBLISHES: &[&str] = &[
    "AlertRaised",
    "AlertAcknowledged",
    "AlertEscalated",
    "AlertClosed",
];

/// Registrations (village, agency, age, purpose), visa-type flags, blocks, and the lifecycle
/// of its own alerts (so that a rebuild restores their status).
pub const TOPICS: &[Topic] = &[
    Topic::Applicants,
    Topic::Screening,
    Topic::Departures,
    // Its own alerts' lifecycle, and immigration's alerts (granted: escalations to it).
    Topic::Alerts(Agency::Disnaker),
    Topic::Alerts(Agency::Imigrasi),
];

/// Disnaker's alerts and their lifecycle.
pub const ALERTS: AlertDesk = AlertDesk::new(Agency::Disnaker);

pub fn migrations() -> Migrations {
    Migrations {
        postgres: sqlx::migrate!("./migrations/postgres"),
        sqlite: sqlx::migrate!("./migrations/sqlite"),
    }
}

/// This subscriber as a binary running several agencies lists it (the `lintas` binary's
/// `subscriber`, `up` and `rules` iterate over such a list).
pub struct Disnaker;

impl lintas_kit::agency::AgencySubscriber for Disnaker {
    const AGENCY: lintas_kit::events::Agency = lintas_kit::events::Agency::Disnaker;
    const GROUP: &'static str = GROUP;
    const TOPICS: &'static [Topic] = TOPICS;
    const KEKS: &'static [&'static str] = KEKS;
    const PUBLISHES: &'static [&'static str] = PUBLISHES;
    type Handler = DisnakerHandler;

    fn migrations() -> Migrations {
        migrations()
    }

    fn router(views: lintas_kit::views::ViewState) -> lintas_kit::axum::Router {
        router(views)
    }
}
