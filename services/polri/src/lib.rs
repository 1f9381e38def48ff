//! The police subscriber (consumer group `polri`): the network of recruiters linked to
//! blocked people, and the brief's police rules that need no clock:
//!
//! - PO1 one recruiter linked to 5 or more blocked people within 90 days (*proposed*
//!   thresholds, in [`PolriSettings`]);
//! - PO2 any blocked child → priority.
//!
//! Links come from RecruiterReported (linked subjects), CaseReferred (suspected recruiters and
//! subjects) and InvestigationOpened (suspects and victims). Each rule is checked whichever
//! event arrives last, so the alerts do not depend on arrival order. PO3 (no investigation
//! within 14 days of a referral) is a deadline of the kit, one clock per referral.
#![forbid(unsafe_code)]

mod api;
mod rules;

pub use api::{router, ApiState};
pub use rules::{PolriHandler, PolriSettings};

use lintas_kit::alerts::AlertDesk;
use lintas_kit::events::{Agency, ErasureScope, Topic};
use lintas_kit::personal::PersonalData;
use lintas_kit::store::Migrations;

pub const GROUP: &str = "polri";

/// Key-encryption keys this subscriber may hold: police intelligence (recruiters' phones).
pub const KEKS: &[&str] = &[lintas_kit::events::keks::POLICE];

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

/// Registrations, blocks, cases, and the lifecycle of its own alerts (so that a rebuild
/// restores their status).
pub const TOPICS: &[Topic] = &[
    Topic::Applicants,
    Topic::Departures,
    Topic::Cases,
    // Its own alerts' lifecycle, and the alerts granted to it (escalations to the police).
    Topic::Alerts(Agency::Polri),
    Topic::Alerts(Agency::Imigrasi),
    Topic::Alerts(Agency::Disnaker),
    Topic::Alerts(Agency::Kejaksaan),
    // Its audit chain and erasures, so that a rebuild restores the one and honours the other.
    Topic::Privacy,
];

/// The police's alerts and their lifecycle.
pub const ALERTS: AlertDesk = AlertDesk::new(Agency::Polri);

/// The police intelligence it controls (recruiters' phone numbers): audited reads, erasure.
pub const PERSONAL_DATA: PersonalData = PersonalData {
    agency: Agency::Polri,
    scope: ErasureScope::Recruiter,
    fields: &["phone_numbers"],
    erase: rules::erase,
};

pub fn migrations() -> Migrations {
    Migrations {
        postgres: sqlx::migrate!("./migrations/postgres"),
        sqlite: sqlx::migrate!("./migrations/sqlite"),
    }
}

/// This subscriber as a binary running several agencies lists it (the `lintas` binary's
/// `subscriber`, `up` and `rules` iterate over such a list).
pub struct Polri;

impl lintas_kit::agency::AgencySubscriber for Polri {
    const AGENCY: lintas_kit::events::Agency = lintas_kit::events::Agency::Polri;
    const GROUP: &'static str = GROUP;
    const TOPICS: &'static [Topic] = TOPICS;
    const KEKS: &'static [&'static str] = KEKS;
    const PUBLISHES: &'static [&'static str] = PUBLISHES;
    type Handler = PolriHandler;

    fn migrations() -> Migrations {
        migrations()
    }

    fn router(views: lintas_kit::views::ViewState) -> lintas_kit::axum::Router {
        router(views)
    }
}
