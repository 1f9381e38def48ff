//! The immigration office's subscriber (consumer group `imigrasi`): every event about a
//! subject in event-time order, and rule IM1 (a subject flagged or blocked again within 12
//! months: office shopping). Built only on the kit's public API, as an integrator's would be.
#![forbid(unsafe_code)]

mod api;
mod history;
mod rules;

pub use api::{router, ApiState};
pub use history::ImigrasiHandler;
pub use rules::Im1Settings;

use lintas_kit::events::Topic;
use lintas_kit::store::Migrations;

/// Consumer group and database schema of this subscriber.
pub const GROUP: &str = "imigrasi";

/// Topics this subscriber reads.
pub const TOPICS: &[Topic] = &[Topic::Applicants, Topic::Screening, Topic::Departures];

pub fn migrations() -> Migrations {
    Migrations {
        postgres: sqlx::migrate!("./migrations/postgres"),
        sqlite: sqlx::migrate!("./migrations/sqlite"),
    }
}
