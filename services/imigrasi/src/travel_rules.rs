//! Rules on one event each, so they cannot depend on arrival order:
//!
//! - IM2 a woman declaring umrah or ziarah to Saudi Arabia or another Middle East country under
//!   the domestic-work ban → secondary interview;
//! - IM3 a tourist visa to Cambodia, Myanmar, Thailand or Malaysia with no return ticket.

use lintas_kit::consumer::{Batch, HandlerError};
use lintas_kit::events::{
    Agency, AlertRaised, AlertSeverity, AnyEvent, DeclaredPurpose, Envelope, RuleAlert, Sex,
    VisaType,
};

use crate::rules::Im1Settings;

/// Middle East countries under the domestic-work ban (Kepmenaker 260/2015).
pub const BANNED_MIDDLE_EAST: &[&str] = &[
    "SA", "AE", "QA", "KW", "BH", "OM", "JO", "LB", "IQ", "IR", "SY", "YE", "EG", "LY", "SD", "DZ",
    "TN", "MA", "PS",
];

/// Destinations of IM3 (the online-scam and trafficking routes of the brief).
pub const IM3_DESTINATIONS: &[&str] = &["KH", "MM", "TH", "MY"];

pub async fn check(
    batch: &mut Batch<'_>,
    settings: &Im1Settings,
    event: &AnyEvent,
) -> Result<(), HandlerError> {
    match event {
        AnyEvent::ApplicantRegistered(e)
            if e.sex == Sex::Female
                && matches!(
                    e.declared_purpose,
                    DeclaredPurpose::Umrah | DeclaredPurpose::Ziarah
                )
                && BANNED_MIDDLE_EAST.contains(&e.destination_country.as_str()) =>
        {
            let summary = format!(
                "woman declaring {} to {}, a country under the domestic-work ban: secondary interview",
                e.declared_purpose, e.destination_country
            );
            raise(batch, settings, "IM2", &e.envelope, summary).await
        }
        AnyEvent::DepartureBlocked(e)
            if e.visa_shown == VisaType::Tourist
                && !e.return_ticket
                && IM3_DESTINATIONS.contains(&e.destination_country.as_str()) =>
        {
            let summary = format!(
                "tourist visa to {} with no return ticket",
                e.destination_country
            );
            raise(batch, settings, "IM3", &e.envelope, summary).await
        }
        _ => Ok(()),
    }
}

async fn raise(
    batch: &mut Batch<'_>,
    settings: &Im1Settings,
    rule: &str,
    trigger: &Envelope,
    summary: String,
) -> Result<(), HandlerError> {
    let alert_id = AlertRaised::derive_id(rule, &[trigger.event_id]);
    let alert = RuleAlert {
        rule: rule.into(),
        owner: Agency::Imigrasi,
        office: settings.office.clone(),
        occurred_at: trigger.occurred_at,
        subject_key: trigger.subject_key.clone(),
        severity: AlertSeverity::Warning,
        evidence: vec![trigger.event_id],
        summary,
        review_within: time::Duration::days(1),
    };
    crate::ALERTS
        .raise(batch, AlertRaised::from_rule(alert_id, alert))
        .await?;
    Ok(())
}
