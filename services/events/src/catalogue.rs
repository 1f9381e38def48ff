//! The `.avsc` files, embedded at build time, made self-contained for the registry.
//!
//! Shared named types (Envelope, Agency, VisaType) live in their own files and events refer to
//! them by full name. A registry subject must hold a schema that parses on its own (Confluent
//! clients in other languages resolve nothing else), so each event's schema is registered with
//! every referenced type inlined at its first use, exactly as Avro requires.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use apache_avro::Schema;
use serde_json::Value as Json;

use crate::{
    AlertAcknowledged, AlertClosed, AlertEscalated, AlertRaised, ApplicantRegistered, CaseReferred,
    DepartureBlocked, DepartureCleared, Event, InvestigationOpened, PassportInterviewConducted,
    PersonalDataErased, PersonalDataRead, ProsecutionStageChanged, RecruiterReported, SpdpSent,
    Topic, VisaTypeFlagged,
};

/// Every file of `schemas/`, by file name.
pub const SOURCES: &[(&str, &str)] = &[
    ("Agency.avsc", include_str!("../../../schemas/Agency.avsc")),
    (
        "VisaType.avsc",
        include_str!("../../../schemas/VisaType.avsc"),
    ),
    ("Sex.avsc", include_str!("../../../schemas/Sex.avsc")),
    (
        "Envelope.avsc",
        include_str!("../../../schemas/Envelope.avsc"),
    ),
    (
        "ApplicantRegistered.avsc",
        include_str!("../../../schemas/ApplicantRegistered.avsc"),
    ),
    (
        "VisaTypeFlagged.avsc",
        include_str!("../../../schemas/VisaTypeFlagged.avsc"),
    ),
    (
        "DepartureBlocked.avsc",
        include_str!("../../../schemas/DepartureBlocked.avsc"),
    ),
    (
        "CaseReferred.avsc",
        include_str!("../../../schemas/CaseReferred.avsc"),
    ),
    (
        "AlertRaised.avsc",
        include_str!("../../../schemas/AlertRaised.avsc"),
    ),
    (
        "PassportInterviewConducted.avsc",
        include_str!("../../../schemas/PassportInterviewConducted.avsc"),
    ),
    (
        "DepartureCleared.avsc",
        include_str!("../../../schemas/DepartureCleared.avsc"),
    ),
    (
        "RecruiterReported.avsc",
        include_str!("../../../schemas/RecruiterReported.avsc"),
    ),
    (
        "InvestigationOpened.avsc",
        include_str!("../../../schemas/InvestigationOpened.avsc"),
    ),
    (
        "SpdpSent.avsc",
        include_str!("../../../schemas/SpdpSent.avsc"),
    ),
    (
        "ProsecutionStageChanged.avsc",
        include_str!("../../../schemas/ProsecutionStageChanged.avsc"),
    ),
    (
        "AlertAcknowledged.avsc",
        include_str!("../../../schemas/AlertAcknowledged.avsc"),
    ),
    (
        "AlertEscalated.avsc",
        include_str!("../../../schemas/AlertEscalated.avsc"),
    ),
    (
        "AlertClosed.avsc",
        include_str!("../../../schemas/AlertClosed.avsc"),
    ),
    (
        "PersonalDataRead.avsc",
        include_str!("../../../schemas/PersonalDataRead.avsc"),
    ),
    (
        "PersonalDataErased.avsc",
        include_str!("../../../schemas/PersonalDataErased.avsc"),
    ),
];

/// Key-encryption keys of the contract: who may read which personal data. A KEK is held
/// only by the agencies entitled to the data and by the intakes that record it.
pub mod keks {
    /// Identities the immigration office controls: NIK and names of applicants, sponsors'
    /// names, passport numbers, e-PMI ids.
    pub const IMMIGRATION: &str = "lintas-imigrasi";
    /// Police intelligence: recruiters' phone numbers.
    pub const POLICE: &str = "lintas-polri";
    /// Every KEK of the contract.
    pub const ALL: [&str; 2] = [IMMIGRATION, POLICE];
}

/// One event type's contract: where it travels and its self-contained schema.
#[derive(Debug)]
pub struct EventSchema {
    pub full_name: &'static str,
    /// Every topic it travels on: one, or one per alert owner for alert events. Its schema
    /// is registered under a subject per topic.
    pub topics: &'static [Topic],
    /// Self-contained schema JSON, as registered.
    pub json: String,
    pub schema: Schema,
    /// Parsing Canonical Form: a writer schema with the same form needs no resolution.
    pub canonical: String,
    /// The key-encryption key of its personal-data fields (tagged `PII`), if it has any.
    pub kek: Option<&'static str>,
}

#[derive(Debug)]
pub struct Catalogue {
    events: Vec<EventSchema>,
}

impl Catalogue {
    pub fn events(&self) -> &[EventSchema] {
        &self.events
    }

    pub fn get(&self, full_name: &str) -> Option<&EventSchema> {
        self.events.iter().find(|e| e.full_name == full_name)
    }

    pub fn of<E: Event>(&self) -> &EventSchema {
        self.get(E::FULL_NAME)
            .expect("every Event type has a schema in the catalogue")
    }

    /// Registry subject of an event on a topic: Confluent's TopicRecordNameStrategy, since one
    /// topic carries several record types.
    pub fn subject(topic_name: &str, full_name: &str) -> String {
        format!("{topic_name}-{full_name}")
    }
}

/// The catalogue of this build. The embedded files are checked by the tests, so a failure here
/// is a build defect, not an operating condition.
pub fn catalogue() -> &'static Catalogue {
    static CATALOGUE: OnceLock<Catalogue> = OnceLock::new();
    CATALOGUE.get_or_init(|| {
        // UUIDs must travel as the Avro `uuid` logical type (a string), which apache-avro's
        // serde bridge only does in human-readable mode. It is a process-wide setting, so it
        // is made before any event is encoded or decoded.
        apache_avro::util::set_serde_human_readable(true);
        build().unwrap_or_else(|e| panic!("schemas/ is inconsistent: {e}"))
    })
}

/// The events of the contract, in catalogue order: (full name, topics, the KEK its
/// personal-data fields are encrypted under, if it has any).
const ENTRIES: [(&str, &[Topic], Option<&str>); 16] = [
    (
        ApplicantRegistered::FULL_NAME,
        ApplicantRegistered::TOPICS,
        Some(keks::IMMIGRATION),
    ),
    (
        PassportInterviewConducted::FULL_NAME,
        PassportInterviewConducted::TOPICS,
        Some(keks::IMMIGRATION),
    ),
    (VisaTypeFlagged::FULL_NAME, VisaTypeFlagged::TOPICS, None),
    (DepartureBlocked::FULL_NAME, DepartureBlocked::TOPICS, None),
    (
        DepartureCleared::FULL_NAME,
        DepartureCleared::TOPICS,
        Some(keks::IMMIGRATION),
    ),
    (CaseReferred::FULL_NAME, CaseReferred::TOPICS, None),
    (
        RecruiterReported::FULL_NAME,
        RecruiterReported::TOPICS,
        Some(keks::POLICE),
    ),
    (
        InvestigationOpened::FULL_NAME,
        InvestigationOpened::TOPICS,
        None,
    ),
    (SpdpSent::FULL_NAME, SpdpSent::TOPICS, None),
    (
        ProsecutionStageChanged::FULL_NAME,
        ProsecutionStageChanged::TOPICS,
        None,
    ),
    (AlertRaised::FULL_NAME, AlertRaised::TOPICS, None),
    (
        AlertAcknowledged::FULL_NAME,
        AlertAcknowledged::TOPICS,
        None,
    ),
    (AlertEscalated::FULL_NAME, AlertEscalated::TOPICS, None),
    (AlertClosed::FULL_NAME, AlertClosed::TOPICS, None),
    (PersonalDataRead::FULL_NAME, PersonalDataRead::TOPICS, None),
    (
        PersonalDataErased::FULL_NAME,
        PersonalDataErased::TOPICS,
        None,
    ),
];

fn build() -> Result<Catalogue, String> {
    let named = named_types(SOURCES)?;
    let events = ENTRIES
        .into_iter()
        .map(|(full_name, topics, kek)| {
            let text = inline_event(&named, full_name)?;
            let schema = Schema::parse_str(&text).map_err(|e| format!("{full_name}: {e}"))?;
            let canonical = schema.canonical_form();
            // Personal data without a KEK would be published in clear; a KEK without tagged
            // fields is a contract nobody can read.
            if text.contains("\"confluent:tags\"") != kek.is_some() {
                return Err(format!(
                    "{full_name}: fields tagged PII and a KEK go together (schemas/README.md)"
                ));
            }
            Ok(EventSchema {
                full_name,
                topics,
                json: text,
                schema,
                canonical,
                kek,
            })
        })
        .collect::<Result<_, String>>()?;
    Ok(Catalogue { events })
}

/// The self-contained schema JSON of the named type `full_name` (for example
/// `lintas.events.CaseReferred`), made from `file_texts`, given as (file name, `.avsc` text)
/// pairs: every named type defined in another file is inlined at its first use, exactly as
/// the catalogue registers it. Pass [`SOURCES`] for this build's contract, or the files of
/// an earlier commit to rebuild what was registered then. Errors name the file or type at
/// fault; the result is not parsed, so callers parse it with [`Schema::parse_str`].
pub fn self_contained(file_texts: &[(&str, &str)], full_name: &str) -> Result<String, String> {
    inline_event(&named_types(file_texts)?, full_name)
}

/// Top-level named types of the files, by full name.
fn named_types(file_texts: &[(&str, &str)]) -> Result<HashMap<String, Json>, String> {
    let mut named: HashMap<String, Json> = HashMap::new();
    for (file, text) in file_texts {
        let json: Json = serde_json::from_str(text).map_err(|e| format!("{file}: {e}"))?;
        let full = full_name_of(&json).ok_or_else(|| format!("{file}: no name"))?;
        if named.insert(full.clone(), json).is_some() {
            return Err(format!("{file}: {full} is defined in two files"));
        }
    }
    Ok(named)
}

fn inline_event(named: &HashMap<String, Json>, full_name: &str) -> Result<String, String> {
    let mut json = named
        .get(full_name)
        .cloned()
        .ok_or_else(|| format!("no schema file for {full_name}"))?;
    inline(&mut json, named, &mut HashSet::new());
    Ok(json.to_string())
}

fn full_name_of(json: &Json) -> Option<String> {
    let name = json.get("name")?.as_str()?;
    Some(match json.get("namespace").and_then(Json::as_str) {
        Some(ns) if !name.contains('.') => format!("{ns}.{name}"),
        _ => name.to_owned(),
    })
}

/// Replaces the first reference to each named type from another file with its definition.
/// Walks in document order, which is the order Avro defines names in.
fn inline(node: &mut Json, named: &HashMap<String, Json>, defined: &mut HashSet<String>) {
    match node {
        Json::String(name)
            if named.contains_key(name.as_str()) && !defined.contains(name.as_str()) =>
        {
            *node = named[name.as_str()].clone();
            inline(node, named, defined);
        }
        Json::Array(items) => items
            .iter_mut()
            .for_each(|item| inline(item, named, defined)),
        Json::Object(map) => {
            if matches!(
                map.get("type").and_then(Json::as_str),
                Some("record" | "enum" | "fixed")
            ) {
                if let Some(full) = full_name_of(&Json::Object(map.clone())) {
                    defined.insert(full);
                }
            }
            if let Some(Json::Array(fields)) = map.get_mut("fields") {
                for field in fields {
                    if let Some(t) = field.get_mut("type") {
                        inline(t, named, defined);
                    }
                }
            }
            for key in ["items", "values"] {
                if let Some(t) = map.get_mut(key) {
                    inline(t, named, defined);
                }
            }
            if let Some(t) = map.get_mut("type") {
                if !t.is_string()
                    || !matches!(
                        t.as_str(),
                        Some("record" | "enum" | "fixed" | "array" | "map")
                    )
                {
                    inline(t, named, defined);
                }
            }
        }
        _ => {}
    }
}
