//! `lintas events`: what is on the feed, from the binary an integrator runs. The JSON lists
//! every event type of this build's contract with the topics it travels on and its key, and
//! flags the personal data encrypted on the wire (the NIK among them); the text form says
//! the same for people.

use std::process::Command;

use lintas_kit::events::catalogue;
use serde_json::Value;

fn lintas(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_lintas"))
        .args(args)
        .env_remove("LINTAS_TOPIC_PREFIX")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "lintas {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn short(full: &str) -> &str {
    full.rsplit('.').next().unwrap()
}

#[test]
fn events_json_lists_every_event_type_with_its_topics_and_encrypted_fields() {
    let feed: Value = serde_json::from_str(&lintas(&["events", "--json"])).unwrap();
    let events = feed["events"].as_array().unwrap();
    let known = catalogue().events();
    assert_eq!(events.len(), known.len(), "{feed}");
    for schema in known {
        let name = short(schema.full_name);
        let event = events
            .iter()
            .find(|e| e["event_type"] == name)
            .unwrap_or_else(|| panic!("{name} missing from `lintas events --json`"));
        let topics: Vec<&str> = schema.topics.iter().map(|t| t.base_name()).collect();
        assert_eq!(event["topics"], serde_json::json!(topics), "{name}");
        assert!(
            !event["key"].as_str().unwrap_or_default().is_empty(),
            "{name} has no key"
        );
        let encrypted: Vec<&Value> = event["fields"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["encrypted"] == true)
            .collect();
        // Fields are encrypted exactly when the contract gives the event a KEK, under it.
        assert_eq!(!encrypted.is_empty(), schema.kek.is_some(), "{name}");
        for f in encrypted {
            assert_eq!(f["kek"].as_str(), schema.kek, "{name}.{}", f["name"]);
            assert_eq!(f["personal_data"], true, "{name}.{}", f["name"]);
        }
    }

    let applicant = events
        .iter()
        .find(|e| e["event_type"] == "ApplicantRegistered")
        .unwrap();
    assert_eq!(applicant["topics"][0], "lintas.applicants.v1");
    assert_eq!(applicant["key"], "subject_key");
    let field = |name: &str| {
        applicant["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == name)
            .unwrap_or_else(|| panic!("no field {name}: {applicant}"))
            .clone()
    };
    let nik = field("personal.nik");
    assert_eq!(
        (&nik["encrypted"], &nik["kek"], &nik["type"]),
        (
            &Value::Bool(true),
            &Value::from("lintas-imigrasi"),
            &Value::from("string")
        ),
        "the NIK travels encrypted: {nik}"
    );
    assert_eq!(field("sex")["encrypted"], false);
    assert_eq!(field("birth_date")["type"], "int (date)");
    assert_eq!(field("sponsor_name")["type"], "null | string");
    // Every event carries the envelope; its fields are listed once.
    assert!(feed["envelope"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["name"] == "envelope.subject_key"));

    // Alert events travel on each owner's topic.
    let raised = events
        .iter()
        .find(|e| e["event_type"] == "AlertRaised")
        .unwrap();
    assert!(raised["topics"]
        .as_array()
        .unwrap()
        .contains(&Value::from("lintas.alerts.polri.v1")));

    // Deployed with a topic prefix, the names are the deployed ones.
    let prefixed: Value =
        serde_json::from_str(&lintas(&["events", "--json", "--topic-prefix", "dev."])).unwrap();
    assert_eq!(
        prefixed["events"][0]["topics"][0]
            .as_str()
            .unwrap()
            .strip_prefix("dev."),
        events[0]["topics"][0].as_str()
    );
}

#[test]
fn events_text_is_a_table_of_types_topics_keys_and_encrypted_fields() {
    let text = lintas(&["events"]);
    for schema in catalogue().events() {
        assert!(text.contains(short(schema.full_name)), "{text}");
    }
    let summary = text
        .lines()
        .find(|l| l.starts_with("ApplicantRegistered "))
        .unwrap_or_else(|| panic!("no summary row for ApplicantRegistered:\n{text}"));
    assert!(
        summary.contains("lintas.applicants.v1")
            && summary.contains("subject_key")
            && summary.contains("lintas-imigrasi"),
        "{summary}"
    );
    let nik = text
        .lines()
        .find(|l| l.trim_start().starts_with("personal.nik "))
        .unwrap_or_else(|| panic!("no personal.nik row:\n{text}"));
    assert!(nik.contains("ENCRYPTED (lintas-imigrasi)"), "{nik}");
}
