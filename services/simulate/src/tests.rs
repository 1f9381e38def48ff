use std::collections::{BTreeMap, HashMap, HashSet};

use lintas_events::{Agency, Sex};
use lintas_intake::checks::{nik, nik_mismatches};
use lintas_intake::spec::{validate, Checks};
use serde_json::Value;
use time::macros::datetime;
use time::OffsetDateTime;

use crate::send::TokenBook;
use crate::{Scenario, Settings, SimRequest, AGENCIES, CHECKPOINTS};

fn settings(days: u32) -> Settings {
    Settings {
        days,
        ..Settings::new(datetime!(2026-03-02 00:00 +7))
    }
}

fn lines(seed: u64, settings: Settings, n: usize) -> Vec<String> {
    Scenario::new(seed, settings)
        .take(n)
        .map(|r| r.to_json().to_string())
        .collect()
}

#[test]
fn same_seed_same_sequence_other_seed_another() {
    let a = lines(7, settings(90), 2000);
    let b = lines(7, settings(90), 2000);
    assert_eq!(a.len(), 2000, "90 days give more than 2,000 requests");
    assert_eq!(a, b);
    let c = lines(8, settings(90), 2000);
    assert_ne!(a, c);
    let same_positions = a.iter().zip(&c).filter(|(x, y)| x == y).count();
    assert_eq!(same_positions, 0);

    // A busy, risky run reaches every step (group checks, visa flags at checkpoints, every
    // prosecution stage), so the replay is checked for each of them, not only for the
    // applications that fill the first requests.
    let busy = || Settings {
        per_day: 400,
        risky_share: 0.3,
        ..settings(60)
    };
    let a: Vec<SimRequest> = Scenario::new(7, busy()).take(20_000).collect();
    let b: Vec<SimRequest> = Scenario::new(7, busy()).take(20_000).collect();
    assert_eq!(a.len(), 20_000);
    assert!(a == b, "same seed, same settings, another sequence");
    let paths: HashSet<&str> = a.iter().map(|r| r.path).collect();
    assert_eq!(paths.len(), 12, "every endpoint: {paths:?}");
    let stages: HashSet<&str> = a
        .iter()
        .filter(|r| r.path == "/v1/cases/prosecution-stages")
        .filter_map(|r| r.body["stage"].as_str())
        .collect();
    assert_eq!(stages.len(), 7, "P-16 to P-31: {stages:?}");
}

#[test]
fn keys_times_and_window() {
    let s = settings(10);
    let (start, end) = (s.end - time::Duration::days(10), s.end);
    let all: Vec<SimRequest> = Scenario::new(3, s).collect();
    assert!(!all.is_empty());
    for (i, r) in all.iter().enumerate() {
        assert_eq!(r.idempotency_key, format!("sim-3-{}", i + 1));
        assert!(r.at >= start && r.at < end, "{} outside the window", r.at);
        assert_eq!(
            r.body["occurred_at"].as_str().unwrap(),
            r.at.format(&time::format_description::well_known::Rfc3339)
                .unwrap()
        );
        assert!(AGENCIES.contains(&r.agency));
    }
    assert!(
        all.windows(2).all(|w| w[0].at <= w[1].at),
        "event-time order"
    );
}

/// Every body passes the intake's own declaration of the endpoint (with the real clock:
/// `end` is the start of today), comes from an agency allowed there, and meets the
/// cross-field rules the endpoints check.
#[test]
fn every_request_is_valid_for_its_endpoint() {
    let end = Settings::start_of_day_wib(OffsetDateTime::now_utc());
    let checkpoints: Vec<String> = lintas_intake::DEFAULT_CHECKPOINTS
        .split(',')
        .map(String::from)
        .collect();
    let checks = Checks {
        checkpoints: &checkpoints,
        time_zone: lintas_events::calendar::TimeZone::Wib,
        now: OffsetDateTime::now_utc(),
    };
    let endpoints: HashMap<&str, &lintas_intake::spec::Endpoint> = lintas_intake::ALL
        .iter()
        .flat_map(|i| i.endpoints.iter().map(|(e, _)| (e.path, *e)))
        .collect();
    let mut paths = BTreeMap::new();
    for seed in [1, 2] {
        let s = Settings {
            days: 60,
            ..Settings::new(end)
        };
        for r in Scenario::new(seed, s) {
            let endpoint = endpoints[r.path];
            assert!(endpoint.agencies.contains(&r.agency), "{}", r.path);
            if let Err(e) = validate(endpoint.fields, &r.body, &checks) {
                panic!("{} refused: {e:?}\n{}", r.path, r.body);
            }
            cross_field_rules(&r);
            *paths.entry(r.path).or_insert(0) += 1;
        }
    }
    for path in endpoints.keys() {
        if *path != "/v1/applicants" {
            assert!(paths.contains_key(path), "{path} never used: {paths:?}");
        }
    }
}

fn cross_field_rules(r: &SimRequest) {
    let b = &r.body;
    match r.path {
        "/v1/imigrasi/interviews" => {
            let reasons = b
                .get("reason_codes")
                .map_or(0, |v| v.as_array().unwrap().len());
            match b["outcome"].as_str().unwrap() {
                "approve" => assert_eq!(reasons, 0, "{b}"),
                _ => assert!(reasons > 0, "{b}"),
            }
            assert!(b.get("defer_until").is_none());
        }
        "/v1/checkpoints/departure-checks" => traveller_rules(b),
        "/v1/checkpoints/group-checks" => {
            let travellers = b["travellers"].as_array().unwrap();
            assert!((2..=10).contains(&travellers.len()), "{b}");
            travellers.iter().for_each(traveller_rules);
        }
        "/v1/cases/referrals" => {
            assert!(!b["subject_niks"].as_array().unwrap().is_empty());
            assert_ne!(b["to_agency"].as_str().unwrap(), r.agency.to_string());
        }
        _ => {}
    }
}

fn traveller_rules(t: &Value) {
    let blocked = t["decision"] != "cleared";
    for field in ["reason", "handed_to", "return_ticket"] {
        assert_eq!(t.get(field).is_some(), blocked, "{field} in {t}");
    }
    if blocked {
        assert!(t.get("epmi_id").is_none());
    }
}

/// All NIKs anywhere in a body.
fn niks(body: &Value, out: &mut Vec<String>) {
    match body {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("nik", Value::String(s)) => out.push(s.clone()),
                    ("subject_niks" | "linked_subject_niks", Value::Array(items)) => {
                        out.extend(items.iter().map(|i| i.as_str().unwrap().to_string()))
                    }
                    _ => niks(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| niks(i, out)),
        _ => {}
    }
}

#[test]
fn niks_are_valid_and_match_the_person() {
    let mut people: HashMap<String, (String, String)> = HashMap::new();
    let mut seen = 0;
    for r in Scenario::new(11, settings(60)) {
        let mut found = Vec::new();
        niks(&r.body, &mut found);
        for n in &found {
            nik(n).unwrap_or_else(|e| panic!("{n}: {e}"));
            assert!(n.starts_with("3301"), "{n} is not a Cilacap NIK");
            let kec: u8 = n[4..6].parse().unwrap();
            assert!((1..=24).contains(&kec), "{n}");
            seen += 1;
        }
        if let Some(birth) = r.body.get("birth_date") {
            let n = r.body["nik"].as_str().unwrap();
            let birth = time::Date::parse(
                birth.as_str().unwrap(),
                time::macros::format_description!("[year]-[month]-[day]"),
            )
            .unwrap();
            let sex = match r.body["sex"].as_str().unwrap() {
                "female" => Sex::Female,
                _ => Sex::Male,
            };
            assert!(nik_mismatches(n, birth, sex).is_empty(), "{}", r.body);
            // One NIK, one person, whatever the channel.
            let who = (
                r.body["full_name"].as_str().unwrap().to_string(),
                r.body["birth_date"].as_str().unwrap().to_string(),
            );
            assert_eq!(people.entry(n.to_string()).or_insert(who.clone()), &who);
        }
    }
    assert!(seen > 1000 && people.len() > 300, "{seen} {}", people.len());
}

/// Proportions over a simulated year: loose bounds around the documented design.
#[test]
fn proportions_over_a_year() {
    let s = settings(365);
    let per_day = f64::from(s.per_day);
    let all: Vec<SimRequest> = Scenario::new(5, s).collect();
    let per_simulated_day = all.len() as f64 / 365.0;
    assert!(
        (0.8 * per_day..=1.2 * per_day).contains(&per_simulated_day),
        "{per_simulated_day} requests a day for per_day {per_day}"
    );

    let mut applicants: HashMap<&str, (&str, &str)> = HashMap::new();
    let (mut checked, mut blocked, mut minors_blocked) = (0, 0, 0);
    let (mut interviews, mut deferred) = (0, 0);
    let mut checkpoints: HashMap<&str, usize> = HashMap::new();
    let mut destinations: HashMap<&str, usize> = HashMap::new();
    let mut stages = HashSet::new();
    let mut deferrals_by_day: HashMap<time::Date, usize> = HashMap::new();
    let mut opened: HashMap<&str, time::Date> = HashMap::new();
    let mut late_spdp = 0;
    let mut recruiter_links = 0;
    for r in &all {
        let b = &r.body;
        match r.path {
            "/v1/disnaker/jobseekers"
            | "/v1/disnaker/passport-recommendations"
            | "/v1/imigrasi/passport-applications" => {
                applicants.insert(
                    b["nik"].as_str().unwrap(),
                    (
                        b["sex"].as_str().unwrap(),
                        b["birth_date"].as_str().unwrap(),
                    ),
                );
            }
            "/v1/imigrasi/interviews" => {
                interviews += 1;
                if b["outcome"] == "defer" {
                    deferred += 1;
                    *deferrals_by_day.entry(r.at.date()).or_default() += 1;
                }
            }
            "/v1/checkpoints/departure-checks" | "/v1/checkpoints/group-checks" => {
                *checkpoints
                    .entry(b["checkpoint_code"].as_str().unwrap())
                    .or_default() += 1;
                let travellers = match b.get("travellers") {
                    Some(t) => t.as_array().unwrap().iter().collect(),
                    None => vec![b],
                };
                for t in travellers {
                    checked += 1;
                    if t["decision"] != "cleared" {
                        blocked += 1;
                        if t["reason"] == "minor_without_guardian" {
                            minors_blocked += 1;
                        }
                        *destinations
                            .entry(b["destination_country"].as_str().unwrap())
                            .or_default() += 1;
                    }
                }
            }
            "/v1/cases/investigations" => {
                opened.insert(b["case_id"].as_str().unwrap(), r.at.date());
            }
            "/v1/cases/spdp" => {
                if let Some(d) = opened.get(b["case_id"].as_str().unwrap()) {
                    if (r.at.date() - *d).whole_days() > 7 {
                        late_spdp += 1;
                    }
                }
            }
            "/v1/cases/recruiters" => {
                recruiter_links =
                    recruiter_links.max(b["linked_subject_niks"].as_array().unwrap().len());
            }
            "/v1/cases/prosecution-stages" => {
                stages.insert(b["stage"].as_str().unwrap().to_string());
            }
            _ => {}
        }
    }

    let women = applicants.values().filter(|(s, _)| *s == "female").count() as f64
        / applicants.len() as f64;
    assert!((0.5..0.72).contains(&women), "women {women}");
    let blocked_share = f64::from(blocked) / f64::from(checked);
    assert!(
        (0.01..0.10).contains(&blocked_share),
        "blocked {blocked_share}"
    );
    assert!(
        minors_blocked > 0 && minors_blocked * 5 < blocked,
        "{minors_blocked} of {blocked}"
    );
    let deferral_share = f64::from(deferred) / f64::from(interviews);
    assert!(
        (0.01..0.10).contains(&deferral_share),
        "deferred {deferral_share}"
    );
    // Bursts: some days have many times the average number of deferrals.
    let busiest = deferrals_by_day.values().max().copied().unwrap_or(0);
    let mean = f64::from(deferred) / deferrals_by_day.len() as f64;
    assert!(
        busiest as f64 >= 3.0 * mean && busiest >= 5,
        "busiest {busiest}, mean {mean}"
    );

    let total: usize = checkpoints.values().sum();
    assert!(checkpoints["TPI-CGK"] * 2 > total, "{checkpoints:?}");
    assert!(checkpoints.keys().all(|c| CHECKPOINTS.contains(c)));
    // The brief's 2025 top destinations of people stopped lead, Malaysia first.
    let top = destinations
        .iter()
        .filter(|(d, _)| **d != "SA")
        .max_by_key(|(_, n)| **n)
        .unwrap();
    assert_eq!(*top.0, "MY", "{destinations:?}");
    for d in ["MY", "KH", "SG", "TH", "AE", "SA"] {
        assert!(
            destinations.contains_key(d),
            "{d} missing: {destinations:?}"
        );
    }
    assert!(late_spdp > 0, "no SPDP later than 7 days (rule JA1)");
    assert!(
        recruiter_links >= 5,
        "no recruiter linked to 5 people (rule PO1)"
    );
    for stage in ["p16", "p18", "p19", "p21", "p22", "p29", "p31"] {
        assert!(stages.contains(stage), "{stage} never reached: {stages:?}");
    }
}

#[test]
fn checkpoints_are_configured_by_default() {
    for c in CHECKPOINTS {
        assert!(lintas_intake::DEFAULT_CHECKPOINTS
            .split(',')
            .any(|d| d == *c));
    }
}

#[test]
fn scales_with_per_day() {
    let small = Scenario::new(1, settings(30)).count() as f64;
    let big = Scenario::new(
        1,
        Settings {
            per_day: 400,
            ..settings(30)
        },
    )
    .count() as f64;
    assert!((7.0..13.0).contains(&(big / small)), "{big} / {small}");
}

#[test]
fn tokens_by_agency_and_office() {
    let book = TokenBook::parse(
        "kanim-token-0000001=imigrasi:KANIM-CILACAP, tpi-token-00000001=imigrasi:TPI-CGK,\
         yia-token-00000001=imigrasi:TPI-YIA,dsn-token-000000001=disnaker:DISNAKER-CILACAP",
    )
    .unwrap();
    assert_eq!(
        book.token_for(Agency::Imigrasi, None),
        Some("kanim-token-0000001")
    );
    assert_eq!(
        book.token_for(Agency::Imigrasi, Some("TPI-YIA")),
        Some("yia-token-00000001")
    );
    assert_eq!(
        book.token_for(Agency::Imigrasi, Some("TPI-SUB")),
        Some("tpi-token-00000001")
    );
    assert_eq!(
        book.token_for(Agency::Imigrasi, Some("KANIM-")),
        Some("kanim-token-0000001")
    );
    assert_eq!(
        book.token_for(Agency::Disnaker, Some("KANIM-")),
        Some("dsn-token-000000001")
    );
    assert_eq!(book.token_for(Agency::Polri, None), None);
    assert_eq!(
        book.missing(AGENCIES),
        vec![Agency::Polri, Agency::Kejaksaan]
    );
    assert!(TokenBook::parse("x=nobody:OFFICE").is_err());
    // A hashed entry cannot be sent; claims after the office do not hide it.
    let claims = TokenBook::parse(
        "sha256:00ff=imigrasi:TPI-SUB, sub-token-000000001=imigrasi:TPI-SUB:checkpoint=TPI-SUB",
    )
    .unwrap();
    assert_eq!(
        claims.token_for(Agency::Imigrasi, Some("TPI-SUB")),
        Some("sub-token-000000001")
    );
}

/// With a risky share near the real one, interviews turn down about as many as Cilacap did
/// in 2017 (230 of 30,988 passports, 0.74 %).
#[test]
fn a_realistic_risky_share_gives_realistic_deferrals() {
    let s = Settings {
        risky_share: 0.01,
        ..settings(365)
    };
    let (mut interviews, mut turned_down) = (0, 0);
    for r in Scenario::new(1, s) {
        if r.path == "/v1/imigrasi/interviews" {
            interviews += 1;
            turned_down += usize::from(r.body["outcome"] != "approve");
        }
    }
    let share = turned_down as f64 / interviews as f64;
    assert!(
        (0.003..0.02).contains(&share),
        "{turned_down} of {interviews}"
    );
}
