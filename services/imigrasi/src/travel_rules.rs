//! Travel rules:
//!
//! - IM2 a woman declaring umrah or ziarah to Saudi Arabia or another Middle East country under
//!   the domestic-work ban → secondary interview (one event);
//! - IM2 at departure: a woman checked at departure on an umrah or ziarah visa to a country
//!   under the ban (a direct flight to Jeddah is enough), or routed through a known transit
//!   point whatever the destination shown. What she declared when she registered does not
//!   matter: registered for tourism to Malaysia, she is on the pilgrimage route all the same.
//!   Who travelled is told by the departure itself (`traveller_sex`, which the checkpoint
//!   derived from the NIK it checked), so a woman Lintas never registered (a passport from
//!   before Lintas or from another office) is seen at the airport; and by her registration,
//!   which may arrive before or after the departure (a departure written before the field
//!   existed waits for it). A woman by either account is a woman: both come from the same
//!   NIK (the intakes refuse a sex the NIK contradicts), so they differ only when one was
//!   recorded wrongly, and a needless secondary interview costs less than a woman sent on
//!   the route unasked; a union also gives the same alert in any arrival order. One alert
//!   per departure, its id from the departure; its evidence is the departure and, when a
//!   registration says she is a woman, that registration, whichever came first;
//! - IM3 a tourist visa to Cambodia, Myanmar, Thailand or Malaysia with no return ticket.

use lintas_kit::consumer::{Batch, HandlerError};
use lintas_kit::events::timefmt::millis;
use lintas_kit::events::{
    Agency, AlertRaised, AlertSeverity, AnyEvent, DeclaredPurpose, Envelope, RuleAlert, Sex,
    Summary, VisaType,
};
use sqlx::Row;

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
                && under_ban(&e.destination_country) =>
        {
            let (purpose, country) = (e.declared_purpose, &e.destination_country);
            let summary = Summary {
                id: format!(
                    "perempuan menyatakan tujuan {purpose} ke {country}, negara moratorium penempatan pekerja rumah tangga: wawancara lanjutan"
                ),
                en: format!(
                    "woman declaring {purpose} to {country}, a country under the domestic-work ban: secondary interview"
                ),
            };
            raise(batch, settings, "IM2", &e.envelope, summary).await
        }
        AnyEvent::DepartureBlocked(e)
            if pilgrimage_route(
                settings,
                e.visa_shown,
                &e.destination_country,
                &e.transit_points,
            ) =>
        {
            pilgrimage_departure(
                batch,
                settings,
                &e.envelope,
                e.visa_shown,
                &e.destination_country,
                &e.transit_points,
                e.traveller_sex,
            )
            .await?;
            im3(batch, settings, e).await
        }
        AnyEvent::DepartureCleared(e)
            if pilgrimage_route(
                settings,
                e.visa_shown,
                &e.destination_country,
                &e.transit_points,
            ) =>
        {
            pilgrimage_departure(
                batch,
                settings,
                &e.envelope,
                e.visa_shown,
                &e.destination_country,
                &e.transit_points,
                e.traveller_sex,
            )
            .await
        }
        AnyEvent::DepartureBlocked(e) => im3(batch, settings, e).await,
        _ => Ok(()),
    }
}

async fn im3(
    batch: &mut Batch<'_>,
    settings: &Im1Settings,
    e: &lintas_kit::events::DepartureBlocked,
) -> Result<(), HandlerError> {
    match e {
        e if e.visa_shown == VisaType::Tourist
            && !e.return_ticket
            && IM3_DESTINATIONS.contains(&e.destination_country.as_str()) =>
        {
            let country = &e.destination_country;
            let summary = Summary {
                id: format!("visa turis ke {country} tanpa tiket pulang"),
                en: format!("tourist visa to {country} with no return ticket"),
            };
            raise(batch, settings, "IM3", &e.envelope, summary).await
        }
        _ => Ok(()),
    }
}

/// Whether a trip on the visa shown is on IM2's pilgrimage route: an umrah or ziarah visa to a
/// country under the domestic-work ban, or through a known transit point. The destination
/// counts as much as the route: the brief names both, and a direct flight to Jeddah is the
/// commonest way out.
pub(crate) fn pilgrimage_route(
    settings: &Im1Settings,
    visa: VisaType,
    destination: &str,
    transits: &[String],
) -> bool {
    matches!(visa, VisaType::Umrah | VisaType::Ziarah)
        && (under_ban(destination) || known_transit(settings, transits).is_some())
}

fn under_ban(country: &str) -> bool {
    BANNED_MIDDLE_EAST
        .iter()
        .any(|c| c.eq_ignore_ascii_case(country.trim()))
}

/// The first known transit point of a route, if any.
fn known_transit<'a>(settings: &Im1Settings, transits: &'a [String]) -> Option<&'a String> {
    transits.iter().find(|t| {
        settings
            .im2_transit_points
            .iter()
            .any(|k| k.eq_ignore_ascii_case(t.trim()))
    })
}

/// After the registrations of `subjects` were stored (their sex, first registration wins):
/// raises IM2 for the pilgrimage departures of the women among them that arrived first.
/// Raising is idempotent, so a subject registered before changes nothing.
pub async fn registered(
    batch: &mut Batch<'_>,
    settings: &Im1Settings,
    subjects: &[&str],
) -> Result<(), HandlerError> {
    if subjects.is_empty() {
        return Ok(());
    }
    let placeholders: Vec<String> = (2..subjects.len() + 2).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT p.subject_key, p.event_id, p.occurred_at_ms, p.visa, p.destination_country, p.transits, s.registration_event_id \
         FROM pilgrimage_transits p JOIN subject_registrations s ON s.subject_key = p.subject_key \
         WHERE s.sex = $1 AND p.subject_key IN ({})",
        placeholders.join(", ")
    );
    let mut query = sqlx::query(&sql).bind(Sex::Female.to_string());
    for subject in subjects {
        query = query.bind(*subject);
    }
    let waiting = query.fetch_all(batch.tx()).await?;
    for row in waiting {
        let subject: String = row.get(0);
        let departure: uuid::Uuid = row
            .get::<String, _>(1)
            .parse()
            .map_err(HandlerError::transient)?;
        let at = millis::from_millis(row.get::<i64, _>(2)).map_err(HandlerError::transient)?;
        let route: Vec<String> = row
            .get::<String, _>(5)
            .split(',')
            .filter(|t| !t.is_empty())
            .map(String::from)
            .collect();
        let summary = route_summary(
            settings,
            &row.get::<String, _>(3),
            &row.get::<String, _>(4),
            &route,
        );
        let registration: uuid::Uuid = row
            .get::<String, _>(6)
            .parse()
            .map_err(HandlerError::transient)?;
        raise_transit(
            batch,
            settings,
            &subject,
            Some(registration),
            departure,
            at,
            summary,
        )
        .await?;
    }
    Ok(())
}

/// Keeps a departure on the pilgrimage route (`pilgrimage_transits`: named when only the
/// transit variant existed, it holds every departure on the route) for a registration that
/// may come later, and raises IM2 now if she is known to be a woman: by a registration
/// already stored, or by the departure's own `traveller_sex`.
#[allow(clippy::too_many_arguments)]
async fn pilgrimage_departure(
    batch: &mut Batch<'_>,
    settings: &Im1Settings,
    envelope: &Envelope,
    visa: VisaType,
    destination: &str,
    transits: &[String],
    traveller_sex: Option<Sex>,
) -> Result<(), HandlerError> {
    let Some(subject) = envelope.subject_key.clone() else {
        return Ok(());
    };
    let route = transits.join(",");
    sqlx::query(
        "INSERT INTO pilgrimage_transits (subject_key, event_id, occurred_at_ms, visa, destination_country, transits) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (subject_key, event_id) DO NOTHING",
    )
    .bind(&subject)
    .bind(envelope.event_id.to_string())
    .bind(millis::to_millis(&envelope.occurred_at))
    .bind(visa.to_string())
    .bind(destination)
    .bind(&route)
    .execute(batch.tx())
    .await?;
    let known = sqlx::query(
        "SELECT sex, registration_event_id FROM subject_registrations WHERE subject_key = $1",
    )
    .bind(&subject)
    .fetch_optional(batch.tx())
    .await?;
    // The registration that says she is a woman, if one is stored: evidence beside the
    // departure.
    let registration = match known {
        Some(row) if row.get::<String, _>(0) == Sex::Female.to_string() => Some(
            row.get::<String, _>(1)
                .parse::<uuid::Uuid>()
                .map_err(HandlerError::transient)?,
        ),
        _ => None,
    };
    if registration.is_none() && traveller_sex != Some(Sex::Female) {
        // Not known to be a woman (yet): a registration arriving later decides.
        return Ok(());
    }
    let summary = route_summary(settings, &visa.to_string(), destination, transits);
    raise_transit(
        batch,
        settings,
        &subject,
        registration,
        envelope.event_id,
        envelope.occurred_at,
        summary,
    )
    .await
}

/// What the officer reads: why this trip is on the route (the destination, the transit point
/// or both).
fn route_summary(
    settings: &Im1Settings,
    visa: &str,
    destination: &str,
    transits: &[String],
) -> Summary {
    let (id, en) = match (under_ban(destination), known_transit(settings, transits)) {
        (true, Some(point)) => (
            format!("ke {destination}, negara moratorium penempatan pekerja rumah tangga, melalui {point}, titik transit yang dikenal"),
            format!("to {destination}, a country under the domestic-work ban, routed through {point}, a known transit point"),
        ),
        (true, None) => (
            format!("ke {destination}, negara moratorium penempatan pekerja rumah tangga"),
            format!("to {destination}, a country under the domestic-work ban"),
        ),
        (false, Some(point)) => (
            format!("ke {destination} melalui {point}, titik transit yang dikenal"),
            format!("to {destination} routed through {point}, a known transit point"),
        ),
        (false, None) => (format!("ke {destination}"), format!("to {destination}")),
    };
    Summary {
        id: format!("perempuan dengan visa {visa} {id}: wawancara lanjutan"),
        en: format!("woman on a {visa} visa {en}: secondary interview"),
    }
}

/// One alert per departure, whichever side arrived first: its id comes from the departure
/// (named `IM2-TRANSIT` since the transit variant came first; kept so that a replay finds
/// the alerts already raised), its evidence is the registration that says she is a woman, if
/// any, and the departure. An alert first raised on the departure's own account gains the
/// registration when it arrives, so the evidence does not depend on the arrival order.
async fn raise_transit(
    batch: &mut Batch<'_>,
    settings: &Im1Settings,
    subject: &str,
    registration: Option<uuid::Uuid>,
    departure: uuid::Uuid,
    at: time::OffsetDateTime,
    summary: Summary,
) -> Result<(), HandlerError> {
    let alert_id = AlertRaised::derive_id("IM2-TRANSIT", &[departure]);
    let evidence: Vec<uuid::Uuid> = registration.into_iter().chain([departure]).collect();
    let alert = RuleAlert {
        rule: "IM2".into(),
        owner: Agency::Imigrasi,
        office: settings.office.clone(),
        occurred_at: at,
        subject_key: Some(subject.to_string()),
        severity: AlertSeverity::Warning,
        evidence: evidence.clone(),
        summary: summary.clone(),
        review_within: time::Duration::days(1),
    };
    let raised = crate::ALERTS
        .raise(
            batch,
            AlertRaised::from_rule_in(alert_id, alert, settings.time_zone),
        )
        .await?;
    if !raised && registration.is_some() {
        // Raised before on the departure alone, or a redelivery (then this changes nothing).
        crate::ALERTS
            .revise(batch, alert_id, &evidence, &summary)
            .await?;
    }
    Ok(())
}

async fn raise(
    batch: &mut Batch<'_>,
    settings: &Im1Settings,
    rule: &str,
    trigger: &Envelope,
    summary: Summary,
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
        .raise(
            batch,
            AlertRaised::from_rule_in(alert_id, alert, settings.time_zone),
        )
        .await?;
    Ok(())
}
