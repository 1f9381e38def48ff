//! The immigration office's subscriber (consumer group `imigrasi`): every event about a
//! subject in event-time order, rule IM1 (a subject flagged or blocked again within 12
//! months: office shopping), IM2 (a woman on a pilgrimage purpose to a country under the
//! domestic-work ban) and IM3 (a tourist visa to Cambodia, Myanmar, Thailand or Malaysia with
//! no return ticket). Built only on the kit's public API, as an integrator's would be.
#![forbid(unsafe_code)]

mod api;
mod history;
mod rules;
mod travel_rules;

pub use api::{router, ApiState};
pub use history::ImigrasiHandler;
pub use rules::Im1Settings;

use lintas_kit::alerts::AlertDesk;
use lintas_kit::events::{Agency, Topic};
use lintas_kit::store::Migrations;

/// Consumer group and database schema of this subscriber.
pub const GROUP: &str = "imigrasi";

/// Topics this subscriber reads.
pub const TOPICS: &[Topic] = &[
    Topic::Applicants,
    Topic::Screening,
    Topic::Departures,
    // The lifecycle of its own alerts, so that a rebuild restores their status.
    Topic::Alerts,
];

/// The immigration office's alerts and their lifecycle.
pub const ALERTS: AlertDesk = AlertDesk::new(Agency::Imigrasi);

pub fn migrations() -> Migrations {
    Migrations {
        postgres: sqlx::migrate!("./migrations/postgres"),
        sqlite: sqlx::migrate!("./migrations/sqlite"),
    }
}
