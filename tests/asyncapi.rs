//! `schemas/asyncapi.json` is the feed's discovery document for integrators in any language.
//! These tests fail when it drifts from the code: a topic, an event, a key, a header, a
//! producing agency or a consumer group that the code has and the document does not (or the
//! other way round).
//!
//! What the document is checked against:
//! - the catalogue and [`Topic`] of the events crate (topics, events, full names, `.avsc`
//!   files);
//! - `lintas describe --json`, the facts this build states about itself (never its source
//!   read as text): the fields each event's key is made of, the producer's headers and
//!   content type, the dead-letter topic and its `__connect.errors.*` headers, the intake
//!   endpoints (the producing agencies of each topic) and every agency subscriber (its group,
//!   the topics it reads, the events it publishes).
//!
//! Every failure names the document path and the fact it disagrees with.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::str::FromStr;
use std::sync::OnceLock;

use lintas_kit::events::{catalogue, Agency, AvroEnum, Catalogue, Topic};
use serde_json::{json, Value};

const DOCUMENT: &str = "schemas/asyncapi.json";
const AVRO_FORMAT: &str = "application/vnd.apache.avro+json;version=1.9.0";
/// Field names a partition key can be made of.
const KEY_FIELDS: [&str; 6] = [
    "subject_key",
    "case_id",
    "alert_id",
    "recruiter_key",
    "event_id",
    "agency",
];

// ---------------------------------------------------------------------------------------------
// Reading the repository

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(rel: &str) -> String {
    let path = repo_root().join(rel);
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn document() -> Value {
    serde_json::from_str(&read(DOCUMENT))
        .unwrap_or_else(|e| panic!("{DOCUMENT} is not valid JSON: {e}"))
}

/// `lintas describe --json` of the binary built with this test, run once.
fn describe() -> &'static Value {
    static DESCRIBE: OnceLock<Value> = OnceLock::new();
    DESCRIBE.get_or_init(|| {
        let out = Command::new(env!("CARGO_BIN_EXE_lintas"))
            .args(["describe", "--json"])
            .output()
            .expect("run lintas describe --json");
        assert!(
            out.status.success(),
            "lintas describe --json failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("lintas describe --json prints JSON")
    })
}

#[track_caller]
fn fail_on(problems: Vec<String>, what: &str) {
    if !problems.is_empty() {
        panic!(
            "{DOCUMENT} has drifted from the code ({what}); {} problem(s):\n  - {}\n",
            problems.len(),
            problems.join("\n  - ")
        );
    }
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Whether `word` occurs in `text` as a whole identifier.
fn mentions(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(i, _)| {
        let before = i.checked_sub(1).map(|j| text.as_bytes()[j]);
        let after = text.as_bytes().get(i + word.len()).copied();
        !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
    })
}

// ---------------------------------------------------------------------------------------------
// The document

fn short_name(full_name: &str) -> &str {
    full_name.rsplit('.').next().unwrap_or(full_name)
}

/// The topics a channel address names: one, or for the alert channel's
/// `lintas.alerts.{agency}.v1` one per agency that owns alerts.
fn topics_of_address(address: &str) -> Vec<Topic> {
    Topic::ALL
        .into_iter()
        .filter(|t| {
            let concrete = match t.alert_owner() {
                Some(owner) => address.replace("{agency}", owner.symbol()),
                None => address.to_owned(),
            };
            t.base_name() == concrete
        })
        .collect()
}

fn topic_of_address(address: &str) -> Option<Topic> {
    topics_of_address(address).first().copied()
}

/// A dead-letter address (one topic per consumer group).
fn is_pattern(address: &str) -> bool {
    address.contains("{group}")
}

fn channels(doc: &Value) -> Vec<(&str, &Value)> {
    doc["channels"]
        .as_object()
        .map(|m| m.iter().map(|(id, ch)| (id.as_str(), ch)).collect())
        .unwrap_or_default()
}

fn messages(channel: &Value) -> Vec<(&str, &Value)> {
    channel["messages"]
        .as_object()
        .map(|m| m.iter().map(|(id, msg)| (id.as_str(), msg)).collect())
        .unwrap_or_default()
}

fn operations(doc: &Value) -> Vec<(&str, &Value)> {
    doc["operations"]
        .as_object()
        .map(|m| m.iter().map(|(id, op)| (id.as_str(), op)).collect())
        .unwrap_or_default()
}

/// The channel id of `#/channels/<id>`.
fn channel_ref(op: &Value) -> Option<&str> {
    op["channel"]["$ref"].as_str()?.strip_prefix("#/channels/")
}

/// (channel id, message id) of `#/channels/<id>/messages/<message>`.
fn message_ref(reference: &Value) -> Option<(&str, &str)> {
    reference["$ref"]
        .as_str()?
        .strip_prefix("#/channels/")?
        .split_once("/messages/")
}

/// Message names an operation lists.
fn op_message_names(op: &Value) -> BTreeSet<String> {
    op["messages"]
        .as_array()
        .map(|refs| {
            refs.iter()
                .filter_map(message_ref)
                .map(|(_, m)| m.to_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The topic an operation's channel carries, if it is an event topic; for the alert channel,
/// the one its `x-address` names.
fn op_topic(doc: &Value, op: &Value) -> Option<Topic> {
    let id = channel_ref(op)?;
    let address = doc["channels"][id]["address"].as_str()?;
    let topics = topics_of_address(address);
    match topics.as_slice() {
        [one] => Some(*one),
        _ => {
            let concrete = op["x-address"].as_str()?;
            topics.into_iter().find(|t| t.base_name() == concrete)
        }
    }
}

fn agency_set<'a>(agencies: impl IntoIterator<Item = &'a Agency>) -> BTreeSet<String> {
    agencies
        .into_iter()
        .map(|a| a.symbol().to_owned())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Tests: the document itself

#[test]
fn is_an_asyncapi_3_document_with_the_feed_conventions() {
    let doc = document();
    let mut problems = Vec::new();
    if doc["asyncapi"] != "3.0.0" {
        problems.push(format!(
            "`asyncapi` is {}, expected \"3.0.0\"",
            doc["asyncapi"]
        ));
    }
    if doc["info"]["title"] != "Lintas event feed" {
        problems.push(format!(
            "`info.title` is {}, expected \"Lintas event feed\"",
            doc["info"]["title"]
        ));
    }
    if doc["info"]["version"].as_str().is_none_or(str::is_empty) {
        problems.push("`info.version` is missing".into());
    }
    let description = doc["info"]["description"].as_str().unwrap_or_default();
    for phrase in [
        "magic byte `0`",
        "big-endian",
        "TopicRecordNameStrategy",
        "<topic>-<record full name>",
        "Nothing is ordered across topics",
        "At least once",
        "de-duplication key",
        "Retention",
        "replay",
        "Personal data",
        "lintas.personal_data",
        "schema registry",
    ] {
        if !description.contains(phrase) {
            problems.push(format!("`info.description` does not mention `{phrase}`"));
        }
    }
    let kafka: Vec<&str> = doc["servers"]
        .as_object()
        .map(|m| {
            m.iter()
                .filter(|(_, s)| s["protocol"] == "kafka")
                .map(|(id, _)| id.as_str())
                .collect()
        })
        .unwrap_or_default();
    if kafka.is_empty() {
        problems.push("`servers` has no server with `protocol: kafka`".into());
    }
    if doc["x-schema-registry"]["url"].as_str().is_none() {
        problems.push("`x-schema-registry.url` is missing".into());
    }
    fail_on(problems, "document basics");
}

#[test]
fn channels_are_the_topics() {
    let doc = document();
    let mut problems = Vec::new();
    let mut addresses = BTreeSet::new();
    for (id, ch) in channels(&doc) {
        match ch["address"].as_str() {
            None => problems.push(format!("channels.{id} has no `address`")),
            Some(a) if !addresses.insert(a.to_owned()) => problems.push(format!(
                "channels.{id}: address `{a}` appears in two channels"
            )),
            Some(_) => {}
        }
    }
    let documented: BTreeSet<String> = addresses
        .into_iter()
        .filter(|a| !is_pattern(a))
        .flat_map(|a| topics_of_address(&a))
        .map(|t| t.base_name().to_owned())
        .collect();
    for (id, ch) in channels(&doc) {
        let address = ch["address"].as_str().unwrap_or_default();
        if address.contains("{agency}") {
            let documented = strings(&ch["parameters"]["agency"]["enum"]);
            let owners: Vec<String> = lintas_kit::events::ALERT_OWNERS
                .iter()
                .map(|a| a.symbol().to_owned())
                .collect();
            if documented != owners {
                problems.push(format!("channels.{id}.parameters.agency.enum is {documented:?}, expected the alert owners {owners:?}"));
            }
        }
    }
    let code: BTreeSet<String> = Topic::ALL
        .iter()
        .map(|t| t.base_name().to_owned())
        .collect();
    for missing in code.difference(&documented) {
        problems.push(format!(
            "topic `{missing}` (lintas_kit::events::Topic) has no channel"
        ));
    }
    for extra in documented.difference(&code) {
        problems.push(format!(
            "channel address `{extra}` is not a lintas_kit::events::Topic base name"
        ));
    }
    fail_on(problems, "channels vs Topic::ALL");
}

#[test]
fn every_catalogue_event_is_a_message_of_its_topic_channel_and_nothing_else_is() {
    let doc = document();
    let mut problems = Vec::new();
    let known: BTreeSet<&str> = catalogue()
        .events()
        .iter()
        .map(|e| short_name(e.full_name))
        .collect();
    for event in catalogue().events() {
        let name = short_name(event.full_name);
        let listing: Vec<(&str, &str)> = channels(&doc)
            .into_iter()
            .filter(|(_, ch)| messages(ch).iter().any(|(_, m)| m["name"] == name))
            .map(|(id, ch)| (id, ch["address"].as_str().unwrap_or("?")))
            .collect();
        match listing.as_slice() {
            [] => problems.push(format!(
                "{} (topics {:?}) is in the catalogue but no channel lists a message named `{name}`",
                event.full_name,
                event.topics.iter().map(|t| t.base_name()).collect::<Vec<_>>()
            )),
            [(id, address)] if topics_of_address(address) != event.topics => problems.push(format!(
                "message `{name}` is listed in channels.{id} (address `{address}`) but {} travels on {:?}",
                event.full_name,
                event.topics.iter().map(|t| t.base_name()).collect::<Vec<_>>()
            )),
            [_] => {}
            many => problems.push(format!("message `{name}` is listed by {} channels: {many:?}", many.len())),
        }
    }
    for (id, ch) in channels(&doc) {
        if is_pattern(ch["address"].as_str().unwrap_or_default()) {
            continue; // dead letters: checked by dead_letter_channel_matches_the_kit
        }
        for (key, msg) in messages(ch) {
            let name = msg["name"].as_str().unwrap_or_default();
            if name != key {
                problems.push(format!(
                    "channels.{id}.messages.{key}: `name` is `{name}`, expected `{key}`"
                ));
            }
            if !known.contains(name) {
                problems.push(format!(
                    "channels.{id}.messages.{key}: `{name}` is not an event of lintas_kit::events::catalogue()"
                ));
            }
        }
    }
    fail_on(problems, "messages vs catalogue");
}

/// Dotted paths of the fields marked `"lintas.personal_data": true`.
fn personal_data(node: &Value, prefix: &str, out: &mut BTreeSet<String>) {
    match node {
        Value::Array(items) => items.iter().for_each(|n| personal_data(n, prefix, out)),
        Value::Object(map) => match map.get("type") {
            Some(Value::String(t)) if t == "record" => {
                for field in map["fields"].as_array().into_iter().flatten() {
                    let path = format!("{prefix}{}", field["name"].as_str().unwrap_or_default());
                    if field["lintas.personal_data"] == true {
                        out.insert(path.clone());
                    }
                    personal_data(&field["type"], &format!("{path}."), out);
                }
            }
            Some(Value::String(t)) if t == "array" => personal_data(&map["items"], prefix, out),
            Some(Value::String(t)) if t == "map" => personal_data(&map["values"], prefix, out),
            Some(inner @ (Value::Object(_) | Value::Array(_))) => personal_data(inner, prefix, out),
            _ => {}
        },
        _ => {}
    }
}

/// Dotted paths of the fields tagged `"confluent:tags": ["PII"]`: encrypted on the wire.
fn pii_tagged(node: &Value, prefix: &str, out: &mut BTreeSet<String>) {
    match node {
        Value::Array(items) => items.iter().for_each(|n| pii_tagged(n, prefix, out)),
        Value::Object(map) => match map.get("type") {
            Some(Value::String(t)) if t == "record" => {
                for field in map["fields"].as_array().into_iter().flatten() {
                    let path = format!("{prefix}{}", field["name"].as_str().unwrap_or_default());
                    if strings(&field["confluent:tags"]).iter().any(|t| t == "PII") {
                        out.insert(path.clone());
                    }
                    pii_tagged(&field["type"], &format!("{path}."), out);
                }
            }
            Some(Value::String(t)) if t == "array" => pii_tagged(&map["items"], prefix, out),
            Some(Value::String(t)) if t == "map" => pii_tagged(&map["values"], prefix, out),
            Some(inner @ (Value::Object(_) | Value::Array(_))) => pii_tagged(inner, prefix, out),
            _ => {}
        },
        _ => {}
    }
}

#[test]
fn payloads_reference_the_avsc_files_of_the_catalogue() {
    let doc = document();
    let mut problems = Vec::new();
    for (id, ch) in channels(&doc) {
        let Some(topic) = ch["address"].as_str().and_then(topic_of_address) else {
            continue;
        };
        for (key, msg) in messages(ch) {
            let at = format!("channels.{id}.messages.{key}");
            let Some(event) = catalogue()
                .events()
                .iter()
                .find(|e| short_name(e.full_name) == key)
            else {
                continue; // reported by the catalogue test
            };
            let payload = &msg["payload"];
            if payload["schemaFormat"] != AVRO_FORMAT {
                problems.push(format!(
                    "{at}.payload.schemaFormat is {}, expected \"{AVRO_FORMAT}\"",
                    payload["schemaFormat"]
                ));
            }
            let reference = payload["schema"]["$ref"].as_str().unwrap_or_default();
            match reference.strip_prefix("./") {
                Some(file) if !file.contains('/') && file.ends_with(".avsc") => {
                    let path = repo_root().join("schemas").join(file);
                    match fs::read_to_string(&path).map(|t| serde_json::from_str::<Value>(&t)) {
                        Err(e) => problems.push(format!("{at}: $ref `{reference}`: schemas/{file} cannot be read: {e}")),
                        Ok(Err(e)) => problems.push(format!("{at}: schemas/{file} is not JSON: {e}")),
                        Ok(Ok(avsc)) => {
                            let name = avsc["name"].as_str().unwrap_or_default();
                            let full = match avsc["namespace"].as_str() {
                                Some(ns) if !name.contains('.') => format!("{ns}.{name}"),
                                _ => name.to_owned(),
                            };
                            if full != event.full_name {
                                problems.push(format!(
                                    "{at}: schemas/{file} defines `{full}`, but the message is {}",
                                    event.full_name
                                ));
                            }
                        }
                    }
                }
                _ => problems.push(format!(
                    "{at}.payload.schema.$ref is `{reference}`, expected `./<Record>.avsc` (a file in schemas/)"
                )),
            }
            // The channel's address, `{agency}` included for the alert topics.
            let subject = Catalogue::subject(
                ch["address"].as_str().unwrap_or(topic.base_name()),
                event.full_name,
            );
            if msg["x-subject"] != subject.as_str() {
                problems.push(format!(
                    "{at}.x-subject is {}, expected \"{subject}\" (TopicRecordNameStrategy)",
                    msg["x-subject"]
                ));
            }
            let schema: Value =
                serde_json::from_str(&event.json).expect("catalogue schemas are JSON");
            let mut expected = BTreeSet::new();
            personal_data(&schema, "", &mut expected);
            let documented: BTreeSet<String> =
                strings(&msg["x-personal-data"]).into_iter().collect();
            if msg["x-personal-data"].as_array().is_none() || documented != expected {
                problems.push(format!(
                    "{at}.x-personal-data is {:?}, but the fields marked lintas.personal_data in {} are {expected:?}",
                    documented, event.full_name
                ));
            }
            // Encrypted fields: the tag PII, under the catalogue's KEK of the event.
            let mut tagged = BTreeSet::new();
            pii_tagged(&schema, "", &mut tagged);
            let encryption = &msg["x-field-encryption"];
            let fields: BTreeSet<String> = strings(&encryption["fields"]).into_iter().collect();
            if fields != tagged || encryption["kek"].as_str() != event.kek {
                problems.push(format!(
                    "{at}.x-field-encryption is {encryption}, but {} has the fields {tagged:?} tagged PII under KEK {:?} (catalogue)",
                    event.full_name, event.kek
                ));
            }
            if !tagged.is_subset(&expected) {
                problems.push(format!(
                    "{at}: {} tags {tagged:?} PII, but not all of them are marked lintas.personal_data",
                    event.full_name
                ));
            }
        }
    }
    fail_on(problems, "payloads vs schemas/*.avsc");
}

/// The fields each event's partition key is made of, as `lintas describe` finds them by asking
/// the events' own `key()`.
fn key_fields() -> BTreeMap<String, BTreeSet<String>> {
    describe()["events"]
        .as_array()
        .expect("describe: events")
        .iter()
        .map(|e| {
            let name = e["name"].as_str().unwrap_or_default().to_owned();
            (name, strings(&e["key_fields"]).into_iter().collect())
        })
        .collect()
}

#[test]
fn key_descriptions_name_the_key_of_each_topic_and_event() {
    let doc = document();
    let mut problems = Vec::new();
    let closures = key_fields();
    for event in catalogue().events() {
        let name = short_name(event.full_name);
        if !closures.contains_key(name) {
            problems.push(format!("`lintas describe` states no key fields of {name}"));
        }
    }
    for (id, ch) in channels(&doc) {
        let Some(topic) = ch["address"].as_str().and_then(topic_of_address) else {
            continue;
        };
        let key_field = match topic {
            Topic::Applicants | Topic::Screening | Topic::Departures => "subject_key",
            Topic::Cases => "case_id",
            Topic::Alerts(_) => "alert_id",
            Topic::Privacy => "agency",
        };
        for (key, msg) in messages(ch) {
            let at = format!("channels.{id}.messages.{key}.bindings.kafka.key");
            let key_schema = &msg["bindings"]["kafka"]["key"];
            if key_schema["type"] != "string" {
                problems.push(format!(
                    "{at}.type is {}, expected \"string\" (keys are UTF-8 strings)",
                    key_schema["type"]
                ));
            }
            let description = key_schema["description"].as_str().unwrap_or_default();
            if !mentions(description, key_field) {
                problems.push(format!(
                    "{at}.description does not name `{key_field}`, the key of {}: {description:?}",
                    topic.base_name()
                ));
            }
            if let Some(fields) = closures.get(key) {
                let described: BTreeSet<String> = KEY_FIELDS
                    .into_iter()
                    .filter(|f| mentions(description, f))
                    .map(str::to_owned)
                    .collect();
                if &described != fields {
                    problems.push(format!(
                        "{at}.description names the key fields {described:?}, but {key}'s key is made of {fields:?} (lintas describe): {description:?}"
                    ));
                }
            }
        }
    }
    fail_on(
        problems,
        "message keys vs the events' keys (lintas describe)",
    );
}

#[test]
fn headers_match_the_producer() {
    let doc = document();
    let mut problems = Vec::new();
    let described = &describe()["headers"];
    let required: BTreeSet<String> = strings(&described["required"]).into_iter().collect();
    let optional: BTreeSet<String> = strings(&described["optional"]).into_iter().collect();
    assert!(
        !required.is_empty(),
        "lintas describe: the producer sets no header"
    );
    let content_type = described["content_type"]
        .as_str()
        .expect("lintas describe: headers.content_type")
        .to_owned();
    if doc["defaultContentType"] != content_type.as_str() {
        problems.push(format!(
            "defaultContentType is {}, expected \"{content_type}\" (kit codec)",
            doc["defaultContentType"]
        ));
    }
    let all: BTreeSet<String> = required.union(&optional).cloned().collect();
    for (id, ch) in channels(&doc) {
        if ch["address"].as_str().and_then(topic_of_address).is_none() {
            continue;
        }
        for (key, msg) in messages(ch) {
            let at = format!("channels.{id}.messages.{key}.headers");
            let headers = &msg["headers"];
            let properties: BTreeSet<String> = headers["properties"]
                .as_object()
                .map(|p| p.keys().cloned().collect())
                .unwrap_or_default();
            let documented_required: BTreeSet<String> =
                strings(&headers["required"]).into_iter().collect();
            if properties != all {
                problems.push(format!(
                    "{at}.properties are {properties:?}, but the producer sets {all:?}"
                ));
            }
            if documented_required != required {
                problems.push(format!(
                    "{at}.required is {documented_required:?}, but the producer always sets {required:?} (and {optional:?} only sometimes)"
                ));
            }
            let props = &headers["properties"];
            if props["content-type"]["const"] != content_type.as_str() {
                problems.push(format!(
                    "{at}: content-type const is {}, expected \"{content_type}\"",
                    props["content-type"]["const"]
                ));
            }
            if props["lintas.event.type"]["const"] != key {
                problems.push(format!(
                    "{at}: lintas.event.type const is {}, expected \"{key}\"",
                    props["lintas.event.type"]["const"]
                ));
            }
            if msg["contentType"] != content_type.as_str() {
                problems.push(format!(
                    "channels.{id}.messages.{key}.contentType is {}, expected \"{content_type}\"",
                    msg["contentType"]
                ));
            }
        }
    }
    fail_on(problems, "event headers vs the producer (lintas describe)");
}

// ---------------------------------------------------------------------------------------------
// Tests: dead letters, operations, agencies

/// The dead-letter topic pattern of the kit, `lintas.{group}.dlq` (without the prefix).
fn dead_letter_pattern() -> String {
    describe()["dead_letters"]["topic"]
        .as_str()
        .expect("lintas describe: dead_letters.topic")
        .to_owned()
}

#[test]
fn dead_letter_channel_matches_the_kit() {
    let doc = document();
    let mut problems = Vec::new();
    let pattern = dead_letter_pattern();
    let dlq: Vec<(&str, &Value)> = channels(&doc)
        .into_iter()
        .filter(|(_, ch)| ch["address"] == pattern.as_str())
        .collect();
    let [(id, ch)] = dlq.as_slice() else {
        panic!("{DOCUMENT}: expected exactly one channel with address `{pattern}` (the kit's dead_letter_topic), found {}", dlq.len());
    };
    for (cid, other) in channels(&doc) {
        let address = other["address"].as_str().unwrap_or_default();
        if is_pattern(address) && address != pattern {
            problems.push(format!("channels.{cid}: pattern address `{address}` is not the kit's dead-letter topic `{pattern}`"));
        }
    }
    let placeholders: BTreeSet<String> = pattern
        .split('{')
        .skip(1)
        .filter_map(|p| p.split_once('}').map(|(name, _)| name.to_owned()))
        .collect();
    let parameters: BTreeSet<String> = ch["parameters"]
        .as_object()
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default();
    if parameters != placeholders {
        problems.push(format!(
            "channels.{id}.parameters are {parameters:?}, expected {placeholders:?}"
        ));
    }
    let expected: BTreeSet<String> = strings(&describe()["dead_letters"]["headers"])
        .into_iter()
        .filter(|s| s.starts_with("__connect.errors."))
        .collect();
    assert!(
        !expected.is_empty(),
        "lintas describe: no __connect.errors.* dead-letter headers"
    );
    let msgs = messages(ch);
    if msgs.is_empty() {
        problems.push(format!("channels.{id} lists no message"));
    }
    for (key, msg) in msgs {
        let at = format!("channels.{id}.messages.{key}.headers");
        let documented: BTreeSet<String> = msg["headers"]["properties"]
            .as_object()
            .map(|p| {
                p.keys()
                    .filter(|k| k.starts_with("__connect.errors."))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        let required: BTreeSet<String> = strings(&msg["headers"]["required"]).into_iter().collect();
        if documented != expected {
            problems.push(format!("{at}: __connect.errors.* headers are {documented:?}, but the kit sets {expected:?}"));
        }
        if !expected.is_subset(&required) {
            problems.push(format!(
                "{at}.required is {required:?}: every one of {expected:?} is always set"
            ));
        }
        if msg["bindings"]["kafka"]["key"]["description"]
            .as_str()
            .is_none()
        {
            problems.push(format!(
                "channels.{id}.messages.{key}.bindings.kafka.key has no description"
            ));
        }
    }
    fail_on(problems, "dead letters vs the kit (lintas describe)");
}

#[test]
fn operations_reference_existing_channels_messages_and_agencies() {
    let doc = document();
    let mut problems = Vec::new();
    let ops = operations(&doc);
    if ops.is_empty() {
        problems.push("`operations` is empty".into());
    }
    for (id, op) in ops {
        let at = format!("operations.{id}");
        if !matches!(op["action"].as_str(), Some("send" | "receive")) {
            problems.push(format!(
                "{at}.action is {}, expected \"send\" or \"receive\"",
                op["action"]
            ));
        }
        let Some(channel) = channel_ref(op) else {
            problems.push(format!(
                "{at}.channel is not a `#/channels/<id>` reference: {}",
                op["channel"]
            ));
            continue;
        };
        if !doc["channels"][channel].is_object() {
            problems.push(format!(
                "{at}.channel refers to channels.{channel}, which does not exist"
            ));
        }
        let refs = op["messages"].as_array().cloned().unwrap_or_default();
        if refs.is_empty() {
            problems.push(format!("{at}.messages is empty"));
        }
        for reference in &refs {
            match message_ref(reference) {
                Some((c, m)) if c == channel && doc["channels"][c]["messages"][m].is_object() => {}
                _ => problems.push(format!(
                    "{at}.messages: {reference} is not a message of channels.{channel}"
                )),
            }
        }
        let agencies = &op["x-agencies"];
        let list = strings(agencies);
        if agencies
            .as_array()
            .is_none_or(|a| a.is_empty() || a.len() != list.len())
        {
            problems.push(format!(
                "{at}.x-agencies must be a non-empty array of strings, is {agencies}"
            ));
        }
        let mut seen = BTreeSet::new();
        for symbol in &list {
            if let Err(e) = Agency::from_str(symbol) {
                problems.push(format!("{at}.x-agencies: {e}"));
            }
            if !seen.insert(symbol) {
                problems.push(format!("{at}.x-agencies lists `{symbol}` twice"));
            }
        }
        if let Some(by_message) = op["x-agencies-by-message"].as_object() {
            for (m, list) in by_message {
                for symbol in strings(list) {
                    if let Err(e) = Agency::from_str(&symbol) {
                        problems.push(format!("{at}.x-agencies-by-message.{m}: {e}"));
                    }
                }
            }
        }
    }
    fail_on(problems, "operations");
}

/// One intake endpoint, as `lintas describe` states it.
#[derive(Debug)]
struct Endpoint {
    path: String,
    agencies: Vec<Agency>,
    publishes: Vec<String>,
}

fn intake_endpoints() -> Vec<Endpoint> {
    let out: Vec<Endpoint> = describe()["intake"]["endpoints"]
        .as_array()
        .expect("lintas describe: intake.endpoints")
        .iter()
        .map(|e| {
            let path = e["path"].as_str().unwrap_or_default().to_owned();
            let agencies = strings(&e["agencies"])
                .iter()
                .map(|a| {
                    Agency::from_str(a)
                        .unwrap_or_else(|err| panic!("lintas describe: endpoint {path}: {err}"))
                })
                .collect();
            Endpoint {
                agencies,
                publishes: strings(&e["publishes"]),
                path,
            }
        })
        .collect();
    assert!(!out.is_empty(), "lintas describe: no intake endpoint");
    out
}

/// What the intake produces on one topic.
#[derive(Debug, Default, PartialEq)]
struct Produced {
    agencies: BTreeSet<String>,
    by_message: BTreeMap<String, BTreeSet<String>>,
    endpoints: BTreeSet<String>,
}

#[test]
fn intake_send_operations_match_the_intake_endpoints() {
    let doc = document();
    let mut problems = Vec::new();
    let topic_of_event: BTreeMap<&str, Topic> = catalogue()
        .events()
        .iter()
        .map(|e| (short_name(e.full_name), e.topics[0]))
        .collect();
    let mut expected: BTreeMap<&str, Produced> = BTreeMap::new();
    for endpoint in intake_endpoints() {
        for event in &endpoint.publishes {
            let Some(topic) = topic_of_event.get(event.as_str()) else {
                problems.push(format!(
                    "endpoint {} publishes `{event}`, which is not an event of the catalogue",
                    endpoint.path
                ));
                continue;
            };
            let produced = expected.entry(topic.base_name()).or_default();
            produced.agencies.extend(agency_set(&endpoint.agencies));
            produced
                .by_message
                .entry(event.clone())
                .or_default()
                .extend(agency_set(&endpoint.agencies));
            produced.endpoints.insert(endpoint.path.clone());
        }
    }
    let mut documented: BTreeMap<&str, Produced> = BTreeMap::new();
    for (id, op) in operations(&doc) {
        if op["action"] != "send" || op["x-producer"] != "intake" {
            continue;
        }
        let Some(topic) = op_topic(&doc, op) else {
            problems.push(format!(
                "operations.{id}: an intake send operation whose channel is not an event topic"
            ));
            continue;
        };
        let produced = documented.entry(topic.base_name()).or_default();
        produced.agencies.extend(strings(&op["x-agencies"]));
        produced.endpoints.extend(strings(&op["x-endpoints"]));
        let by_message = op["x-agencies-by-message"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        let listed = op_message_names(op);
        let keys: BTreeSet<String> = by_message.keys().cloned().collect();
        if keys != listed {
            problems.push(format!("operations.{id}: x-agencies-by-message covers {keys:?} but `messages` lists {listed:?}"));
        }
        for (m, agencies) in by_message {
            produced
                .by_message
                .entry(m)
                .or_default()
                .extend(strings(&agencies));
        }
    }
    for topic in Topic::ALL {
        let name = topic.base_name();
        let want = expected.remove(name).unwrap_or_default();
        let have = documented.remove(name).unwrap_or_default();
        if want.agencies != have.agencies {
            problems.push(format!(
                "{name}: intake send operations have x-agencies {:?}, but the intake endpoints publishing to it accept {:?}",
                have.agencies, want.agencies
            ));
        }
        if want.by_message != have.by_message {
            problems.push(format!(
                "{name}: intake send operations have x-agencies-by-message {:?}, but the endpoints give {:?}",
                have.by_message, want.by_message
            ));
        }
        if want.endpoints != have.endpoints {
            problems.push(format!(
                "{name}: intake send operations have x-endpoints {:?}, but the endpoints publishing to it are {:?}",
                have.endpoints, want.endpoints
            ));
        }
    }
    fail_on(
        problems,
        "intake send operations vs the intake endpoints (lintas describe)",
    );
}

/// An agency subscriber of the binary, as `lintas describe` states it.
#[derive(Debug)]
struct Subscriber {
    group: String,
    topics: BTreeSet<String>,
    /// Events it publishes through its outbox.
    publishes: BTreeSet<String>,
    /// The agency it stamps on what it publishes: its own.
    stamps: BTreeSet<String>,
}

fn subscribers() -> Vec<Subscriber> {
    let out: Vec<Subscriber> = describe()["subscribers"]
        .as_array()
        .expect("lintas describe: subscribers")
        .iter()
        .map(|s| Subscriber {
            group: s["group"].as_str().unwrap_or_default().to_owned(),
            topics: strings(&s["topics"]).into_iter().collect(),
            publishes: s["publishes"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| p["event"].as_str().map(str::to_owned))
                .collect(),
            stamps: strings(&json!([s["agency"]])).into_iter().collect(),
        })
        .collect();
    assert!(!out.is_empty(), "lintas describe: no subscriber");
    out
}

#[test]
fn subscriber_operations_match_the_subscribers() {
    let doc = document();
    let mut problems = Vec::new();
    let subs = subscribers();
    let pattern = dead_letter_pattern();
    let groups: BTreeSet<&str> = subs.iter().map(|s| s.group.as_str()).collect();
    for (id, op) in operations(&doc) {
        if let Some(group) = op["x-consumer-group"].as_str() {
            if !groups.contains(group) {
                problems.push(format!(
                    "operations.{id}: x-consumer-group `{group}` is not the group of any subscriber (lintas describe)"
                ));
            }
        } else if op["action"] == "receive" {
            problems.push(format!(
                "operations.{id}: a receive operation without x-consumer-group"
            ));
        }
    }
    let dlq_channel = channels(&doc)
        .into_iter()
        .find(|(_, ch)| ch["address"] == pattern.as_str())
        .map(|(id, _)| id);
    let documented_groups: BTreeSet<String> = dlq_channel
        .map(|id| {
            strings(&doc["channels"][id]["parameters"]["group"]["enum"])
                .into_iter()
                .collect()
        })
        .unwrap_or_default();
    let code_groups: BTreeSet<String> = groups.iter().map(|g| (*g).to_owned()).collect();
    if documented_groups != code_groups {
        problems.push(format!(
            "the dead-letter channel's parameters.group.enum is {documented_groups:?}, but the subscriber groups are {code_groups:?}"
        ));
    }
    for sub in &subs {
        let lib = format!("subscriber `{}` (lintas describe)", sub.group);
        let own: Vec<(&str, &Value)> = operations(&doc)
            .into_iter()
            .filter(|(_, op)| op["x-consumer-group"] == sub.group.as_str())
            .collect();
        // The group is named after the agency that runs it.
        let agency = match Agency::from_str(&sub.group) {
            Ok(a) => a.symbol().to_owned(),
            Err(e) => {
                problems.push(format!(
                    "{lib}: group `{}` is not an agency symbol ({e}); say which agency runs it",
                    sub.group
                ));
                continue;
            }
        };
        for (id, op) in &own {
            let list: BTreeSet<String> = strings(&op["x-agencies"]).into_iter().collect();
            if list != BTreeSet::from([agency.clone()]) {
                problems.push(format!(
                    "operations.{id}.x-agencies is {list:?}, expected [\"{agency}\"] (group `{}`)",
                    sub.group
                ));
            }
        }
        // Receives: exactly the topics it reads, every message of each, with its group id.
        let mut received = BTreeSet::new();
        for (id, op) in own.iter().filter(|(_, op)| op["action"] == "receive") {
            let Some(topic) = op_topic(&doc, op) else {
                problems.push(format!("operations.{id}: group `{}` receives from a channel that is not an event topic", sub.group));
                continue;
            };
            received.insert(topic.base_name().to_owned());
            let channel = channel_ref(op).unwrap_or_default();
            let all: BTreeSet<String> = messages(&doc["channels"][channel])
                .into_iter()
                .map(|(m, _)| m.to_owned())
                .collect();
            let listed = op_message_names(op);
            if listed != all {
                problems.push(format!("operations.{id}.messages is {listed:?}, but group `{}` reads every message of {}: {all:?}", sub.group, topic.base_name()));
            }
            let group_id = strings(&op["bindings"]["kafka"]["groupId"]["enum"]);
            if group_id != [sub.group.clone()] {
                problems.push(format!("operations.{id}.bindings.kafka.groupId.enum is {group_id:?}, expected [\"{}\"]", sub.group));
            }
        }
        if received != sub.topics {
            problems.push(format!(
                "receive operations of group `{}` cover {received:?}, but {lib} reads {:?}",
                sub.group, sub.topics
            ));
        }
        // Sends: the events it constructs, on their topics, and its dead-letter topic.
        let mut sent = BTreeSet::new();
        let mut dead_letters = false;
        for (id, op) in own.iter().filter(|(_, op)| op["action"] == "send") {
            let channel = channel_ref(op).unwrap_or_default();
            if doc["channels"][channel]["address"] == pattern.as_str() {
                dead_letters = true;
                let address = pattern.replace("{group}", &sub.group);
                if op["x-address"] != address.as_str() {
                    problems.push(format!(
                        "operations.{id}.x-address is {}, expected \"{address}\"",
                        op["x-address"]
                    ));
                }
            } else {
                sent.extend(op_message_names(op));
                let list: BTreeSet<String> = strings(&op["x-agencies"]).into_iter().collect();
                if !sub.stamps.is_subset(&list) {
                    problems.push(format!(
                        "operations.{id}.x-agencies is {list:?}, but {lib} stamps {:?} on what it publishes",
                        sub.stamps
                    ));
                }
            }
        }
        if sent != sub.publishes {
            problems.push(format!(
                "send operations of group `{}` list {sent:?}, but {lib} publishes {:?}",
                sub.group, sub.publishes
            ));
        }
        if !dead_letters {
            problems.push(format!(
                "group `{}` has no send operation on the dead-letter channel `{pattern}`",
                sub.group
            ));
        }
    }
    fail_on(
        problems,
        "subscriber operations vs the subscribers (lintas describe)",
    );
}
