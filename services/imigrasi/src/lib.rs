//! The immigration office's subscriber (consumer group `imigrasi`): every event about a
//! subject in event-time order, rule IM1 (a subject stopped again within 12 calendar months,
//! or applying at another office while a deferral runs: office shopping), IM2 (a woman on a
//! pilgrimage purpose or visa to a country under the domestic-work ban, or on a pilgrimage
//! visa through a known transit point) and IM3 (a tourist visa to Cambodia, Myanmar, Thailand
//! or Malaysia with no return ticket). Built only on the kit's public API, as an integrator's
//! would be.
#![forbid(unsafe_code)]

mod api;
mod history;
mod rules;
mod travel_rules;

pub use api::{router, ApiState};
pub use history::ImigrasiHandler;
pub use rules::Im1Settings;

use lintas_kit::alerts::AlertDesk;
use lintas_kit::events::{Agency, ErasureScope, Topic};
use lintas_kit::personal::PersonalData;
use lintas_kit::store::Migrations;

/// Consumer group and database schema of this subscriber.
pub const GROUP: &str = "imigrasi";

/// Key-encryption keys this subscriber may hold: the identities immigration controls.
pub const KEKS: &[&str] = &[lintas_kit::events::keks::IMMIGRATION];

/// Events this subscriber publishes: its rules' alerts, their lifecycle (the alert desk), the audit entry of every
/// personal-data read and the erasures its routes accept.
pub const PUBLISHES: &[&str] = &[
    "AlertRaised",
    "AlertAcknowledged",
    "AlertEscalated",
    "AlertClosed",
    "PersonalDataRead",
    "PersonalDataErased",
];

/// Topics this subscriber reads.
pub const TOPICS: &[Topic] = &[
    Topic::Applicants,
    Topic::Screening,
    Topic::Departures,
    // The lifecycle of its own alerts, so that a rebuild restores their status (nobody's
    // alerts are granted to immigration: `lintas_kit::events::ALERT_GRANTS`).
    Topic::Alerts(Agency::Imigrasi),
    // Its audit chain and erasures, so that a rebuild restores the one and honours the other.
    Topic::Privacy,
];

/// The immigration office's alerts and their lifecycle.
pub const ALERTS: AlertDesk = AlertDesk::new(Agency::Imigrasi);

/// The identities the immigration office controls: audited reads, erasure.
pub const PERSONAL_DATA: PersonalData = PersonalData {
    agency: Agency::Imigrasi,
    scope: ErasureScope::Subject,
    fields: &["nik", "full_name", "birth_date", "village", "sub_district"],
    erase: history::erase,
};

pub fn migrations() -> Migrations {
    Migrations {
        postgres: sqlx::migrate!("./migrations/postgres"),
        sqlite: sqlx::migrate!("./migrations/sqlite"),
    }
}

/// This subscriber as a binary running several agencies lists it (the `lintas` binary's
/// `subscriber`, `up` and `rules` iterate over such a list).
pub struct Imigrasi;

impl lintas_kit::agency::AgencySubscriber for Imigrasi {
    const AGENCY: lintas_kit::events::Agency = lintas_kit::events::Agency::Imigrasi;
    const GROUP: &'static str = GROUP;
    const TOPICS: &'static [Topic] = TOPICS;
    const KEKS: &'static [&'static str] = KEKS;
    const PUBLISHES: &'static [&'static str] = PUBLISHES;
    type Handler = ImigrasiHandler;

    fn migrations() -> Migrations {
        migrations()
    }

    fn router(views: lintas_kit::views::ViewState) -> lintas_kit::axum::Router {
        router(views)
    }
}
