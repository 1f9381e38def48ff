//! The Lintas event contract.
//!
//! The `.avsc` files in the repository's `schemas/` folder are the source of truth; the types
//! here mirror them and a test fails when the two drift apart. Every event shares an
//! [`Envelope`]; each event type knows its Avro full name, its topic and its partition key.
#![forbid(unsafe_code)]

mod alert;
mod applicant;
pub mod calendar;
mod case;
mod catalogue;
mod codes;
mod departure;
mod envelope;
mod identity;
mod interview;
mod privacy;
pub mod region;
mod screening;
pub mod timefmt;
pub(crate) mod topic;

pub use alert::{AlertAcknowledged, AlertClosed, AlertEscalated, AlertRaised, RuleAlert, Summary};
pub use applicant::{ApplicantPersonalData, ApplicantRegistered, PlacementAgency};
pub use case::{
    CaseReferred, InvestigationOpened, ProsecutionStageChanged, RecruiterReported, SpdpSent,
};
pub use catalogue::{catalogue, keks, self_contained, Catalogue, EventSchema, SOURCES};
pub use codes::{
    Agency, AlertCloseReason, AlertSeverity, AvroEnum, BlockDecision, BlockReason, DeclaredPurpose,
    ErasureReason, ErasureScope, EscalationReason, HandedTo, InterviewOutcome, InterviewReason,
    LicenceStatus, ProsecutionStage, RecruiterRole, ReferralReason, RegistrationSource,
    ScreeningStage, Sex, VisaFlagReason, VisaType,
};
pub use departure::{DepartureBlocked, DepartureCleared};
pub use envelope::Envelope;
pub use identity::{SubjectKeyError, SubjectKeyRotations, SubjectKeyer};
pub use interview::PassportInterviewConducted;
pub use privacy::{PersonalDataErased, PersonalDataRead};
pub use region::{RegencyCode, VillageCode};
pub use screening::VisaTypeFlagged;
pub use topic::{
    may_read_alerts, readable_alert_topics, Topic, ALERT_GRANTS, ALERT_OWNERS, ALERT_TOPICS,
    RETIRED_SHARED_ALERTS,
};

use serde::{de::DeserializeOwned, Serialize};

/// One event type of the contract.
pub trait Event: Serialize + DeserializeOwned + Clone + Send + Sync + 'static {
    /// Avro full name; with the topic it names the registry subject
    /// (`<topic>-<full name>`, Confluent's TopicRecordNameStrategy).
    const FULL_NAME: &'static str;
    /// Every topic this type travels on (one, or one per alert owner for alert events).
    const TOPICS: &'static [Topic];

    /// The topic this event travels on: an alert event's depends on its agency.
    fn topic(&self) -> Topic;

    fn envelope(&self) -> &Envelope;

    /// Partition key: keeps every event about one subject (or one case, or one alert) in one
    /// partition, so it is read in the order it was written. Nothing is ordered across topics.
    fn key(&self) -> String;

    fn into_any(self) -> AnyEvent;
}

/// Any event of the contract, as a consumer receives it after decoding.
#[derive(Debug, Clone, PartialEq)]
pub enum AnyEvent {
    ApplicantRegistered(ApplicantRegistered),
    VisaTypeFlagged(VisaTypeFlagged),
    DepartureBlocked(DepartureBlocked),
    CaseReferred(CaseReferred),
    AlertRaised(AlertRaised),
    PassportInterviewConducted(PassportInterviewConducted),
    DepartureCleared(DepartureCleared),
    RecruiterReported(RecruiterReported),
    InvestigationOpened(InvestigationOpened),
    SpdpSent(SpdpSent),
    ProsecutionStageChanged(ProsecutionStageChanged),
    AlertAcknowledged(AlertAcknowledged),
    AlertEscalated(AlertEscalated),
    AlertClosed(AlertClosed),
    PersonalDataRead(PersonalDataRead),
    PersonalDataErased(PersonalDataErased),
}

impl AnyEvent {
    pub fn envelope(&self) -> &Envelope {
        match self {
            AnyEvent::ApplicantRegistered(e) => &e.envelope,
            AnyEvent::VisaTypeFlagged(e) => &e.envelope,
            AnyEvent::DepartureBlocked(e) => &e.envelope,
            AnyEvent::CaseReferred(e) => &e.envelope,
            AnyEvent::AlertRaised(e) => &e.envelope,
            AnyEvent::PassportInterviewConducted(e) => &e.envelope,
            AnyEvent::DepartureCleared(e) => &e.envelope,
            AnyEvent::RecruiterReported(e) => &e.envelope,
            AnyEvent::InvestigationOpened(e) => &e.envelope,
            AnyEvent::SpdpSent(e) => &e.envelope,
            AnyEvent::ProsecutionStageChanged(e) => &e.envelope,
            AnyEvent::AlertAcknowledged(e) => &e.envelope,
            AnyEvent::AlertEscalated(e) => &e.envelope,
            AnyEvent::AlertClosed(e) => &e.envelope,
            AnyEvent::PersonalDataRead(e) => &e.envelope,
            AnyEvent::PersonalDataErased(e) => &e.envelope,
        }
    }

    /// The topic this event travels on.
    pub fn topic(&self) -> Topic {
        each_variant!(self, |e| e.topic())
    }

    /// The partition key this event is published with.
    pub fn key(&self) -> String {
        each_variant!(self, |e| e.key())
    }

    /// Every subject key the event carries (the envelope's, and the people a case, a
    /// recruiter report, an investigation or an audit record names), for carrying keys of an
    /// older secret version forward ([`SubjectKeyRotations`]). Recruiter keys are ids of the
    /// reporting agency, not subject keys, and are not included.
    pub fn subject_keys_mut(&mut self) -> Vec<&mut String> {
        let mut keys: Vec<&mut String> = Vec::new();
        let is_subject_erasure = matches!(
            self,
            AnyEvent::PersonalDataErased(e) if e.scope == ErasureScope::Subject
        );
        let is_subject_read = matches!(
            self,
            AnyEvent::PersonalDataRead(e) if e.envelope.subject_key.is_some()
        );
        match self {
            AnyEvent::CaseReferred(e) => {
                keys.extend(e.envelope.subject_key.as_mut());
                keys.extend(e.subject_keys.iter_mut());
            }
            AnyEvent::RecruiterReported(e) => {
                keys.extend(e.envelope.subject_key.as_mut());
                keys.extend(e.linked_subject_keys.iter_mut());
            }
            AnyEvent::InvestigationOpened(e) => {
                keys.extend(e.envelope.subject_key.as_mut());
                keys.extend(e.subject_keys.iter_mut());
            }
            AnyEvent::PersonalDataRead(e) => {
                keys.extend(e.envelope.subject_key.as_mut());
                if is_subject_read {
                    keys.push(&mut e.person_key);
                }
            }
            AnyEvent::PersonalDataErased(e) => {
                keys.extend(e.envelope.subject_key.as_mut());
                if is_subject_erasure {
                    keys.push(&mut e.person_key);
                }
            }
            other => keys.extend(other.envelope_mut().subject_key.as_mut()),
        }
        keys
    }

    pub fn envelope_mut(&mut self) -> &mut Envelope {
        each_variant!(self, |e| &mut e.envelope)
    }

    /// Short type name, used as a metric label and in logs.
    pub fn type_name(&self) -> &'static str {
        match self {
            AnyEvent::ApplicantRegistered(_) => "ApplicantRegistered",
            AnyEvent::VisaTypeFlagged(_) => "VisaTypeFlagged",
            AnyEvent::DepartureBlocked(_) => "DepartureBlocked",
            AnyEvent::CaseReferred(_) => "CaseReferred",
            AnyEvent::AlertRaised(_) => "AlertRaised",
            AnyEvent::PassportInterviewConducted(_) => "PassportInterviewConducted",
            AnyEvent::DepartureCleared(_) => "DepartureCleared",
            AnyEvent::RecruiterReported(_) => "RecruiterReported",
            AnyEvent::InvestigationOpened(_) => "InvestigationOpened",
            AnyEvent::SpdpSent(_) => "SpdpSent",
            AnyEvent::ProsecutionStageChanged(_) => "ProsecutionStageChanged",
            AnyEvent::AlertAcknowledged(_) => "AlertAcknowledged",
            AnyEvent::AlertEscalated(_) => "AlertEscalated",
            AnyEvent::AlertClosed(_) => "AlertClosed",
            AnyEvent::PersonalDataRead(_) => "PersonalDataRead",
            AnyEvent::PersonalDataErased(_) => "PersonalDataErased",
        }
    }

    /// The event as an Avro value of its catalogue schema: what [`AnyEvent::from_avro`]
    /// decodes. Tools inspect events through it field by field (`lintas describe` finds
    /// which fields each event's partition key is made of).
    pub fn to_avro(&self) -> Result<apache_avro::types::Value, apache_avro::Error> {
        fn typed<E: Event>(event: &E) -> Result<apache_avro::types::Value, apache_avro::Error> {
            apache_avro::to_value(event)?.resolve(&catalogue().of::<E>().schema)
        }
        each_variant!(self, |e| typed(e))
    }

    /// Decodes an Avro value already resolved against the reader schema of `full_name`.
    pub fn from_avro(
        full_name: &str,
        value: apache_avro::types::Value,
    ) -> Result<Self, apache_avro::Error> {
        catalogue(); // settles the serde mode the types need
        fn typed<E: Event>(
            value: apache_avro::types::Value,
        ) -> Result<AnyEvent, apache_avro::Error> {
            apache_avro::from_value::<E>(&value).map(Event::into_any)
        }
        match full_name {
            ApplicantRegistered::FULL_NAME => typed::<ApplicantRegistered>(value),
            VisaTypeFlagged::FULL_NAME => typed::<VisaTypeFlagged>(value),
            DepartureBlocked::FULL_NAME => typed::<DepartureBlocked>(value),
            CaseReferred::FULL_NAME => typed::<CaseReferred>(value),
            AlertRaised::FULL_NAME => typed::<AlertRaised>(value),
            PassportInterviewConducted::FULL_NAME => typed::<PassportInterviewConducted>(value),
            DepartureCleared::FULL_NAME => typed::<DepartureCleared>(value),
            RecruiterReported::FULL_NAME => typed::<RecruiterReported>(value),
            InvestigationOpened::FULL_NAME => typed::<InvestigationOpened>(value),
            SpdpSent::FULL_NAME => typed::<SpdpSent>(value),
            ProsecutionStageChanged::FULL_NAME => typed::<ProsecutionStageChanged>(value),
            AlertAcknowledged::FULL_NAME => typed::<AlertAcknowledged>(value),
            AlertEscalated::FULL_NAME => typed::<AlertEscalated>(value),
            AlertClosed::FULL_NAME => typed::<AlertClosed>(value),
            PersonalDataRead::FULL_NAME => typed::<PersonalDataRead>(value),
            PersonalDataErased::FULL_NAME => typed::<PersonalDataErased>(value),
            other => Err(apache_avro::Error::new(
                apache_avro::error::Details::DeserializeValue(format!(
                    "record {other} is not part of the Lintas contract known to this build"
                )),
            )),
        }
    }
}

/// Applies one expression to the event inside any variant.
macro_rules! each_variant {
    ($value:expr, |$e:ident| $body:expr) => {
        match $value {
            AnyEvent::ApplicantRegistered($e) => $body,
            AnyEvent::VisaTypeFlagged($e) => $body,
            AnyEvent::DepartureBlocked($e) => $body,
            AnyEvent::CaseReferred($e) => $body,
            AnyEvent::AlertRaised($e) => $body,
            AnyEvent::PassportInterviewConducted($e) => $body,
            AnyEvent::DepartureCleared($e) => $body,
            AnyEvent::RecruiterReported($e) => $body,
            AnyEvent::InvestigationOpened($e) => $body,
            AnyEvent::SpdpSent($e) => $body,
            AnyEvent::ProsecutionStageChanged($e) => $body,
            AnyEvent::AlertAcknowledged($e) => $body,
            AnyEvent::AlertEscalated($e) => $body,
            AnyEvent::AlertClosed($e) => $body,
            AnyEvent::PersonalDataRead($e) => $body,
            AnyEvent::PersonalDataErased($e) => $body,
        }
    };
}
use each_variant;

macro_rules! impl_event {
    // An alert event: on the alert topic of the agency `$owner` names.
    ($ty:ident, alerts of |$a:ident| $owner:expr, |$e:ident| $key:expr) => {
        $crate::impl_event!(@impl $ty, &$crate::topic::ALERT_TOPICS, |$a| $crate::Topic::Alerts($owner), |$e| $key);
    };
    ($ty:ident, $topic:expr, |$e:ident| $key:expr) => {
        $crate::impl_event!(@impl $ty, &[$topic], |_event| $topic, |$e| $key);
    };
    (@impl $ty:ident, $topics:expr, |$a:ident| $topic:expr, |$e:ident| $key:expr) => {
        impl $crate::Event for $ty {
            const FULL_NAME: &'static str = concat!("lintas.events.", stringify!($ty));
            const TOPICS: &'static [$crate::Topic] = $topics;
            fn topic(&self) -> $crate::Topic {
                let $a = self;
                $topic
            }
            fn envelope(&self) -> &$crate::Envelope {
                &self.envelope
            }
            fn into_any(self) -> $crate::AnyEvent {
                $crate::AnyEvent::$ty(self)
            }
            fn key(&self) -> String {
                let $e = self;
                $key
            }
        }
    };
}
pub(crate) use impl_event;

/// Key of events about one person: the subject key, or the event id for the rare event
/// about no single person.
pub(crate) fn subject_partition_key(envelope: &Envelope) -> String {
    envelope
        .subject_key
        .clone()
        .unwrap_or_else(|| envelope.event_id.to_string())
}

/// Key of case events: the case id, or the event id for an event that names no case.
pub(crate) fn case_partition_key(envelope: &Envelope) -> String {
    envelope
        .case_id
        .clone()
        .unwrap_or_else(|| envelope.event_id.to_string())
}

/// Avro binary body of an event, written with its schema from the catalogue (no framing; the
/// kit's codec adds the Confluent header).
pub fn to_datum<E: Event>(event: &E) -> Result<Vec<u8>, apache_avro::Error> {
    let schema = &catalogue().of::<E>().schema;
    let value = apache_avro::to_value(event)?.resolve(schema)?;
    apache_avro::to_avro_datum(schema, value)
}
