//! IM2 and IM3 on the kit's in-memory harness: each fires on a scenario built for it and stays
//! silent on a near miss.

use lintas_imigrasi::ImigrasiHandler;
use lintas_kit::events::*;
use lintas_kit::testing::Harness;

fn registered(sex: Sex, purpose: DeclaredPurpose, destination: &str) -> AnyEvent {
    let mut envelope = Envelope::new(
        Agency::Imigrasi,
        "KANIM-CILACAP",
        "off-1",
        timefmt::millis::now(),
    );
    envelope.subject_key = Some("ab".repeat(32));
    ApplicantRegistered {
        envelope,
        source: RegistrationSource::PassportApplication,
        personal: ApplicantPersonalData {
            nik: "3301014501900001".into(),
            full_name: "Siti".into(),
        },
        sex,
        birth_date: time::macros::date!(1990 - 01 - 05),
        village: "Kesugihan".into(),
        sub_district: "Kesugihan".into(),
        regency: "Cilacap".into(),
        declared_purpose: purpose,
        destination_country: destination.into(),
        placement_agency: None,
        sponsor_name: None,
        identity_verified: true,
        village_code: Some("33.01.02.2001".parse().expect("a village code")),
    }
    .into_any()
}

fn blocked(visa: VisaType, destination: &str, return_ticket: bool) -> AnyEvent {
    let mut envelope = Envelope::new(Agency::Imigrasi, "TPI-CGK", "tpi-9", timefmt::millis::now());
    envelope.subject_key = Some("cd".repeat(32));
    DepartureBlocked {
        envelope,
        checkpoint_code: "TPI-CGK".into(),
        decision: BlockDecision::Deferred,
        carrier: "AirAsia".into(),
        flight_or_vessel: "QZ 262".into(),
        destination_country: destination.into(),
        transit_points: vec![],
        visa_shown: visa,
        return_ticket,
        reason: BlockReason::SuspectedNonProceduralWorker,
        group_id: None,
        handed_to: HandedTo::Bp3miShelter,
        traveller_sex: None,
        traveller_minor: None,
    }
    .into_any()
}

async fn rules(event: AnyEvent) -> Vec<String> {
    let mut harness = Harness::new(
        ImigrasiHandler {
            im1: Default::default(),
        },
        lintas_imigrasi::migrations(),
    )
    .await
    .unwrap();
    harness.apply(vec![event.clone()]).await.unwrap();
    harness.apply(vec![event]).await.unwrap(); // redelivered: still one alert
    let fired: Vec<String> = sqlx::query_scalar("SELECT rule FROM lintas_alerts")
        .fetch_all(harness.store().pool())
        .await
        .unwrap();
    assert_eq!(harness.published().len(), fired.len());
    fired
}

#[tokio::test]
async fn im2_woman_on_a_pilgrimage_purpose_to_a_banned_country() {
    assert_eq!(
        rules(registered(Sex::Female, DeclaredPurpose::Umrah, "SA")).await,
        ["IM2"]
    );
    assert_eq!(
        rules(registered(Sex::Female, DeclaredPurpose::Ziarah, "JO")).await,
        ["IM2"]
    );
    assert!(rules(registered(Sex::Male, DeclaredPurpose::Umrah, "SA"))
        .await
        .is_empty());
    assert!(rules(registered(Sex::Female, DeclaredPurpose::Umrah, "MY"))
        .await
        .is_empty());
    assert!(rules(registered(Sex::Female, DeclaredPurpose::Work, "SA"))
        .await
        .is_empty());
}

#[tokio::test]
async fn im3_tourist_visa_to_a_scam_route_without_return_ticket() {
    assert_eq!(
        rules(blocked(VisaType::Tourist, "KH", false)).await,
        ["IM3"]
    );
    assert!(rules(blocked(VisaType::Tourist, "KH", true))
        .await
        .is_empty());
    assert!(rules(blocked(VisaType::Tourist, "SG", false))
        .await
        .is_empty());
    assert!(rules(blocked(VisaType::Work, "MY", false)).await.is_empty());
}

fn departure(visa: VisaType, transits: &[&str], subject: &str) -> AnyEvent {
    departure_to(visa, "SA", transits, subject)
}

fn departure_to(visa: VisaType, destination: &str, transits: &[&str], subject: &str) -> AnyEvent {
    let mut envelope = Envelope::new(Agency::Imigrasi, "TPI-CGK", "tpi-9", timefmt::millis::now());
    envelope.subject_key = Some(subject.into());
    DepartureCleared {
        envelope,
        checkpoint_code: "TPI-CGK".into(),
        carrier: "Emirates".into(),
        flight_or_vessel: "EK 357".into(),
        destination_country: destination.into(),
        transit_points: transits.iter().map(|t| t.to_string()).collect(),
        visa_shown: visa,
        epmi_id: None,
        group_id: None,
        traveller_sex: None,
        traveller_minor: None,
    }
    .into_any()
}

/// IM2 alerts (id, evidence) after applying `events` in order, each in its own batch.
async fn transit_alerts(events: Vec<AnyEvent>) -> Vec<(String, String)> {
    let mut harness = Harness::new(
        ImigrasiHandler {
            im1: Default::default(),
        },
        lintas_imigrasi::migrations(),
    )
    .await
    .unwrap();
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

#[tokio::test]
async fn im2_woman_on_a_pilgrimage_visa_through_a_known_transit_point_in_either_order() {
    // Registered as tourism to Malaysia (no IM2 on the registration), then checked at the
    // airport on an umrah visa to Saudi Arabia via Dubai.
    let subject = "ab".repeat(32);
    let woman = registered(Sex::Female, DeclaredPurpose::Tourism, "MY");
    let trip = departure(VisaType::Umrah, &["DXB"], &subject);
    let forward = transit_alerts(vec![woman.clone(), trip.clone()]).await;
    let backward = transit_alerts(vec![trip.clone(), woman.clone()]).await;
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
    assert!(transit_alerts(vec![man, trip.clone()]).await.is_empty());
    let direct = departure_to(VisaType::Umrah, "MY", &[], &subject);
    assert!(transit_alerts(vec![woman.clone(), direct]).await.is_empty());
    let work = departure(VisaType::Work, &["DXB"], &subject);
    assert!(transit_alerts(vec![woman, work]).await.is_empty());
}

/// Finding 8 of #18: a woman registered for tourism to Malaysia, checked on a direct flight to
/// Jeddah on an umrah visa, raised nothing because no transit point was listed. The
/// destination alone puts her on IM2's route, cleared or blocked, in either arrival order.
#[tokio::test]
async fn im2_woman_on_a_pilgrimage_visa_direct_to_a_banned_country_in_either_order() {
    let subject = "ab".repeat(32);
    let woman = registered(Sex::Female, DeclaredPurpose::Tourism, "MY");
    for direct in [
        departure_to(VisaType::Umrah, "SA", &[], &subject),
        departure_to(VisaType::Ziarah, "KW", &[], &subject),
        blocked_woman(VisaType::Umrah, "SA", &subject),
    ] {
        let forward = transit_alerts(vec![woman.clone(), direct.clone()]).await;
        let backward = transit_alerts(vec![direct.clone(), woman.clone()]).await;
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
    let mut harness = Harness::new(
        ImigrasiHandler {
            im1: Default::default(),
        },
        lintas_imigrasi::migrations(),
    )
    .await
    .unwrap();
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
    assert!(transit_alerts(vec![man, direct]).await.is_empty());
    for miss in [
        departure_to(VisaType::Work, "SA", &[], &subject),
        departure_to(VisaType::Tourist, "SA", &[], &subject),
        departure_to(VisaType::Umrah, "TR", &[], &subject),
    ] {
        assert!(transit_alerts(vec![woman.clone(), miss]).await.is_empty());
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
#[tokio::test]
async fn im2_a_woman_never_registered_on_the_pilgrimage_route() {
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
        let alerts = transit_alerts(vec![checked_as(trip.clone(), Sex::Female)]).await;
        assert_eq!(alerts.len(), 1, "{trip:?}: {alerts:?}");
        assert!(alerts[0].1.contains(&trip.envelope().event_id.to_string()));
        // Near misses: a man on the same trip, or a departure that does not say who travelled.
        assert!(transit_alerts(vec![checked_as(trip.clone(), Sex::Male)])
            .await
            .is_empty());
        assert!(transit_alerts(vec![trip]).await.is_empty());
    }
}

/// A woman by the departure's account and by her registration: one alert, whose evidence
/// is the registration and the departure in either arrival order (an alert raised on the
/// departure alone gains the registration when it arrives).
#[tokio::test]
async fn im2_the_departures_account_and_a_registration_make_one_alert_in_either_order() {
    let subject = "ab".repeat(32);
    let woman = registered(Sex::Female, DeclaredPurpose::Tourism, "MY");
    let trip = checked_as(departure(VisaType::Umrah, &["DXB"], &subject), Sex::Female);
    let forward = transit_alerts(vec![woman.clone(), trip.clone()]).await;
    let backward = transit_alerts(vec![trip.clone(), woman.clone()]).await;
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
#[tokio::test]
async fn im2_a_woman_by_either_account_is_a_woman() {
    let subject = "ab".repeat(32);
    let trip = departure(VisaType::Umrah, &["DXB"], &subject);
    let registered_man = registered(Sex::Male, DeclaredPurpose::Tourism, "MY");
    let registered_woman = registered(Sex::Female, DeclaredPurpose::Tourism, "MY");
    for (registration, checked, registration_is_evidence) in [
        (registered_man, Sex::Female, false),
        (registered_woman, Sex::Male, true),
    ] {
        let trip = checked_as(trip.clone(), checked);
        let forward = transit_alerts(vec![registration.clone(), trip.clone()]).await;
        let backward = transit_alerts(vec![trip.clone(), registration.clone()]).await;
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
