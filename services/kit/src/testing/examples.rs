//! One event of every type of the contract with sensible defaults, for tests: change only the
//! fields your test is about and take the rest with struct update syntax.
//!
//! ```
//! use lintas_kit::events::{DepartureBlocked, Event};
//! use lintas_kit::testing::examples::example;
//!
//! let blocked = DepartureBlocked { checkpoint_code: "TPI-YIA".into(), ..example() };
//! // A publisher's retry: the same event (same `event_id`) delivered twice.
//! let twice = vec![blocked.clone().into_any(), blocked.into_any()];
//! # assert_eq!(twice[0], twice[1]);
//! ```
//!
//! Every call gives a fresh `event_id`, "now" as the time it occurred, and the same subject
//! ([`SUBJECT`]) and case ([`CASE`]), so examples of different types are about one person and
//! one case unless you say otherwise. Personal-data fields hold synthetic values.
//!
//! Who an event is about, when it happened and where are the envelope's: say them with the
//! builders of [`Example`] ([`about`](Example::about), [`at`](Example::at),
//! [`in_case`](Example::in_case), [`by`](Example::by)), and number the
//! people of a scenario with [`subject`]:
//!
//! ```
//! use lintas_kit::events::{DepartureBlocked, Event};
//! use lintas_kit::testing::examples::{example, subject, Example};
//! use time::macros::datetime;
//!
//! // Five people blocked twenty days apart.
//! let blocks: Vec<_> = (0..5)
//!     .map(|i| {
//!         example::<DepartureBlocked>()
//!             .about(&subject(i))
//!             .at(datetime!(2026-03-01 10:00 UTC) + time::Duration::days(20 * i as i64))
//!             .into_any()
//!     })
//!     .collect();
//! # assert_eq!(blocks[4].envelope().subject_key.as_deref(), Some(subject(4).as_str()));
//! ```

use lintas_events::*;
use time::macros::date;
use time::OffsetDateTime;
use uuid::Uuid;

/// The subject key every example is about: a pseudonym, as the intakes derive from a NIK.
pub const SUBJECT: &str = "5f2a9c0b7d41e6385a0c9b2e1f7d4a6c3e8b1d0f9a2c5e7b4d6f8a1c3e5b7d90";

/// The case id of the examples on the cases topic.
pub const CASE: &str = "LP/B/127/XI/2026/POLRESTA-CILACAP";

/// A recruiter's pseudonymous key, linked by the police and the manpower office examples.
pub const RECRUITER: &str = "rk-0c1d2e3f4a5b6c7d";

/// The Kemendagri code of the examples' village, Karang Kandri (Kesugihan, Cilacap): the
/// village a village office's token names in its `village=` claim.
pub const KARANG_KANDRI: &str = "33.01.02.2003";

/// `Example::envelope_mut` of an event type whose envelope is its `envelope` field: all of them.
macro_rules! the_envelope {
    () => {
        fn envelope_mut(&mut self) -> &mut Envelope {
            &mut self.envelope
        }
    };
}

/// An event type with an example, and builders saying who, when and where.
pub trait Example: Sized {
    fn example() -> Self;

    /// The event's envelope, which the builders below change.
    fn envelope_mut(&mut self) -> &mut Envelope;

    /// About `subject` (its subject key): [`subject`]`(i)` numbers a scenario's people.
    fn about(mut self, subject: &str) -> Self {
        self.envelope_mut().subject_key = Some(subject.into());
        self
    }

    /// Occurring at `occurred_at` (recorded now, as a late or backfilled event is).
    fn at(mut self, occurred_at: OffsetDateTime) -> Self {
        self.envelope_mut().occurred_at = occurred_at;
        self
    }

    /// About case `case` (the cases topic's key).
    fn in_case(mut self, case: &str) -> Self {
        self.envelope_mut().case_id = Some(case.into());
        self
    }

    /// Published by `office` of `agency`.
    fn by(mut self, agency: Agency, office: &str) -> Self {
        let envelope = self.envelope_mut();
        envelope.agency = agency;
        envelope.office = office.into();
        self
    }
}

/// The `i`-th person of a scenario: a subject key of the intakes' shape (64 hex digits),
/// distinct for each `i` and from [`SUBJECT`].
pub fn subject(i: usize) -> String {
    format!("{i:064x}")
}

/// The example of `E`: `DepartureBlocked { destination_country: "KH".into(), ..example() }`.
pub fn example<E: Example>() -> E {
    E::example()
}

/// An envelope of `agency`'s `office`, about [`SUBJECT`], occurring now.
pub fn envelope(agency: Agency, office: &str) -> Envelope {
    let mut envelope = Envelope::new(agency, office, "officer-1", timefmt::millis::now());
    envelope.subject_key = Some(SUBJECT.into());
    envelope
}

/// An envelope on the cases topic: about case [`CASE`], with no single subject.
fn case_envelope(agency: Agency, office: &str) -> Envelope {
    let mut envelope = Envelope::new(agency, office, "officer-1", timefmt::millis::now());
    envelope.case_id = Some(CASE.into());
    envelope
}

/// One example of every event type of the contract.
pub fn all() -> Vec<AnyEvent> {
    vec![
        example::<ApplicantRegistered>().into_any(),
        example::<VisaTypeFlagged>().into_any(),
        example::<DepartureBlocked>().into_any(),
        example::<DepartureCleared>().into_any(),
        example::<PassportInterviewConducted>().into_any(),
        example::<CaseReferred>().into_any(),
        example::<RecruiterReported>().into_any(),
        example::<InvestigationOpened>().into_any(),
        example::<SpdpSent>().into_any(),
        example::<ProsecutionStageChanged>().into_any(),
        example::<AlertRaised>().into_any(),
        example::<AlertAcknowledged>().into_any(),
        example::<AlertEscalated>().into_any(),
        example::<AlertClosed>().into_any(),
        example::<PersonalDataRead>().into_any(),
        example::<PersonalDataErased>().into_any(),
    ]
}

impl Example for ApplicantRegistered {
    the_envelope!();

    fn example() -> Self {
        ApplicantRegistered {
            envelope: envelope(Agency::Disnaker, "DISNAKER-CILACAP"),
            source: RegistrationSource::JobseekerCardAk1,
            personal: ApplicantPersonalData {
                nik: "3301015203990001".into(),
                full_name: "Siti Contoh".into(),
            },
            sex: Sex::Female,
            birth_date: date!(1999 - 03 - 12),
            village: "Karang Kandri".into(),
            sub_district: "Kesugihan".into(),
            regency: "Cilacap".into(),
            declared_purpose: DeclaredPurpose::Work,
            destination_country: "MY".into(),
            placement_agency: Some(PlacementAgency {
                name: "PT Contoh Penempatan".into(),
                licence_number: Some("KEP-123/PPTKIS/2024".into()),
            }),
            sponsor_name: None,
            identity_verified: true,
            village_code: Some(KARANG_KANDRI.parse().expect("a village code")),
        }
    }
}

impl Example for VisaTypeFlagged {
    the_envelope!();

    fn example() -> Self {
        VisaTypeFlagged {
            envelope: envelope(Agency::Imigrasi, "KANIM-CILACAP"),
            reason: VisaFlagReason::TouristVisaToHighRiskDestination,
            stage: ScreeningStage::PassportInterview,
            visa_type: VisaType::Tourist,
            destination_country: "KH".into(),
        }
    }
}

impl Example for DepartureBlocked {
    the_envelope!();

    fn example() -> Self {
        DepartureBlocked {
            envelope: envelope(Agency::Imigrasi, "TPI-CGK"),
            checkpoint_code: "TPI-CGK".into(),
            decision: BlockDecision::Deferred,
            carrier: "AirAsia".into(),
            flight_or_vessel: "QZ 262".into(),
            destination_country: "KH".into(),
            transit_points: vec!["KUL".into()],
            visa_shown: VisaType::Tourist,
            return_ticket: false,
            reason: BlockReason::SuspectedNonProceduralWorker,
            group_id: None,
            handed_to: HandedTo::Bp3miShelter,
            // The facts the intake derives from the NIK, consistent with the registration
            // example's (same subject): a woman born in 1999, an adult.
            traveller_sex: Some(Sex::Female),
            traveller_minor: Some(false),
        }
    }
}

impl Example for DepartureCleared {
    the_envelope!();

    fn example() -> Self {
        DepartureCleared {
            envelope: envelope(Agency::Imigrasi, "TPI-CGK"),
            checkpoint_code: "TPI-CGK".into(),
            carrier: "Malaysia Airlines".into(),
            flight_or_vessel: "MH 720".into(),
            destination_country: "MY".into(),
            transit_points: vec![],
            visa_shown: VisaType::Work,
            epmi_id: Some("EPMI-2026-000123".into()),
            group_id: None,
            // The facts the intake derives from the NIK, consistent with the registration
            // example's (same subject): a woman born in 1999, an adult.
            traveller_sex: Some(Sex::Female),
            traveller_minor: Some(false),
        }
    }
}

impl Example for PassportInterviewConducted {
    the_envelope!();

    fn example() -> Self {
        let envelope = envelope(Agency::Imigrasi, "KANIM-CILACAP");
        let defer_until =
            PassportInterviewConducted::default_defer_until(envelope.occurred_at.date());
        PassportInterviewConducted {
            envelope,
            interview_office: "KANIM-CILACAP".into(),
            outcome: InterviewOutcome::Defer,
            defer_until: Some(defer_until),
            reason_codes: vec![InterviewReason::PurposeMismatch],
            passport_number: Some("C1234567".into()),
        }
    }
}

impl Example for CaseReferred {
    the_envelope!();

    fn example() -> Self {
        CaseReferred {
            envelope: case_envelope(Agency::Polri, "POLRESTA-CILACAP"),
            from_agency: Agency::Polri,
            to_agency: Agency::Kejaksaan,
            reason: ReferralReason::SuspectedTrafficking,
            subject_keys: vec![SUBJECT.into()],
            suspected_recruiter_keys: vec![RECRUITER.into()],
            legal_articles: vec!["UU 21/2007 Pasal 4".into()],
        }
    }
}

impl Example for RecruiterReported {
    the_envelope!();

    fn example() -> Self {
        RecruiterReported {
            envelope: case_envelope(Agency::Polri, "POLRESTA-CILACAP"),
            recruiter_key: RECRUITER.into(),
            role: RecruiterRole::Recruiter,
            phone_numbers: vec!["+6281234567890".into()],
            licence_status: LicenceStatus::Unlicensed,
            village: Some("Karang Kandri".into()),
            sub_district: Some("Kesugihan".into()),
            regency: "Cilacap".into(),
            linked_subject_keys: vec![SUBJECT.into()],
            placement_agency_name: None,
            village_code: Some(KARANG_KANDRI.parse().expect("a village code")),
        }
    }
}

impl Example for InvestigationOpened {
    the_envelope!();

    fn example() -> Self {
        InvestigationOpened {
            envelope: case_envelope(Agency::Polri, "POLRESTA-CILACAP"),
            investigating_unit: "SATRESKRIM-PPA".into(),
            legal_articles: vec!["UU 21/2007 Pasal 4".into()],
            suspect_recruiter_keys: vec![RECRUITER.into()],
            subject_keys: vec![SUBJECT.into()],
        }
    }
}

impl Example for SpdpSent {
    the_envelope!();

    fn example() -> Self {
        let envelope = case_envelope(Agency::Polri, "POLRESTA-CILACAP");
        let opened_on = envelope.occurred_at.date();
        SpdpSent {
            envelope,
            spdp_number: "SPDP/127/XI/2026/Reskrim".into(),
            sent_to_office: "KEJARI-CILACAP".into(),
            investigation_opened_on: opened_on,
        }
    }
}

impl Example for ProsecutionStageChanged {
    the_envelope!();

    fn example() -> Self {
        ProsecutionStageChanged {
            envelope: case_envelope(Agency::Kejaksaan, "KEJARI-CILACAP"),
            stage: ProsecutionStage::P16,
            prosecutor_id: Some("jaksa-3".into()),
            due_date: None,
        }
    }
}

/// Raised by the immigration rule IM1 on the [`DepartureBlocked`] example's subject.
impl Example for AlertRaised {
    the_envelope!();

    fn example() -> Self {
        let trigger = Uuid::new_v4();
        let alert = RuleAlert {
            rule: "IM1".into(),
            owner: Agency::Imigrasi,
            office: "KANIM-CILACAP".into(),
            occurred_at: timefmt::millis::now(),
            subject_key: Some(SUBJECT.into()),
            severity: AlertSeverity::Warning,
            evidence: vec![trigger],
            summary: Summary {
                id: "dihentikan lagi dalam 12 bulan".into(),
                en: "stopped again within 12 months".into(),
            },
            review_within: time::Duration::days(7),
        };
        AlertRaised::from_rule(AlertRaised::derive_id("IM1", &[trigger]), alert)
    }
}

impl Example for AlertAcknowledged {
    the_envelope!();

    fn example() -> Self {
        AlertAcknowledged {
            envelope: envelope(Agency::Imigrasi, "KANIM-CILACAP"),
            alert_id: Uuid::new_v4(),
            by_agency: Agency::Imigrasi,
            note: Some("checking the applicant's file".into()),
        }
    }
}

impl Example for AlertEscalated {
    the_envelope!();

    fn example() -> Self {
        AlertEscalated {
            envelope: envelope(Agency::Imigrasi, "KANIM-CILACAP"),
            alert_id: Uuid::new_v4(),
            by_agency: Agency::Imigrasi,
            escalated_to: Agency::Polri,
            level: 1,
            reason: EscalationReason::Manual,
            note: None,
        }
    }
}

impl Example for AlertClosed {
    the_envelope!();

    fn example() -> Self {
        AlertClosed {
            envelope: envelope(Agency::Imigrasi, "KANIM-CILACAP"),
            alert_id: Uuid::new_v4(),
            by_agency: Agency::Imigrasi,
            reason: AlertCloseReason::Resolved,
            note: None,
        }
    }
}

impl Example for PersonalDataRead {
    the_envelope!();

    fn example() -> Self {
        PersonalDataRead {
            envelope: envelope(Agency::Imigrasi, "KANIM-CILACAP"),
            read_id: Uuid::new_v4(),
            sequence: 1,
            person_key: SUBJECT.into(),
            fields: vec!["nik".into(), "full_name".into()],
            purpose: "passport interview".into(),
            previous_hash: "0".repeat(64),
            entry_hash: "1".repeat(64),
        }
    }
}

impl Example for PersonalDataErased {
    the_envelope!();

    fn example() -> Self {
        PersonalDataErased {
            envelope: envelope(Agency::Imigrasi, "KANIM-CILACAP"),
            erasure_id: Uuid::new_v4(),
            scope: ErasureScope::Subject,
            person_key: SUBJECT.into(),
            reason: ErasureReason::DataSubjectRequest,
            fields: vec!["nik".into(), "full_name".into()],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Encodes the example with its schema and decodes it back: valid against the contract.
    fn round_trips<E: Event + Example + PartialEq + std::fmt::Debug>() -> &'static str {
        let event = E::example();
        let schema = &catalogue().of::<E>().schema;
        let bytes = to_datum(&event).expect("encodes");
        let value = apache_avro::from_avro_datum(schema, &mut &bytes[..], None).expect("reads");
        let back = AnyEvent::from_avro(E::FULL_NAME, value).expect("decodes");
        assert_eq!(back, event.clone().into_any());
        E::FULL_NAME
    }

    /// Every event type of the contract has an example, valid against its schema.
    #[test]
    fn every_event_type_has_a_valid_example() {
        let mut covered = vec![
            round_trips::<ApplicantRegistered>(),
            round_trips::<VisaTypeFlagged>(),
            round_trips::<DepartureBlocked>(),
            round_trips::<DepartureCleared>(),
            round_trips::<PassportInterviewConducted>(),
            round_trips::<CaseReferred>(),
            round_trips::<RecruiterReported>(),
            round_trips::<InvestigationOpened>(),
            round_trips::<SpdpSent>(),
            round_trips::<ProsecutionStageChanged>(),
            round_trips::<AlertRaised>(),
            round_trips::<AlertAcknowledged>(),
            round_trips::<AlertEscalated>(),
            round_trips::<AlertClosed>(),
            round_trips::<PersonalDataRead>(),
            round_trips::<PersonalDataErased>(),
        ];
        covered.sort();
        let mut contract: Vec<&str> = catalogue().events().iter().map(|e| e.full_name).collect();
        contract.sort();
        contract.dedup();
        assert_eq!(covered, contract, "an event type without an example");
        assert_eq!(all().len(), contract.len());
    }
}
