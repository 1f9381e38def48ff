//! `lintas describe`: the facts of this build that the deployment and its documents must agree
//! with, stated by the code itself: the topics and the events each carries (with the fields
//! each event's partition key is made of), the agency subscribers (group, topics read and
//! written, dead-letter topic, offset-probe group, KEKs), the intake endpoints, the headers
//! the producer and the dead-letter writer set, the consumer group of `lintas audit verify`,
//! for every subcommand the environment variables it reads, and every metric the binary's
//! services can export (name, kind, label names).
//!
//! Everything here comes from the values the services run with (the agency list, the intake
//! tables, the kit's functions, clap's own description of the command line), never from
//! reading source files, so reformatting the code cannot make a check read stale facts.
//! `--json` gives one document for tools: `services/events/tests`' AsyncAPI check (through
//! `tests/asyncapi.rs`), `deploy/kubernetes/validate.py --describe`, `deploy/check_metrics.py --describe`.

use std::collections::{BTreeMap, BTreeSet};

use apache_avro::types::Value as Avro;
use clap::{Args, CommandFactory};
use lintas_kit::consumer::{error_headers, DeadLetterStage};
use lintas_kit::events::{catalogue, keks, AnyEvent, AvroEnum, EventSchema, Topic};
use lintas_kit::metrics::catalogue::{self as metric_catalogue, Described};
use lintas_kit::producer::event_headers;
use lintas_kit::testing::examples;
use lintas_kit::topics::{
    dead_letter_topic, offset_probe_group, redrive_topic, DEFAULT_PARTITIONS,
};
use rdkafka::message::{Headers, OwnedHeaders, OwnedMessage, Timestamp};
use serde_json::{json, Value};

use super::agencies::AGENCIES;

#[derive(Args, Debug)]
pub struct DescribeArgs {
    /// One JSON document, for tools (the AsyncAPI and deployment checks read it).
    #[arg(long)]
    pub json: bool,
}

pub async fn run(args: DescribeArgs) -> anyhow::Result<()> {
    let document = document()?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&document)?);
    } else {
        print!("{}", human(&document));
    }
    Ok(())
}

/// The whole description.
pub fn document() -> anyhow::Result<Value> {
    Ok(json!({
        "version": env!("CARGO_PKG_VERSION"),
        "default_partitions": DEFAULT_PARTITIONS,
        "topics": topics(),
        "events": events()?,
        "keks": keks::ALL,
        "headers": headers(),
        "dead_letters": dead_letters(),
        "subscribers": subscribers()?,
        "intake": intake()?,
        "audit_verify_group": super::audit::VERIFY_GROUP,
        "commands": commands(),
        "metrics": metrics(),
    }))
}

/// Every metric any service of this binary can export, as the metrics themselves state it:
/// each crate registers all of its metrics first (most are label vectors nobody has observed
/// yet, which Prometheus' own `gather` would leave out).
fn metrics() -> Vec<Described> {
    lintas_kit::metrics::init();
    lintas_ops::init_metrics();
    let mut all = metric_catalogue::registered();
    all.extend(
        lintas_registry::metric_collectors()
            .iter()
            .flat_map(|c| metric_catalogue::describe(c.as_ref())),
    );
    all.sort();
    all.dedup();
    all
}

fn short_name(full_name: &str) -> &str {
    full_name.rsplit('.').next().unwrap_or(full_name)
}

/// The catalogue entry of an event type named by its short name (`AlertRaised`).
fn schema_of(event: &str) -> anyhow::Result<&'static EventSchema> {
    catalogue()
        .events()
        .iter()
        .find(|e| short_name(e.full_name) == event)
        .ok_or_else(|| anyhow::anyhow!("`{event}` is not an event of the catalogue"))
}

/// Where `agency`'s service publishes `event`: its one topic, or for an alert event (one
/// topic per alert owner) the agency's own alert topic.
fn published_topic(event: &str, agency: lintas_kit::events::Agency) -> anyhow::Result<Topic> {
    match schema_of(event)?.topics {
        [one] => Ok(*one),
        _ => Ok(Topic::Alerts(agency)),
    }
}

fn topics() -> Vec<Value> {
    Topic::ALL
        .iter()
        .map(|topic| {
            let events: Vec<&str> = catalogue()
                .events()
                .iter()
                .filter(|e| e.topics.contains(topic))
                .map(|e| short_name(e.full_name))
                .collect();
            json!({
                "name": topic.base_name(),
                "alert_owner": topic.alert_owner().map(|a| a.symbol()),
                "events": events,
            })
        })
        .collect()
}

/// Every event type: its topics, its KEK and the fields its partition key is made of.
fn events() -> anyhow::Result<Vec<Value>> {
    let examples: BTreeMap<&str, AnyEvent> = examples::all()
        .into_iter()
        .map(|e| (e.type_name(), e))
        .collect();
    catalogue()
        .events()
        .iter()
        .map(|schema| {
            let name = short_name(schema.full_name);
            let example = examples.get(name).ok_or_else(|| {
                anyhow::anyhow!("no example of {name} (lintas_kit::testing::examples::all)")
            })?;
            Ok(json!({
                "name": name,
                "full_name": schema.full_name,
                "topics": schema.topics.iter().map(|t| t.base_name()).collect::<Vec<_>>(),
                "kek": schema.kek,
                "key_fields": key_fields(example, schema)?,
            }))
        })
        .collect()
}

fn header_names(headers: &OwnedHeaders) -> Vec<String> {
    headers.iter().map(|h| h.key.to_owned()).collect()
}

/// The headers of every event: those the producer always sets, and those it sets only
/// sometimes (a trace parent when the request had a correlation id).
fn headers() -> Value {
    let always = header_names(&event_headers("Event", "event-id", None));
    let all = header_names(&event_headers("Event", "event-id", Some(uuid::Uuid::nil())));
    let sometimes: Vec<&String> = all.iter().filter(|h| !always.contains(h)).collect();
    json!({
        "content_type": lintas_kit::codec::CONTENT_TYPE,
        "required": always,
        "optional": sometimes,
    })
}

/// The dead-letter topic of a group (`{group}` standing for it) and the error headers every
/// dead letter carries.
fn dead_letters() -> Value {
    let original = OwnedMessage::new(
        None,
        None,
        "topic".into(),
        Timestamp::NotAvailable,
        0,
        0,
        None,
    );
    let headers = error_headers(&original, "group", DeadLetterStage::Decode, "c", "m");
    json!({
        "topic": dead_letter_topic("", "{group}"),
        "headers": header_names(&headers),
        // Operators' redrive and discard requests for the group's dead letters: only the
        // group reads it, the operators' page and `lintas dead-letters` write it.
        "redrive_topic": redrive_topic("", "{group}"),
    })
}

fn subscribers() -> anyhow::Result<Vec<Value>> {
    AGENCIES
        .iter()
        .map(|a| {
            let publishes = a
                .publishes()
                .iter()
                .map(|event| {
                    let topic = published_topic(event, a.agency())?;
                    Ok(json!({ "event": event, "topic": topic.base_name() }))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            Ok(json!({
                "agency": a.agency().symbol(),
                "group": a.group(),
                "topics": a.topics().iter().map(|t| t.base_name()).collect::<Vec<_>>(),
                "keks": a.keks(),
                "dead_letter_topic": dead_letter_topic("", a.group()),
                "redrive_topic": redrive_topic("", a.group()),
                "offset_probe_group": offset_probe_group(a.group()),
                "publishes": publishes,
            }))
        })
        .collect()
}

/// Every intake endpoint: who may call it and what it publishes where.
fn intake() -> anyhow::Result<Value> {
    let mut endpoints = Vec::new();
    for intake in lintas_intake::ALL {
        for (endpoint, _) in intake.endpoints {
            let topics = endpoint
                .publishes
                .iter()
                .map(|e| {
                    let schema = schema_of(e)?;
                    Ok(schema.topics.iter().map(|t| t.base_name()).collect())
                })
                .collect::<anyhow::Result<Vec<Vec<&str>>>>()?;
            endpoints.push(json!({
                "intake": intake.name,
                "method": "POST",
                "path": endpoint.path,
                "publishes": endpoint.publishes,
                "topics": topics.concat(),
                "agencies": endpoint.agencies.iter().map(|a| a.symbol()).collect::<Vec<_>>(),
            }));
        }
    }
    Ok(json!({ "endpoints": endpoints }))
}

// ---------------------------------------------------------------------------------------------
// The command line, from clap's own description

/// Every subcommand (`["keys", "shred"]`), with the environment variables it reads: its own
/// arguments (flattened ones included) and those of the commands above it, which clap reads
/// from the environment whatever runs (the global ones of `lintas` among them), each with
/// whether it is required and its default.
fn commands() -> Vec<Value> {
    let mut cli = crate::Cli::command();
    cli.build();
    let inherited = env_vars(&cli, &[]);
    let mut out = Vec::new();
    for sub in commands_of(&cli) {
        walk(
            sub,
            &mut vec![sub.get_name().to_owned()],
            &inherited,
            &mut out,
        );
    }
    out
}

fn walk(
    command: &clap::Command,
    path: &mut Vec<String>,
    inherited: &[Value],
    out: &mut Vec<Value>,
) {
    // `lintas keys` checks at run time what clap cannot require of a global argument.
    let at_run_time: &[&str] = if path[0] == "keys" {
        super::keys::REQUIRED_AT_RUN_TIME
    } else {
        &[]
    };
    let mut env = env_vars(command, at_run_time);
    for var in inherited {
        if !env.iter().any(|v| v["name"] == var["name"]) {
            env.push(var.clone());
        }
    }
    out.push(json!({ "path": path.clone(), "env": env }));
    for sub in commands_of(command) {
        path.push(sub.get_name().to_owned());
        walk(sub, path, &env, out);
        path.pop();
    }
}

/// A command's subcommands, without the `help` clap adds to each.
fn commands_of(command: &clap::Command) -> impl Iterator<Item = &clap::Command> {
    command.get_subcommands().filter(|c| c.get_name() != "help")
}

/// The environment variables of a command's own arguments.
fn env_vars(command: &clap::Command, at_run_time: &[&str]) -> Vec<Value> {
    command
        .get_arguments()
        .filter_map(|arg| {
            let name = arg.get_env()?.to_str()?;
            let default: Vec<String> = arg
                .get_default_values()
                .iter()
                .map(|v| v.to_string_lossy().into_owned())
                .collect();
            let required = arg.is_required_set() || at_run_time.contains(&arg.get_id().as_str());
            Some(json!({
                "name": name,
                "flag": arg.get_long(),
                "required": required,
                "default": (!default.is_empty()).then(|| default.join(",")),
            }))
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Partition keys, from the events' own `key()`

/// The fields (leaf names) an event's partition key is made of, found by asking the event
/// itself: starting from an example with every optional string filled, each string, UUID and
/// enum field is changed in turn and the key recomputed; a field whose change changes the
/// key is part of it. An optional one is then emptied, to find what the key falls back to.
fn key_fields(example: &AnyEvent, schema: &EventSchema) -> anyhow::Result<Vec<String>> {
    let full_name = schema.full_name;
    let decode = |v: &Avro| AnyEvent::from_avro(full_name, v.clone()).ok();
    let enums = enum_symbols(&serde_json::from_str(&schema.json)?);
    let mut value = example.to_avro()?;
    fill_optionals(&mut value, &decode);
    let mut fields = BTreeSet::new();
    // Each round empties the optional fields the key was made of; a key has a few fallbacks.
    for _ in 0..4 {
        let key = decode(&value)
            .ok_or_else(|| anyhow::anyhow!("{full_name}: its example does not decode"))?
            .key();
        let mut leaves = Vec::new();
        collect_leaves(&value, &mut Vec::new(), false, &mut leaves);
        let mut to_empty = Vec::new();
        for (path, optional) in leaves {
            let mut probe = value.clone();
            if !at_mut(&mut probe, &path).is_some_and(|v| perturb(v, &enums)) {
                continue;
            }
            if decode(&probe).is_some_and(|e| e.key() != key) {
                fields.insert(path.last().cloned().unwrap_or_default());
                if optional {
                    to_empty.push(path);
                }
            }
        }
        if to_empty.is_empty() {
            break;
        }
        for path in to_empty {
            if let Some(v) = at_mut(&mut value, &path) {
                *v = Avro::Union(0, Box::new(Avro::Null));
            }
        }
        if decode(&value).is_none() {
            break;
        }
    }
    anyhow::ensure!(
        !fields.is_empty(),
        "{full_name}: no field of its example changes its key"
    );
    Ok(fields.into_iter().collect())
}

/// Every enum's symbols in a schema (JSON).
fn enum_symbols(schema: &Value) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    fn walk(node: &Value, out: &mut Vec<Vec<String>>) {
        match node {
            Value::Object(map) => {
                if map.get("type") == Some(&json!("enum")) {
                    let symbols = map["symbols"].as_array().into_iter().flatten();
                    out.push(
                        symbols
                            .filter_map(|s| s.as_str().map(str::to_owned))
                            .collect(),
                    );
                }
                map.values().for_each(|v| walk(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    walk(schema, &mut out);
    out
}

/// Paths (record field names) of the string, UUID and enum fields, each with whether it is
/// optional (a union with null).
fn collect_leaves(
    value: &Avro,
    path: &mut Vec<String>,
    optional: bool,
    out: &mut Vec<(Vec<String>, bool)>,
) {
    match value {
        Avro::Record(fields) => {
            for (name, v) in fields {
                path.push(name.clone());
                collect_leaves(v, path, false, out);
                path.pop();
            }
        }
        Avro::Union(_, inner) => collect_leaves(inner, path, true, out),
        Avro::String(_) | Avro::Uuid(_) | Avro::Enum(..) => out.push((path.clone(), optional)),
        _ => {}
    }
}

/// The field at `path` (a union as a whole).
fn at_mut<'a>(value: &'a mut Avro, path: &[String]) -> Option<&'a mut Avro> {
    let Some((first, rest)) = path.split_first() else {
        return Some(value);
    };
    match value {
        Avro::Record(fields) => {
            let (_, v) = fields.iter_mut().find(|(name, _)| name == first)?;
            at_mut(v, rest)
        }
        Avro::Union(_, inner) => at_mut(inner, path),
        _ => None,
    }
}

/// Changes a string, UUID or enum value to another one of its type.
fn perturb(value: &mut Avro, enums: &[Vec<String>]) -> bool {
    match value {
        Avro::Union(_, inner) => perturb(inner, enums),
        Avro::String(s) => {
            s.push('~');
            true
        }
        Avro::Uuid(u) => {
            *u = uuid::Uuid::from_u128(!u.as_u128());
            true
        }
        Avro::Enum(index, symbol) => {
            let Some(symbols) = enums.iter().find(|s| s.contains(symbol)) else {
                return false;
            };
            let next = (*index as usize + 1) % symbols.len();
            *index = next as u32;
            *symbol = symbols[next].clone();
            true
        }
        _ => false,
    }
}

/// Fills every empty optional field that takes a string, so that a key made of an optional
/// field (a case id) is seen even where the example leaves it out.
fn fill_optionals(value: &mut Avro, decode: &dyn Fn(&Avro) -> Option<AnyEvent>) {
    let mut paths = Vec::new();
    fn nulls(value: &Avro, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        match value {
            Avro::Record(fields) => {
                for (name, v) in fields {
                    path.push(name.clone());
                    nulls(v, path, out);
                    path.pop();
                }
            }
            Avro::Union(_, inner) if **inner == Avro::Null => out.push(path.clone()),
            Avro::Union(_, inner) => nulls(inner, path, out),
            _ => {}
        }
    }
    nulls(value, &mut Vec::new(), &mut paths);
    for path in paths {
        let mut probe = value.clone();
        if let Some(v) = at_mut(&mut probe, &path) {
            *v = Avro::Union(
                1,
                Box::new(Avro::String(format!("probe-{}", path.join(".")))),
            );
        }
        if decode(&probe).is_some() {
            *value = probe;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// For people

fn strings(value: &Value) -> String {
    value
        .as_array()
        .map(|a| {
            a.iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_owned)
                        .unwrap_or_else(|| v.to_string())
                })
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

fn human(doc: &Value) -> String {
    let mut out = String::new();
    let mut line = |s: String| {
        out.push_str(&s);
        out.push('\n');
    };
    line(format!(
        "Lintas {} (`lintas describe --json` for tools)",
        doc["version"].as_str().unwrap_or("?")
    ));
    line(format!(
        "\nTopics ({} partitions by default):",
        doc["default_partitions"]
    ));
    for t in doc["topics"].as_array().into_iter().flatten() {
        line(format!(
            "  {:<28} {}",
            t["name"].as_str().unwrap_or("?"),
            strings(&t["events"])
        ));
    }
    line("\nKeys:".into());
    for e in doc["events"].as_array().into_iter().flatten() {
        line(format!(
            "  {:<28} {}",
            e["name"].as_str().unwrap_or("?"),
            strings(&e["key_fields"])
        ));
    }
    line(format!(
        "\nSubscribers (dead letters on {}):",
        doc["dead_letters"]["topic"].as_str().unwrap_or("?")
    ));
    for s in doc["subscribers"].as_array().into_iter().flatten() {
        let writes: Vec<&str> = s["publishes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p["event"].as_str())
            .collect();
        line(format!(
            "  {:<10} reads {}\n             publishes {}",
            s["group"].as_str().unwrap_or("?"),
            strings(&s["topics"]),
            writes.join(", ")
        ));
    }
    line("\nIntake endpoints:".into());
    for e in doc["intake"]["endpoints"].as_array().into_iter().flatten() {
        line(format!(
            "  {} {:<40} {} (callers: {})",
            e["method"].as_str().unwrap_or("?"),
            e["path"].as_str().unwrap_or("?"),
            strings(&e["publishes"]),
            strings(&e["agencies"])
        ));
    }
    line("\nMetrics:".into());
    for m in doc["metrics"].as_array().into_iter().flatten() {
        line(format!(
            "  {:<44} {:<9} {}",
            m["name"].as_str().unwrap_or("?"),
            m["kind"].as_str().unwrap_or("?"),
            strings(&m["labels"])
        ));
    }
    line("\nEnvironment (* required):".into());
    for c in doc["commands"].as_array().into_iter().flatten() {
        let vars: Vec<String> = c["env"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|v| {
                let star = if v["required"] == true { "*" } else { "" };
                format!("{}{star}", v["name"].as_str().unwrap_or("?"))
            })
            .collect();
        if !vars.is_empty() {
            line(format!(
                "  lintas {}: {}",
                strings(&c["path"]).replace(", ", " "),
                vars.join(" ")
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use lintas_kit::auth::Tokens;
    use lintas_kit::store::Store;

    fn event(doc: &Value, name: &str) -> Value {
        doc["events"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no event {name}"))
    }

    /// The keys, as the events compute them: a person's events by subject (or the event id
    /// when they name nobody), a case's by case id, a recruiter report without a case by the
    /// recruiter, alerts by alert id, data-protection records by agency.
    #[test]
    fn key_fields_are_what_each_event_keys_by() {
        let doc = document().unwrap();
        for (name, fields) in [
            ("ApplicantRegistered", vec!["event_id", "subject_key"]),
            ("DepartureBlocked", vec!["event_id", "subject_key"]),
            ("CaseReferred", vec!["case_id", "event_id"]),
            ("RecruiterReported", vec!["case_id", "recruiter_key"]),
            ("AlertRaised", vec!["alert_id"]),
            ("AlertClosed", vec!["alert_id"]),
            ("PersonalDataErased", vec!["agency"]),
        ] {
            assert_eq!(event(&doc, name)["key_fields"], json!(fields), "{name}");
        }
    }

    #[test]
    fn headers_dead_letters_and_groups_come_from_the_code() {
        let doc = document().unwrap();
        assert_eq!(
            doc["headers"]["required"],
            json!(["content-type", "lintas.event.type", "lintas.event.id"])
        );
        assert_eq!(doc["headers"]["optional"], json!(["traceparent"]));
        assert_eq!(doc["dead_letters"]["topic"], "lintas.{group}.dlq");
        assert_eq!(doc["dead_letters"]["headers"].as_array().unwrap().len(), 7);
        let imigrasi = &doc["subscribers"][0];
        assert_eq!(imigrasi["group"], "imigrasi");
        assert_eq!(imigrasi["offset_probe_group"], "imigrasi-offset-probe");
        assert_eq!(imigrasi["dead_letter_topic"], "lintas.imigrasi.dlq");
        assert_eq!(imigrasi["redrive_topic"], "lintas.imigrasi.redrive");
        assert!(imigrasi["publishes"]
            .as_array()
            .unwrap()
            .contains(&json!({"event": "AlertRaised", "topic": "lintas.alerts.imigrasi.v1"})));
        assert_eq!(doc["audit_verify_group"], "lintas-audit-verify");
    }

    /// Environment variables as clap describes them: `keys shred` requires the registry URL
    /// (checked at run time), reads its retention with a default, and a subscriber reads the
    /// global LINTAS_LOG_JSON.
    #[test]
    fn commands_list_their_environment() {
        let doc = document().unwrap();
        let command = |path: &[&str]| {
            doc["commands"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["path"] == json!(path))
                .cloned()
                .unwrap_or_else(|| panic!("no command {path:?}"))
        };
        let var = |c: &Value, name: &str| {
            c["env"]
                .as_array()
                .unwrap()
                .iter()
                .find(|v| v["name"] == name)
                .cloned()
                .unwrap_or_else(|| panic!("{name} not in {c}"))
        };
        let shred = command(&["keys", "shred"]);
        assert_eq!(var(&shred, "LINTAS_SCHEMA_REGISTRY_URL")["required"], true);
        let retention = var(&shred, "LINTAS_PERSONAL_DATA_RETENTION_DAYS");
        assert_eq!(retention["required"], false);
        assert_eq!(
            retention["default"],
            super::super::keys::DEFAULT_RETENTION_DAYS.to_string()
        );
        let subscriber = command(&["subscriber"]);
        assert_eq!(var(&subscriber, "LINTAS_LOG_JSON")["required"], false);
        assert!(var(&subscriber, "LINTAS_BROKERS")["name"] == "LINTAS_BROKERS");
    }

    /// What an agency declares it publishes through the kit's APIs is what its routes serve:
    /// the alert desk's lifecycle events exactly when it serves the alert desk, personal-data
    /// reads and erasures exactly when it serves the personal-data routes. (Alerts its rules
    /// raise are declared by every agency: each has rules that raise them.)
    #[tokio::test]
    async fn declared_publications_match_the_routes_each_agency_serves() {
        for agency in AGENCIES {
            let store = Store::connect("sqlite::memory:", agency.group())
                .await
                .unwrap();
            store.migrate(agency.migrations()).await.unwrap();
            let views = lintas_kit::views::ViewState {
                store,
                tokens: Tokens::default(),
                codec: lintas_kit::codec::Codec::new(
                    lintas_kit::registry::RegistryClient::new("http://127.0.0.1:9/none"),
                    "",
                ),
            };
            let router = agency.router(views);
            let serves = |path: String| {
                let router = router.clone();
                async move {
                    let (status, _) = lintas_kit::testing::get(router, &path, None).await;
                    status != axum::http::StatusCode::NOT_FOUND
                }
            };
            let base = format!("/v1/agencies/{}", agency.agency().symbol());
            let declared = |e: &str| agency.publishes().contains(&e);
            let desk = serves(format!("{base}/alerts")).await;
            for e in ["AlertAcknowledged", "AlertEscalated", "AlertClosed"] {
                assert_eq!(
                    declared(e),
                    desk,
                    "{}: {e} declared {} but alert desk served {desk}",
                    agency.group(),
                    declared(e)
                );
            }
            let personal = serves(format!("{base}/erasures")).await;
            for e in ["PersonalDataRead", "PersonalDataErased"] {
                assert_eq!(
                    declared(e),
                    personal,
                    "{}: {e} declared {} but personal-data routes served {personal}",
                    agency.group(),
                    declared(e)
                );
            }
            assert!(declared("AlertRaised"), "{}", agency.group());
            for e in agency.publishes() {
                schema_of(e).unwrap();
            }
        }
    }

    /// The list is complete: every `lintas_` family this process exports (after registering
    /// every metric set and observing a series of each) is described, with the same kind and
    /// labels, and the metrics the alerting rules and runbook are built on are there.
    #[test]
    fn metrics_list_every_family_the_process_exports() {
        let doc = document().unwrap();
        let described: Vec<Described> =
            serde_json::from_value::<Vec<Value>>(doc["metrics"].clone())
                .unwrap()
                .into_iter()
                .map(|m| Described {
                    name: m["name"].as_str().unwrap().to_owned(),
                    kind: match m["kind"].as_str().unwrap() {
                        "counter" => "counter",
                        "gauge" => "gauge",
                        "histogram" => "histogram",
                        other => panic!("unexpected kind {other}"),
                    },
                    labels: serde_json::from_value(m["labels"].clone()).unwrap(),
                    help: m["help"].as_str().unwrap().to_owned(),
                })
                .collect();
        // A series of metrics of each crate, as the services observe them.
        lintas_kit::metrics::EVENTS_APPLIED
            .with_label_values(&["g", "t", "T"])
            .inc();
        lintas_kit::metrics::BATCH_DURATION
            .with_label_values(&["g"])
            .observe(0.1);
        lintas_kit::metrics::CONSUMER_LAG
            .with_label_values(&["g", "t", "0"])
            .set(1);
        let checked = metric_catalogue::compare_with_gathered("lintas_", &described)
            .unwrap_or_else(|problems| panic!("{}", problems.join("\n")));
        for name in [
            "lintas_events_applied_total",
            "lintas_apply_batch_duration_seconds",
            "lintas_consumer_lag",
            "lintas_oidc_jwks_keys",
            "lintas_registry_auth_failures_total",
        ] {
            assert!(
                checked.iter().any(|c| c == name),
                "{name} not exported: {checked:?}"
            );
        }
        let find = |name: &str| described.iter().find(|d| d.name == name).cloned();
        // Unobserved label vectors are described too, with their labels and kind.
        let group_status = find("lintas_group_status").expect("ops metrics described");
        assert_eq!(
            (group_status.kind, group_status.labels),
            ("gauge", vec!["group".to_owned(), "status".to_owned()])
        );
        let registry = find("lintas_registry_request_duration_seconds").expect("registry metrics");
        assert_eq!(registry.kind, "histogram");
        assert_eq!(registry.labels, ["method", "route"]);
        assert!(
            described.len() >= 28,
            "{} metrics described",
            described.len()
        );
    }
}
