//! IM2 and IM3 on the kit's harness, each scenario on SQLite and on PostgreSQL: each fires on
//! a scenario built for it and stays silent on a near miss.

use lintas_imigrasi::ImigrasiHandler;
use lintas_kit::events::*;
use lintas_kit::testing::examples::{example, Example};
use lintas_kit::testing::{Backend, Harness};

lintas_kit::on_both_stores!(
    im2_woman_on_a_pilgrimage_purpose_to_a_banned_country,
    im3_tourist_visa_to_a_scam_route_without_return_ticket,
    im2_woman_on_a_pilgrimage_visa_through_a_known_transit_point_in_either_order,
    im2_woman_on_a_pilgrimage_visa_direct_to_a_banned_country_in_either_order,
    im2_a_woman_never_registered_on_the_pilgrimage_route,
    im2_the_departures_account_and_a_registration_make_one_alert_in_either_order,
    im2_a_woman_by_either_account_is_a_woman,
);

/// A passport application at Cilacap, now, by subject `ab…ab`.
fn registered(sex: Sex, purpose: DeclaredPurpose, destination: &str) -> AnyEvent {
    ApplicantRegistered {
        source: RegistrationSource::PassportApplication,
        sex,
        declared_purpose: purpose,
        destination_country: destination.into(),
        placement_agency: None,
        ..example()
    }
    .by(Agency::Imigrasi, "KANIM-CILACAP")
    .about(&"ab".repeat(32))
    .into_any()
}

/// Subject `cd…cd` blocked at Soekarno-Hatta now, flying direct; the block does not say who
/// travelled.
fn blocked(visa: VisaType, destination: &str, return_ticket: bool) -> AnyEvent {
    DepartureBlocked {
        destination_country: destination.into(),
        transit_points: vec![],
        visa_shown: visa,
        return_ticket,
        traveller_sex: None,
        traveller_minor: None,
        ..example()
    }
    .about(&"cd".repeat(32))
    .into_any()
}

fn departure(visa: VisaType, transits: &[&str], subject: &str) -> AnyEvent {
    departure_to(visa, "SA", transits, subject)
}

/// `subject` cleared at Soekarno-Hatta now, without a placement permit (e-PMI); the departure
/// does not say who travelled.
fn departure_to(visa: VisaType, destination: &str, transits: &[&str], subject: &str) -> AnyEvent {
    DepartureCleared {
        destination_country: destination.into(),
        transit_points: transits.iter().map(|t| t.to_string()).collect(),
        visa_shown: visa,
        epmi_id: None,
        traveller_sex: None,
        traveller_minor: None,
        ..example()
    }
    .about(subject)
    .into_any()
}

async fn harness(backend: Backend) -> Harness<ImigrasiHandler> {
    Harness::on(
        backend,
        ImigrasiHandler::default(),
        lintas_imigrasi::migrations(),
    )
    .await
}

/// The rules fired by `event`, delivered twice.
async fn rules(backend: Backend, event: AnyEvent) -> Vec<String> {
    let mut harness = harness(backend).await;
    harness.apply(vec![event.clone()]).await.unwrap();
    harness.apply(vec![event]).await.unwrap(); // redelivered: still one alert
    let fired: Vec<String> = sqlx::query_scalar("SELECT rule FROM lintas_alerts")
        .fetch_all(harness.store().pool())
        .await
        .unwrap();
    assert_eq!(harness.published().len(), fired.len());
    fired
}

/// A woman registered for umrah or ziarah to a country under the domestic-work ban: IM2; a
/// man, another country or another purpose: nothing.
async fn im2_woman_on_a_pilgrimage_purpose_to_a_banned_country(backend: Backend) {
    assert_eq!(
        rules(
            backend,
            registered(Sex::Female, DeclaredPurpose::Umrah, "SA")
        )
        .await,
        ["IM2"]
    );
    assert_eq!(
        rules(
            backend,
            registered(Sex::Female, DeclaredPurpose::Ziarah, "JO")
        )
        .await,
        ["IM2"]
    );
    assert!(
        rules(backend, registered(Sex::Male, DeclaredPurpose::Umrah, "SA"))
            .await
            .is_empty()
    );
    assert!(rules(
        backend,
        registered(Sex::Female, DeclaredPurpose::Umrah, "MY")
    )
    .await
    .is_empty());
    assert!(rules(
        backend,
        registered(Sex::Female, DeclaredPurpose::Work, "SA")
    )
    .await
    .is_empty());
}

/// A tourist visa to Cambodia (a scam-compound route) without a return ticket: IM3; with a
/// ticket, to Singapore, or on a work visa: nothing.
async fn im3_tourist_visa_to_a_scam_route_without_return_ticket(backend: Backend) {
    assert_eq!(
        rules(backend, blocked(VisaType::Tourist, "KH", false)).await,
        ["IM3"]
    );
    assert!(rules(backend, blocked(VisaType::Tourist, "KH", true))
        .await
        .is_empty());
    assert!(rules(backend, blocked(VisaType::Tourist, "SG", false))
        .await
        .is_empty());
    assert!(rules(backend, blocked(VisaType::Work, "MY", false))
        .await
        .is_empty());
}

/// IM2 alerts (id, evidence) after applying `events` in order, each in its own batch.
async fn transit_alerts(backend: Backend, events: Vec<AnyEvent>) -> Vec<(String, String)> {
    let mut harness = harness(backend).await;
    harness.apply_each(events.clone()).await.unwrap();
    harness.apply_each(events).await.unwrap(); // redelivered
    let mut rows: Vec<(String, String)> =
        sqlx::query_as("SELECT alert_id, evidence FROM lintas_alerts WHERE rule = 'IM2'")
            .fetch_all(harness.store().pool())
            .await
            .unwrap();
    rows.sort();
    rows
}

/// A woman registered for tourism, then checked on an umrah visa via Dubai: one IM2 with both
/// events as evidence, in either order.
async fn im2_woman_on_a_pilgrimage_visa_through_a_known_transit_point_in_either_order(
    backend: Backend,
) {
    // Registered as tourism to Malaysia (no IM2 on the registration), then checked at the
    // airport on an umrah visa to Saudi Arabia via Dubai.
    let subject = "ab".repeat(32);
    let woman = registered(Sex::Female, DeclaredPurpose::Tourism, "MY");
    let trip = departure(VisaType::Umrah, &["DXB"], &subject);
    let forward = transit_alerts(backend, vec![woman.clone(), trip.clone()]).await;
    let backward = transit_alerts(backend, vec![trip.clone(), woman.clone()]).await;
    assert_eq!(forward.len(), 1, "{forward:?}");
    assert_eq!(
        forward, backward,
        "same alert id and evidence in both orders"
    );
    assert!(forward[0]
        .1
        .contains(&woman.envelope().event_id.to_string()));
    assert!(forward[0].1.contains(&trip.envelope().event_id.to_string()));

    // Near misses: a man on the same route; a direct flight to a country not under the ban;
    // a work visa via Dubai.
    let man = registered(Sex::Male, DeclaredPurpose::Tourism, "MY");
    assert!(transit_alerts(backend, vec![man, trip.clone()])
        .await
        .is_empty());
    let direct = departure_to(VisaType::Umrah, "MY", &[], &subject);
    assert!(transit_alerts(backend, vec![woman.clone(), direct])
        .await
        .is_empty());
    let work = departure(VisaType::Work, &["DXB"], &subject);
    assert!(transit_alerts(backend, vec![woman, work]).await.is_empty());
}

/// Finding 8 of #18: a woman registered for tourism to Malaysia, checked on a direct flight to
/// Jeddah on an umrah visa, raised nothing because no transit point was listed. The
/// destination alone puts her on IM2's route, cleared or blocked, in either arrival order.
async fn im2_woman_on_a_pilgrimage_visa_direct_to_a_banned_country_in_either_order(
    backend: Backend,
) {
    let subject = "ab".repeat(32);
    let woman = registered(Sex::Female, DeclaredPurpose::Tourism, "MY");
    for direct in [
        departure_to(VisaType::Umrah, "SA", &[], &subject),
        departure_to(VisaType::Ziarah, "KW", &[], &subject),
        blocked_woman(VisaType::Umrah, "SA", &subject),
    ] {
        let forward = transit_alerts(backend, vec![woman.clone(), direct.clone()]).await;
        let backward = transit_alerts(backend, vec![direct.clone(), woman.clone()]).await;
        assert_eq!(forward.len(), 1, "{direct:?}: {forward:?}");
        assert_eq!(forward, backward, "same alert in both orders");
        assert!(forward[0]
            .1
            .contains(&woman.envelope().event_id.to_string()));
        assert!(forward[0]
            .1
            .contains(&direct.envelope().event_id.to_string()));
    }
    // What the officer reads names the reason.
    let mut harness = harness(backend).await;
    harness
        .apply_each(vec![
            woman.clone(),
            departure_to(VisaType::Umrah, "SA", &[], &subject),
        ])
        .await
        .unwrap();
    let summary: String =
        sqlx::query_scalar("SELECT summary FROM lintas_alerts WHERE rule = 'IM2'")
            .fetch_one(harness.store().pool())
            .await
            .unwrap();
    assert!(
        summary.contains("SA, a country under the domestic-work ban"),
        "{summary}"
    );

    // Near misses: a man on the direct flight; a woman on a work visa or a tourist visa to
    // Saudi Arabia (other rules' business); an umrah visa to a country not under the ban.
    let man = registered(Sex::Male, DeclaredPurpose::Tourism, "MY");
    let direct = departure_to(VisaType::Umrah, "SA", &[], &subject);
    assert!(transit_alerts(backend, vec![man, direct]).await.is_empty());
    for miss in [
        departure_to(VisaType::Work, "SA", &[], &subject),
        departure_to(VisaType::Tourist, "SA", &[], &subject),
        departure_to(VisaType::Umrah, "TR", &[], &subject),
    ] {
        assert!(transit_alerts(backend, vec![woman.clone(), miss])
            .await
            .is_empty());
    }
}

fn blocked_woman(visa: VisaType, destination: &str, subject: &str) -> AnyEvent {
    let mut event = blocked(visa, destination, true);
    if let AnyEvent::DepartureBlocked(e) = &mut event {
        e.envelope.subject_key = Some(subject.into());
    }
    event
}

/// `event` (a departure) carrying the traveller's sex as the checkpoint read it from the NIK.
fn checked_as(mut event: AnyEvent, sex: Sex) -> AnyEvent {
    match &mut event {
        AnyEvent::DepartureBlocked(e) => e.traveller_sex = Some(sex),
        AnyEvent::DepartureCleared(e) => e.traveller_sex = Some(sex),
        _ => panic!("not a departure"),
    }
    event
}

/// Finding 2 of #18: a girl whose passport predates Lintas (or was issued elsewhere), blocked
/// at the airport on an umrah visa via a transit point, raised nothing: IM2 waited for a
/// registration that never comes. The departure's own account of her sex is enough.
async fn im2_a_woman_never_registered_on_the_pilgrimage_route(backend: Backend) {
    let subject = "ef".repeat(32);
    let mut via_transit = blocked_woman(VisaType::Umrah, "TR", &subject);
    if let AnyEvent::DepartureBlocked(e) = &mut via_transit {
        e.transit_points = vec!["DXB".into()];
    }
    for trip in [
        via_transit,
        departure_to(VisaType::Umrah, "SA", &[], &subject),
        departure_to(VisaType::Ziarah, "MY", &["DOH"], &subject),
    ] {
        let alerts = transit_alerts(backend, vec![checked_as(trip.clone(), Sex::Female)]).await;
        assert_eq!(alerts.len(), 1, "{trip:?}: {alerts:?}");
        assert!(alerts[0].1.contains(&trip.envelope().event_id.to_string()));
        // Near misses: a man on the same trip, or a departure that does not say who travelled.
        assert!(
            transit_alerts(backend, vec![checked_as(trip.clone(), Sex::Male)])
                .await
                .is_empty()
        );
        assert!(transit_alerts(backend, vec![trip]).await.is_empty());
    }
}

/// A woman by the departure's account and by her registration: one alert, whose evidence
/// is the registration and the departure in either arrival order (an alert raised on the
/// departure alone gains the registration when it arrives).
async fn im2_the_departures_account_and_a_registration_make_one_alert_in_either_order(
    backend: Backend,
) {
    let subject = "ab".repeat(32);
    let woman = registered(Sex::Female, DeclaredPurpose::Tourism, "MY");
    let trip = checked_as(departure(VisaType::Umrah, &["DXB"], &subject), Sex::Female);
    let forward = transit_alerts(backend, vec![woman.clone(), trip.clone()]).await;
    let backward = transit_alerts(backend, vec![trip.clone(), woman.clone()]).await;
    assert_eq!(forward.len(), 1, "{forward:?}");
    assert_eq!(forward, backward, "same alert and evidence in both orders");
    assert!(forward[0]
        .1
        .contains(&woman.envelope().event_id.to_string()));
    assert!(forward[0].1.contains(&trip.envelope().event_id.to_string()));
}

/// The departure and the registration disagree: a woman by either account is a woman (see
/// the module doc of travel_rules.rs), the same alert in either order; the registration is
/// evidence only when it is the account that says so.
async fn im2_a_woman_by_either_account_is_a_woman(backend: Backend) {
    let subject = "ab".repeat(32);
    let trip = departure(VisaType::Umrah, &["DXB"], &subject);
    let registered_man = registered(Sex::Male, DeclaredPurpose::Tourism, "MY");
    let registered_woman = registered(Sex::Female, DeclaredPurpose::Tourism, "MY");
    for (registration, checked, registration_is_evidence) in [
        (registered_man, Sex::Female, false),
        (registered_woman, Sex::Male, true),
    ] {
        let trip = checked_as(trip.clone(), checked);
        let forward = transit_alerts(backend, vec![registration.clone(), trip.clone()]).await;
        let backward = transit_alerts(backend, vec![trip.clone(), registration.clone()]).await;
        assert_eq!(forward.len(), 1, "checked as {checked}: {forward:?}");
        assert_eq!(forward, backward, "checked as {checked}");
        assert_eq!(
            forward[0]
                .1
                .contains(&registration.envelope().event_id.to_string()),
            registration_is_evidence,
            "checked as {checked}: {forward:?}"
        );
    }
}
