//! The district prosecutor's subscriber (consumer group `kejaksaan`): case timelines from
//! referral to court, and the legal deadlines of each stage as time-based rules:
//!
//! - JA1: an investigation opened and no SPDP (notice of investigation) within 7 days;
//! - JA2: an SPDP received and no prosecutor assigned (P-16) within 7 days;
//! - JA3: a file deadline passed: the date a stage set (`due_date`), 14 days for the
//!   investigator to send back a corrected file after P-18 or P-19 (met by the `file_sent`
//!   that returns it), or 7 days for the prosecutor to answer a file sent, with no later
//!   stage on that file by then.
//!
//! Each rule is a deadline of the kit, per investigation (JA1), per SPDP (JA2) and per suspect
//! file (JA3), never one per case: scheduled by the event that starts the clock, met in event
//! time by the event that meets it (one read after the firing withdraws the alert), fired once
//! when the clock passes it with the subscriber caught up, so an old case replayed from the
//! beginning does not raise alerts its later events meet.
//! Built only on the kit's public API.
#![forbid(unsafe_code)]

mod api;
mod rules;

pub use api::{router, ApiState};
pub use rules::{KejaksaanHandler, KejaksaanSettings};

use lintas_kit::alerts::AlertDesk;
use lintas_kit::events::{Agency, Topic};
use lintas_kit::store::Migrations;

/// Consumer group and database schema of this subscriber.
pub const GROUP: &str = "kejaksaan";

/// Key-encryption keys this subscriber may hold: none; personal data stays encrypted for it.
pub const KEKS: &[&str] = &[];

/// Events this subscriber publishes: its deadline alerts and their lifecycle (the alert desk).
pub const PUBLISHES: &[&str] = &[
    "AlertRaised",
    "AlertAcknowledged",
    "AlertEscalated",
    "AlertClosed",
];

/// Cases, and the lifecycle of its own alerts (so that a rebuild restores their status).
pub const TOPICS: &[Topic] = &[
    Topic::Cases,
    // Its own alerts' lifecycle, and the police's alerts (granted: escalations to it).
    Topic::Alerts(Agency::Kejaksaan),
    Topic::Alerts(Agency::Polri),
];

/// The prosecutor's alerts and their lifecycle.
pub const ALERTS: AlertDesk = AlertDesk::new(Agency::Kejaksaan);

pub fn migrations() -> Migrations {
    Migrations {
        postgres: sqlx::migrate!("./migrations/postgres"),
        sqlite: sqlx::migrate!("./migrations/sqlite"),
    }
}

/// This subscriber as a binary running several agencies lists it (the `lintas` binary's
/// `subscriber`, `up` and `rules` iterate over such a list).
pub struct Kejaksaan;

impl lintas_kit::agency::AgencySubscriber for Kejaksaan {
    const AGENCY: lintas_kit::events::Agency = lintas_kit::events::Agency::Kejaksaan;
    const GROUP: &'static str = GROUP;
    const TOPICS: &'static [Topic] = TOPICS;
    const KEKS: &'static [&'static str] = KEKS;
    const PUBLISHES: &'static [&'static str] = PUBLISHES;
    type Handler = KejaksaanHandler;

    fn migrations() -> Migrations {
        migrations()
    }

    fn router(views: lintas_kit::views::ViewState) -> lintas_kit::axum::Router {
        router(views)
    }
}
