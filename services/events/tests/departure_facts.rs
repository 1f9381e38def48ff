//! The traveller's facts on departure events (`traveller_sex`, `traveller_minor`) were added
//! after departures were already on the topic: a record written by an earlier producer, without
//! them, must still decode, with the facts unknown rather than guessed.

use apache_avro::{types::Value, Schema};
use lintas_events::*;
use time::macros::datetime;
use uuid::Uuid;

const NEW_FIELDS: [&str; 2] = ["traveller_sex", "traveller_minor"];

fn envelope() -> Envelope {
    let mut envelope = Envelope::new(
        Agency::Imigrasi,
        "TPI-CGK",
        "tpi-cgk-0412",
        datetime!(2026-04-10 22:30 UTC),
    );
    envelope.subject_key = Some("ab".repeat(32));
    envelope
}

/// The schema an earlier producer wrote with: today's, without the new fields.
fn previous_schema<E: Event>() -> Schema {
    let mut json: serde_json::Value =
        serde_json::from_str(&catalogue().of::<E>().json).expect("catalogue JSON");
    let fields = json["fields"].as_array_mut().expect("a record");
    let before = fields.len();
    fields.retain(|f| !NEW_FIELDS.contains(&f["name"].as_str().unwrap_or_default()));
    assert_eq!(
        fields.len(),
        before - 2,
        "both new fields are in the schema"
    );
    Schema::parse(&json).expect("the previous schema parses")
}

/// `event` as an earlier producer wrote it (no new fields), read back by this build.
fn written_before<E: Event + serde::Serialize>(event: &E) -> AnyEvent {
    let old = previous_schema::<E>();
    let Value::Record(fields) = apache_avro::to_value(event).unwrap() else {
        panic!("an event is a record")
    };
    let value = Value::Record(
        fields
            .into_iter()
            .filter(|(name, _)| !NEW_FIELDS.contains(&name.as_str()))
            .collect(),
    )
    .resolve(&old)
    .unwrap();
    let datum = apache_avro::to_avro_datum(&old, value).unwrap();
    let reader = &catalogue().of::<E>().schema;
    let read =
        apache_avro::from_avro_datum(&old, &mut datum.as_slice(), Some(reader)).expect("decodes");
    AnyEvent::from_avro(E::FULL_NAME, read).expect("maps to the Rust type")
}

#[test]
fn a_block_written_before_the_traveller_facts_decodes_with_them_unknown() {
    let block = DepartureBlocked {
        envelope: envelope(),
        checkpoint_code: "TPI-CGK".into(),
        decision: BlockDecision::Deferred,
        carrier: "Saudia".into(),
        flight_or_vessel: "SV 817".into(),
        destination_country: "SA".into(),
        transit_points: vec!["KUL".into()],
        visa_shown: VisaType::Umrah,
        return_ticket: true,
        reason: BlockReason::SuspectedNonProceduralWorker,
        group_id: Some(Uuid::new_v4()),
        handed_to: HandedTo::Bp3miShelter,
        traveller_sex: Some(Sex::Female),
        traveller_minor: Some(true),
    };
    let AnyEvent::DepartureBlocked(read) = written_before(&block) else {
        panic!("a DepartureBlocked")
    };
    assert_eq!(read.traveller_sex, None);
    assert_eq!(read.traveller_minor, None);
    // Everything the earlier producer wrote is read as it was.
    assert_eq!(
        read,
        DepartureBlocked {
            traveller_sex: None,
            traveller_minor: None,
            ..block
        }
    );
}

#[test]
fn a_clearance_written_before_the_traveller_facts_decodes_with_them_unknown() {
    let cleared = DepartureCleared {
        envelope: envelope(),
        checkpoint_code: "TPI-CGK".into(),
        carrier: "Saudia".into(),
        flight_or_vessel: "SV 817".into(),
        destination_country: "SA".into(),
        transit_points: vec![],
        visa_shown: VisaType::Work,
        epmi_id: Some("EPMI-2026-0045127".into()),
        group_id: None,
        traveller_sex: Some(Sex::Male),
        traveller_minor: Some(false),
    };
    let AnyEvent::DepartureCleared(read) = written_before(&cleared) else {
        panic!("a DepartureCleared")
    };
    assert_eq!(
        read,
        DepartureCleared {
            traveller_sex: None,
            traveller_minor: None,
            ..cleared
        }
    );
}

#[test]
fn the_facts_round_trip_and_unknown_stays_unknown() {
    for (sex, minor) in [
        (Some(Sex::Female), Some(true)),
        (Some(Sex::Male), Some(false)),
        (None, None),
    ] {
        let block = DepartureBlocked {
            envelope: envelope(),
            checkpoint_code: "TPI-CGK".into(),
            decision: BlockDecision::Refused,
            carrier: "Saudia".into(),
            flight_or_vessel: "SV 817".into(),
            destination_country: "SA".into(),
            transit_points: vec![],
            visa_shown: VisaType::Umrah,
            return_ticket: false,
            reason: BlockReason::MinorWithoutGuardian,
            group_id: None,
            handed_to: HandedTo::AirportPolice,
            traveller_sex: sex,
            traveller_minor: minor,
        };
        let schema = &catalogue().of::<DepartureBlocked>().schema;
        let datum = to_datum(&block).unwrap();
        let read = apache_avro::from_avro_datum(schema, &mut datum.as_slice(), None).unwrap();
        assert_eq!(
            AnyEvent::from_avro(DepartureBlocked::FULL_NAME, read).unwrap(),
            block.into_any()
        );
    }
}
