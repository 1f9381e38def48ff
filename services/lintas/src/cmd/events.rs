//! `lintas events`: what is on the feed. Every event type (the `lintas.event.type` header of
//! its records), the topics it travels on, its partition key, and its fields with their Avro
//! types, marking personal data and the fields encrypted on the wire, as text or JSON.
//!
//! Generated from the contract this build embeds, never from a hand-kept list: the event
//! types, topics, schemas and key-encryption keys come from the catalogue (the `.avsc` files
//! of `schemas/`, made self-contained), the keys from `schemas/asyncapi.json`, whose key
//! descriptions a test checks against the code's partition keys.

use clap::Args;
use lintas_kit::events::{catalogue, Catalogue, EventSchema};
use serde_json::{json, Value as Json};

/// The integrators' discovery document; only its partition-key descriptions are read here.
const ASYNCAPI: &str = include_str!("../../../../schemas/asyncapi.json");

#[derive(Args, Debug)]
pub struct EventsArgs {
    /// One JSON document instead of text.
    #[arg(long)]
    pub json: bool,
    /// Topic names as deployed with this prefix.
    #[arg(long, env = "LINTAS_TOPIC_PREFIX", default_value = "")]
    pub topic_prefix: String,
}

pub async fn run(args: EventsArgs) -> anyhow::Result<()> {
    let feed = describe(&args.topic_prefix)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&feed)?);
    } else {
        print!("{}", text(&feed));
    }
    Ok(())
}

/// The feed as JSON: `events` (each with its fields, the envelope's left to `envelope`, which
/// every event carries).
fn describe(prefix: &str) -> anyhow::Result<Json> {
    let keys = partition_keys()?;
    let mut events = Vec::new();
    let mut envelope = Vec::new();
    for event in catalogue().events() {
        let schema: Json = serde_json::from_str(&event.json)?;
        let mut fields = Vec::new();
        walk(&schema, "", event, &mut fields);
        if envelope.is_empty() {
            envelope = fields
                .iter()
                .filter(|f| {
                    f["name"]
                        .as_str()
                        .is_some_and(|n| n.starts_with("envelope."))
                })
                .cloned()
                .collect();
        }
        fields.retain(|f| {
            !f["name"]
                .as_str()
                .is_some_and(|n| n.starts_with("envelope."))
        });
        let short = short_name(event.full_name);
        let (key, key_description) = keys
            .iter()
            .find(|(name, _, _)| name == short)
            .map(|(_, key, description)| (key.clone(), description.clone()))
            .ok_or_else(|| anyhow::anyhow!("schemas/asyncapi.json has no key for {short}"))?;
        let topics: Vec<String> = event
            .topics
            .iter()
            .map(|t| format!("{prefix}{}", t.base_name()))
            .collect();
        events.push(json!({
            "event_type": short,
            "full_name": event.full_name,
            "doc": schema["doc"],
            "topics": topics,
            "subjects": topics.iter().map(|t| Catalogue::subject(t, event.full_name)).collect::<Vec<_>>(),
            "key": key,
            "key_description": key_description,
            "kek": event.kek,
            "fields": fields,
        }));
    }
    Ok(json!({
        "event_type_header": "lintas.event.type",
        "events": events,
        "envelope": {"doc": "Fields every event carries (the `envelope` field); never personal data.", "fields": envelope},
    }))
}

/// The fields of a record, nested records' fields named `outer.inner`.
fn walk(record: &Json, prefix: &str, event: &EventSchema, out: &mut Vec<Json>) {
    for field in record["fields"].as_array().into_iter().flatten() {
        let name = format!("{prefix}{}", field["name"].as_str().unwrap_or_default());
        let encrypted = field["confluent:tags"]
            .as_array()
            .is_some_and(|tags| tags.iter().any(|t| t == "PII"));
        // Encrypted field by field under the event's KEK: readers without it see ciphertext.
        let kek = if encrypted { event.kek } else { None };
        out.push(json!({
            "name": name,
            "type": type_name(&field["type"]),
            "doc": field["doc"],
            "personal_data": field["lintas.personal_data"] == true || encrypted,
            "encrypted": encrypted,
            "kek": kek,
        }));
        // A record inline here (also as a branch of a union) has its fields listed after it.
        let inner = match &field["type"] {
            Json::Array(branches) => branches.iter().find(|b| b["type"] == "record"),
            t if t["type"] == "record" => Some(t),
            _ => None,
        };
        if let Some(inner) = inner {
            walk(inner, &format!("{name}."), event, out);
        }
    }
}

/// An Avro type as written in a table: `null | string`, `array<string>`, `int (date)`,
/// `enum Sex`, `record PlacementAgency`; named types by their short name.
fn type_name(t: &Json) -> String {
    match t {
        Json::String(name) => short_name(name).to_string(),
        Json::Array(branches) => branches
            .iter()
            .map(type_name)
            .collect::<Vec<_>>()
            .join(" | "),
        Json::Object(o) => {
            let kind = o.get("type").map(type_name).unwrap_or_default();
            let named = || short_name(o.get("name").and_then(Json::as_str).unwrap_or_default());
            match kind.as_str() {
                "record" | "enum" | "fixed" => format!("{kind} {}", named()),
                "array" => format!(
                    "array<{}>",
                    o.get("items").map(type_name).unwrap_or_default()
                ),
                "map" => format!(
                    "map<{}>",
                    o.get("values").map(type_name).unwrap_or_default()
                ),
                _ => match o.get("logicalType").and_then(Json::as_str) {
                    Some(logical) => format!("{kind} ({logical})"),
                    None => kind,
                },
            }
        }
        _ => String::new(),
    }
}

fn short_name(full: &str) -> &str {
    full.rsplit('.').next().unwrap_or(full)
}

/// (event type, key, description) from the AsyncAPI document: the key is the description's
/// lead, before the colon (`subject_key: the envelope's subject_key ...`).
fn partition_keys() -> anyhow::Result<Vec<(String, String, String)>> {
    let document: Json = serde_json::from_str(ASYNCAPI)?;
    let mut keys = Vec::new();
    for channel in document["channels"].as_object().into_iter().flatten() {
        for (name, message) in channel.1["messages"].as_object().into_iter().flatten() {
            let description = message["bindings"]["kafka"]["key"]["description"]
                .as_str()
                .unwrap_or_default();
            if let Some((key, _)) = description.split_once(':') {
                keys.push((
                    name.clone(),
                    key.trim().to_string(),
                    description.to_string(),
                ));
            }
        }
    }
    Ok(keys)
}

/// The text form: a summary table, then each event's fields, then the envelope's.
fn text(feed: &Json) -> String {
    let mut out = String::new();
    let events = feed["events"].as_array().cloned().unwrap_or_default();
    let rows: Vec<[String; 4]> = events
        .iter()
        .map(|e| {
            [
                str_of(&e["event_type"]),
                topics(&e["topics"]),
                str_of(&e["key"]),
                e["kek"]
                    .as_str()
                    .map_or("-".to_string(), |k| format!("encrypted under {k}")),
            ]
        })
        .collect();
    out.push_str(&format!(
        "Events on the feed (record header {} names the type):\n\n",
        str_of(&feed["event_type_header"])
    ));
    out.push_str(&table(
        &["EVENT TYPE", "TOPIC", "KEY", "PERSONAL DATA"],
        &rows,
    ));
    for e in &events {
        out.push_str(&format!(
            "\n{}  ({}; key {})\n",
            str_of(&e["event_type"]),
            topics(&e["topics"]),
            str_of(&e["key"])
        ));
        out.push_str(&fields_table(&e["fields"]));
    }
    out.push_str("\nEnvelope (every event's `envelope` field)\n");
    out.push_str(&fields_table(&feed["envelope"]["fields"]));
    out
}

fn fields_table(fields: &Json) -> String {
    let rows: Vec<[String; 3]> = fields
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            let personal = match (f["encrypted"] == true, f["personal_data"] == true) {
                (true, _) => format!("ENCRYPTED ({})", str_of(&f["kek"])),
                (false, true) => "personal data".to_string(),
                _ => String::new(),
            };
            [str_of(&f["name"]), str_of(&f["type"]), personal]
        })
        .collect();
    table(&["FIELD", "AVRO TYPE", "PERSONAL DATA"], &rows)
        .lines()
        .map(|line| format!("  {line}\n"))
        .collect()
}

/// Columns padded to their widest cell.
fn table<const N: usize>(header: &[&str; N], rows: &[[String; N]]) -> String {
    let mut widths: [usize; N] = std::array::from_fn(|i| header[i].chars().count());
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        format!("{}\n", padded.join("  ").trim_end())
    };
    let mut out = line(header.to_vec());
    for row in rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}

fn str_of(v: &Json) -> String {
    v.as_str().unwrap_or_default().to_string()
}

/// Topics in a table cell: one per agency's alerts as `lintas.alerts.{imigrasi|polri}.v1`.
fn topics(v: &Json) -> String {
    let names: Vec<String> = v.as_array().into_iter().flatten().map(str_of).collect();
    let [first, ..] = names.as_slice() else {
        return String::new();
    };
    if names.len() == 1 {
        return first.clone();
    }
    let split = |name: &str| -> Option<(String, String, String)> {
        let (head, rest) = name.rsplit_once('.')?;
        let (prefix, middle) = head.rsplit_once('.')?;
        Some((format!("{prefix}."), middle.to_string(), format!(".{rest}")))
    };
    let parts: Vec<_> = names.iter().filter_map(|n| split(n)).collect();
    let same =
        parts.len() == names.len() && parts.iter().all(|p| p.0 == parts[0].0 && p.2 == parts[0].2);
    if !same {
        return names.join(", ");
    }
    let middles: Vec<&str> = parts.iter().map(|p| p.1.as_str()).collect();
    format!("{}{{{}}}{}", parts[0].0, middles.join("|"), parts[0].2)
}
