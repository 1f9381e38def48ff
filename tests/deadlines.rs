//! Time-based rules on tansu and PostgreSQL, through the prosecutor's subscriber: an
//! investigation opened eight days ago with no SPDP raises JA1 on its own, with no new event
//! arriving; a case whose SPDP and prosecutor came in time stays silent although its JA1
//! deadline is also long past when it is read one record per batch; a restart raises nothing
//! again; a rebuild from the topics gives the same views and the same single alert. (Which
//! partitions count as caught up is unit-tested in the kit's applier.)

mod harness;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use harness::*;
use lintas_kit::codec::Codec;
use lintas_kit::events::*;
use rdkafka::Message;
use serde_json::Value;
use sqlx::Row;
use time::OffsetDateTime;

fn envelope(agency: Agency, office: &str, case: &str, at: OffsetDateTime) -> Envelope {
    let mut envelope = Envelope::new(agency, office, "off-1", at);
    envelope.case_id = Some(case.into());
    envelope
}

fn investigation(case: &str, at: OffsetDateTime) -> InvestigationOpened {
    InvestigationOpened {
        envelope: envelope(Agency::Polri, "POLRESTA-CILACAP", case, at),
        investigating_unit: "SATRESKRIM-PPA-PPO-POLRESTA-CILACAP".into(),
        legal_articles: vec!["UU 21/2007 Pasal 4".into()],
        suspect_recruiter_keys: vec![],
        subject_keys: vec![],
    }
}

/// The SPDP of the investigation opened at `opened`, sent at `at`: it names its investigation
/// by the local (WIB) date it was opened, as the form does.
fn spdp(case: &str, at: OffsetDateTime, opened: OffsetDateTime) -> SpdpSent {
    SpdpSent {
        envelope: envelope(Agency::Polri, "POLRESTA-CILACAP", case, at),
        spdp_number: format!("SPDP/{case}"),
        sent_to_office: "KEJARI-CILACAP".into(),
        investigation_opened_on: calendar::TimeZone::Wib.local_date(opened),
    }
}

fn stage(case: &str, at: OffsetDateTime, stage: ProsecutionStage) -> ProsecutionStageChanged {
    ProsecutionStageChanged {
        envelope: envelope(Agency::Kejaksaan, "KEJARI-CILACAP", case, at),
        stage,
        prosecutor_id: Some("jpu-3".into()),
        due_date: None,
    }
}

/// `url` as the prosecutor reads it, when it answers 200.
async fn get(client: &Client, url: &str) -> Option<Value> {
    let (status, body) = client.get(url, KEJAKSAAN_TOKEN).await;
    (status == 200).then_some(body)
}

/// Every table of the schema but the runtime's bookkeeping; deadlines without the time the
/// runtime last wrote them.
async fn dump(database: &str, schema: &str) -> BTreeMap<String, Vec<String>> {
    let mut skip = BOOKKEEPING.to_vec();
    skip.push("lintas_deadlines");
    let mut out = schema_rows(database, schema, &skip).await;
    let pool = pg(database).await;
    let deadlines = sqlx::query(&format!(
        "SELECT deadline_key || ' ' || state FROM {schema}.lintas_deadlines ORDER BY 1"
    ))
    .fetch_all(&pool)
    .await
    .unwrap();
    out.insert(
        "lintas_deadlines".into(),
        deadlines.iter().map(|r| r.get::<String, _>(0)).collect(),
    );
    pool.close().await;
    out
}

/// Every event on the prosecutor's alert topic.
async fn alert_topic(brokers: &str, registry: &str) -> Vec<AnyEvent> {
    let codec = Codec::new(
        harness::registry_client(registry, harness::REGISTRY_READ),
        "",
    );
    let mut events = Vec::new();
    for m in read_all(
        brokers,
        "lintas.alerts.kejaksaan.v1",
        usize::MAX,
        Duration::from_secs(3),
    ) {
        if let Ok(event) = codec.decode(m.payload().unwrap()).await {
            events.push(event);
        }
    }
    events
}

/// JA1 AlertRaised records on the alert topic, as "rule case".
async fn raised_on_topic(brokers: &str, registry: &str) -> Vec<String> {
    let mut ids: Vec<String> = alert_topic(brokers, registry)
        .await
        .into_iter()
        .filter_map(|e| match e {
            AnyEvent::AlertRaised(a) => Some(format!(
                "{} {}",
                a.rule,
                a.envelope.case_id.unwrap_or_default()
            )),
            _ => None,
        })
        .collect();
    ids.sort();
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deadlines_fire_once_on_time_and_never_early_on_a_replay() {
    let broker = Broker::start(2).await;
    let database = fresh_database().await;
    let registry = start_registry(&database, &broker.dir).await;
    let events = producer(&broker.brokers, &registry.url);
    let now = OffsetDateTime::now_utc();
    let day = time::Duration::days(1);
    // LATE: opened 8 days ago, no SPDP. MET: opened 8 days ago, SPDP on day 2, prosecutor on
    // day 4, with filler stages of other cases in between. FRESH: opened yesterday.
    events
        .publish(&investigation("LATE", now - day * 8))
        .await
        .unwrap();
    events
        .publish(&investigation("MET", now - day * 8))
        .await
        .unwrap();
    for i in 0..20 {
        let filler = format!("OTHER-{i}");
        events
            .publish(&stage(&filler, now - day * 7, ProsecutionStage::P17))
            .await
            .unwrap();
    }
    events
        .publish(&spdp("MET", now - day * 6, now - day * 8))
        .await
        .unwrap();
    events
        .publish(&stage("MET", now - day * 4, ProsecutionStage::P16))
        .await
        .unwrap();
    events
        .publish(&investigation("FRESH", now - day))
        .await
        .unwrap();

    // One record per batch, so a replay passes through every intermediate state.
    let extra = ["--max-batch", "1"];
    let mut kejaksaan = spawn_subscriber(
        "kejaksaan",
        &broker.brokers,
        &registry.url,
        &database,
        &broker.dir,
        &extra,
    );
    let client = Client::new();
    let alerts_url = format!("{}/v1/agencies/kejaksaan/alerts", kejaksaan.url);
    let alerts = client
        .wait_for(&alerts_url, KEJAKSAAN_TOKEN, WAIT, "JA1 fired", |body| {
            !body["alerts"].as_array().unwrap().is_empty()
        })
        .await;
    let alert = &alerts["alerts"][0];
    assert_eq!(alert["rule"], "JA1");
    let alert_id = alert["alert_id"].as_str().unwrap().to_string();
    let case = get(
        &client,
        &format!("{}/v1/agencies/kejaksaan/cases/LATE", kejaksaan.url),
    )
    .await
    .expect("the case timeline");
    assert_eq!(case["timeline"][0]["type"], "InvestigationOpened");

    // Give MET and FRESH every chance to fire wrongly, then look.
    tokio::time::sleep(Duration::from_secs(8)).await;
    let alerts = get(&client, &alerts_url).await.unwrap();
    assert_eq!(alerts["alerts"].as_array().unwrap().len(), 1, "{alerts}");
    let cases = get(
        &client,
        &format!("{}/v1/agencies/kejaksaan/cases", kejaksaan.url),
    )
    .await
    .unwrap();
    assert_eq!(cases["cases"].as_array().unwrap().len(), 23);
    assert_eq!(
        raised_on_topic(&broker.brokers, &registry.url).await,
        ["JA1 LATE"]
    );

    // A restart fires nothing again.
    kejaksaan.proc.terminate();
    let kejaksaan = spawn_subscriber(
        "kejaksaan",
        &broker.brokers,
        &registry.url,
        &database,
        &broker.dir,
        &extra,
    );
    wait_http_ok(
        &format!("{}/readyz", kejaksaan.url),
        Duration::from_secs(60),
    )
    .await;
    tokio::time::sleep(Duration::from_secs(8)).await;
    assert_eq!(
        raised_on_topic(&broker.brokers, &registry.url).await,
        ["JA1 LATE"]
    );
    let before = dump(&database, "kejaksaan").await;
    let mut kejaksaan = kejaksaan;

    // A rebuild replays everything, one record per batch, with every deadline long past: only
    // LATE's alert comes back, with the same id; the views are the same row for row.
    kejaksaan.proc.terminate();
    drop_schema(&database, "kejaksaan").await;
    let kejaksaan = spawn_subscriber(
        "kejaksaan",
        &broker.brokers,
        &registry.url,
        &database,
        &broker.dir,
        &extra,
    );
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if let Some(body) = get(
            &client,
            &format!("{}/v1/agencies/kejaksaan/alerts/{alert_id}", kejaksaan.url),
        )
        .await
        {
            assert_eq!(body["rule"], "JA1");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "JA1 not raised again after the rebuild"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    // The alert is back as soon as the rebuild reads it from the alert topic; its deadline
    // fires again once the rebuild has caught up: wait for the views to settle, then compare.
    let settled = Instant::now() + Duration::from_secs(60);
    let mut after = dump(&database, "kejaksaan").await;
    while after != before && Instant::now() < settled {
        tokio::time::sleep(Duration::from_millis(500)).await;
        after = dump(&database, "kejaksaan").await;
    }
    assert_eq!(after, before);
    let alerts = get(
        &client,
        &format!("{}/v1/agencies/kejaksaan/alerts", kejaksaan.url),
    )
    .await
    .unwrap();
    assert_eq!(alerts["alerts"].as_array().unwrap().len(), 1, "{alerts}");
}

/// A rebalance in the middle of a backlog fires no deadline early: six cases whose JA1
/// deadlines are long past have their SPDP further down the backlog; a second instance joins
/// while the first is reading it one record per batch, so partitions change hands with due
/// deadlines and unread cancellations. Only LATE, which has no SPDP, raises JA1. (Before,
/// watermarks from the last statistics survived the revoke and counted a partition just
/// assigned as caught up before its first fetch.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rebalance_during_a_backlog_fires_no_deadline_early() {
    let broker = Broker::start(2).await;
    let database = fresh_database().await;
    let registry = start_registry(&database, &broker.dir).await;
    let events = producer(&broker.brokers, &registry.url);
    let now = OffsetDateTime::now_utc();
    let day = time::Duration::days(1);
    let met: Vec<String> = (0..6).map(|i| format!("MET-{i}")).collect();
    events
        .publish(&investigation("LATE", now - day * 8))
        .await
        .unwrap();
    for case in &met {
        events
            .publish(&investigation(case, now - day * 8))
            .await
            .unwrap();
    }
    // Long enough that the first instance, one record per batch, is still reading it when
    // the second has joined.
    const BACKLOG: i64 = 2000;
    for i in 0..BACKLOG {
        events
            .publish(&stage(
                &format!("OTHER-{i}"),
                now - day * 7,
                ProsecutionStage::P17,
            ))
            .await
            .unwrap();
    }
    for case in &met {
        events
            .publish(&spdp(case, now - day * 6, now - day * 8))
            .await
            .unwrap();
    }
    let extra = ["--max-batch", "1", "--session-timeout-ms", "3000"];
    let _first = spawn_subscriber(
        "kejaksaan",
        &broker.brokers,
        &registry.url,
        &database,
        &broker.dir,
        &extra,
    );
    let pool = pg(&database).await;
    let count = async || -> i64 {
        sqlx::query_scalar("SELECT COUNT(*) FROM kejaksaan.case_events")
            .fetch_one(&pool)
            .await
            .unwrap_or(0)
    };
    let deadline = Instant::now() + Duration::from_secs(90);
    while count().await < 5 {
        assert!(Instant::now() < deadline, "the backlog never started");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let second = spawn_subscriber(
        "kejaksaan",
        &broker.brokers,
        &registry.url,
        &database,
        &broker.dir,
        &extra,
    );
    wait_http_ok(&format!("{}/readyz", second.url), Duration::from_secs(60)).await;
    let joined_at = count().await;
    let deadline = Instant::now() + Duration::from_secs(180);
    while count().await < BACKLOG + 13 {
        assert!(Instant::now() < deadline, "the backlog never drained");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert!(
        joined_at < BACKLOG,
        "the second instance joined during the backlog ({joined_at} applied)"
    );
    // Every SPDP applied. LATE's deadline fires once an owner has applied up to the
    // watermarks between two rebalances (tansu's group churns every few seconds with a 3 s
    // session); then give a wrong deadline every chance to fire, and look.
    let deadline = Instant::now() + Duration::from_secs(60);
    while raised_on_topic(&broker.brokers, &registry.url)
        .await
        .is_empty()
    {
        assert!(Instant::now() < deadline, "LATE's JA1 never fired");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    tokio::time::sleep(Duration::from_secs(8)).await;
    assert_eq!(
        raised_on_topic(&broker.brokers, &registry.url).await,
        ["JA1 LATE"]
    );
}

/// Waits until alert `alert_id` is served with `status` (and returns it).
async fn wait_alert(
    client: &Client,
    base: &str,
    alert_id: uuid::Uuid,
    status: &str,
    what: &str,
) -> Value {
    client
        .wait_for(
            &format!("{base}/v1/agencies/kejaksaan/alerts/{alert_id}"),
            KEJAKSAAN_TOKEN,
            WAIT,
            what,
            |body| body["status"] == status,
        )
        .await
}

/// Issue #18, finding 3, through the real runtime: deadlines are met by when the awaited
/// event occurred, not when it arrived. SENT-LATE's SPDP was sent on day 9, and is on the
/// topic before the subscriber starts: JA1 fires all the same (it used to be cancelled), and
/// is answered at once (finding 11: closed `resolved`, "SPDP sent on …, 2 days late").
/// POSTED-LATE's SPDP was sent on day 5 but is posted only after JA1 fired: the alert is
/// withdrawn, closed as `false_positive` on the prosecutor's alert topic (it used to stay
/// open against police who met the deadline). A rebuild from the topics restores both alerts
/// as they were, the withdrawn one too, though the replay no longer raises it. (And finding 6:
/// a second investigation in a case gets its own JA1 clock.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deadlines_are_met_in_event_time_and_a_rebuild_restores_alerts_raised_live() {
    let broker = Broker::start(2).await;
    let database = fresh_database().await;
    let registry = start_registry(&database, &broker.dir).await;
    let events = producer(&broker.brokers, &registry.url);
    let now = OffsetDateTime::now_utc();
    let day = time::Duration::days(1);
    let opened = now - day * 10;
    let sent_late = investigation("SENT-LATE", opened);
    let posted_late = investigation("POSTED-LATE", opened);
    events.publish(&sent_late).await.unwrap();
    events
        .publish(&spdp("SENT-LATE", opened + day * 9, opened))
        .await
        .unwrap();
    events.publish(&posted_late).await.unwrap();
    // TWICE (finding 6): a first investigation met by its SPDP and P-16, then a second one
    // in the same case with no SPDP, which gets its own clock (it used to get none).
    let first = now - day * 20;
    events
        .publish(&investigation("TWICE", first))
        .await
        .unwrap();
    events
        .publish(&spdp("TWICE", first + day, first))
        .await
        .unwrap();
    events
        .publish(&stage("TWICE", first + day * 2, ProsecutionStage::P16))
        .await
        .unwrap();
    let second = investigation("TWICE", opened);
    events.publish(&second).await.unwrap();
    let second_alert = AlertRaised::derive_id("JA1", &[second.envelope.event_id]);
    let sent_late_alert = AlertRaised::derive_id("JA1", &[sent_late.envelope.event_id]);
    let posted_late_alert = AlertRaised::derive_id("JA1", &[posted_late.envelope.event_id]);

    let mut kejaksaan = spawn_subscriber(
        "kejaksaan",
        &broker.brokers,
        &registry.url,
        &database,
        &broker.dir,
        &[],
    );
    let client = Client::new();
    let sent = wait_alert(
        &client,
        &kejaksaan.url,
        sent_late_alert,
        "closed",
        "JA1 never fired and was answered for an SPDP sent on day 9",
    )
    .await;
    assert_eq!(sent["rule"], "JA1");
    assert_eq!(sent["close_reason"], "resolved");
    wait_alert(
        &client,
        &kejaksaan.url,
        posted_late_alert,
        "open",
        "JA1 never fired without an SPDP",
    )
    .await;

    wait_alert(
        &client,
        &kejaksaan.url,
        second_alert,
        "open",
        "JA1 never fired for a second investigation of a case",
    )
    .await;

    // The SPDP sent on day 5 arrives now.
    events
        .publish(&spdp("POSTED-LATE", opened + day * 5, opened))
        .await
        .unwrap();
    let withdrawn = wait_alert(
        &client,
        &kejaksaan.url,
        posted_late_alert,
        "closed",
        "JA1 not withdrawn after an SPDP sent in time",
    )
    .await;
    assert_eq!(withdrawn["close_reason"], "false_positive");
    let deadline = Instant::now() + Duration::from_secs(30);
    let closes = loop {
        let closes: Vec<AlertClosed> = alert_topic(&broker.brokers, &registry.url)
            .await
            .into_iter()
            .filter_map(|e| match e {
                AnyEvent::AlertClosed(c) => Some(c),
                _ => None,
            })
            .collect();
        if closes.len() >= 2 || Instant::now() > deadline {
            break closes;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    // SENT-LATE's answer and POSTED-LATE's withdrawal.
    let mut closes: Vec<_> = closes
        .iter()
        .map(|c| (c.alert_id, c.by_agency, c.reason))
        .collect();
    closes.sort_by_key(|c| c.0);
    let mut expected = vec![
        (
            posted_late_alert,
            Agency::Kejaksaan,
            AlertCloseReason::FalsePositive,
        ),
        (
            sent_late_alert,
            Agency::Kejaksaan,
            AlertCloseReason::Resolved,
        ),
    ];
    expected.sort_by_key(|c| c.0);
    assert_eq!(closes, expected);
    let alerts_url = format!("{}/v1/agencies/kejaksaan/alerts", kejaksaan.url);
    let before = get(&client, &alerts_url).await.unwrap();

    // Rebuild: the replay reads POSTED-LATE's SPDP before any deadline is checked, so the
    // rules raise its JA1 no more; the alert topic brings it back, closed.
    kejaksaan.proc.terminate();
    drop_schema(&database, "kejaksaan").await;
    let kejaksaan = spawn_subscriber(
        "kejaksaan",
        &broker.brokers,
        &registry.url,
        &database,
        &broker.dir,
        &[],
    );
    let restored = wait_alert(
        &client,
        &kejaksaan.url,
        posted_late_alert,
        "closed",
        "the withdrawn JA1 was not restored by the rebuild",
    )
    .await;
    assert_eq!(restored["close_reason"], "false_positive");
    wait_alert(
        &client,
        &kejaksaan.url,
        sent_late_alert,
        "closed",
        "SENT-LATE's JA1 not back, answered, after the rebuild",
    )
    .await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let after = get(
        &client,
        &format!("{}/v1/agencies/kejaksaan/alerts", kejaksaan.url),
    )
    .await
    .unwrap();
    assert_eq!(after["alerts"], before["alerts"]);
    let topic = alert_topic(&broker.brokers, &registry.url).await;
    assert_eq!(topic.len(), 5, "nothing published again: {topic:?}");
}

/// Issue #18, findings 3 and 6 for PO3, through the real runtime (the police subscriber on
/// tansu and PostgreSQL): a referral 20 days ago with no investigation read raises PO3; the
/// investigation, opened on day 10 but posted only now, withdraws it on the police alert
/// topic. A second referral of the case, 16 days ago, gets a clock of its own: that
/// investigation, opened after it, meets it, so it never raises PO3.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn po3_is_met_by_when_the_investigation_was_opened_through_the_runtime() {
    let broker = Broker::start(2).await;
    let database = fresh_database().await;
    let registry = start_registry(&database, &broker.dir).await;
    let events = producer(&broker.brokers, &registry.url);
    let now = OffsetDateTime::now_utc();
    let day = time::Duration::days(1);
    let referral = |at: OffsetDateTime| CaseReferred {
        envelope: envelope(Agency::Imigrasi, "TPI-CGK", "REFERRED", at),
        from_agency: Agency::Imigrasi,
        to_agency: Agency::Polri,
        reason: ReferralReason::SuspectedTrafficking,
        subject_keys: vec![],
        suspected_recruiter_keys: vec![],
        legal_articles: vec![],
    };
    let first = referral(now - day * 20);
    events.publish(&first).await.unwrap();
    let po3 = AlertRaised::derive_id("PO3", &[first.envelope.event_id]);

    let polri = spawn_subscriber(
        "polri",
        &broker.brokers,
        &registry.url,
        &database,
        &broker.dir,
        &[],
    );
    let client = Client::new();
    let alert_url = format!("{}/v1/agencies/polri/alerts/{po3}", polri.url);
    client
        .wait_for(&alert_url, POLRI_TOKEN, WAIT, "PO3 fired", |_| true)
        .await;

    // The investigation first: the second referral, read after it, is met in the same
    // transaction that starts its clock (read the other way round, its long-past deadline
    // could fire in between, and be withdrawn in turn).
    events
        .publish(&investigation("REFERRED", now - day * 10))
        .await
        .unwrap();
    events.publish(&referral(now - day * 16)).await.unwrap();
    let withdrawn = client
        .wait_for(&alert_url, POLRI_TOKEN, WAIT, "PO3 withdrawn", |body| {
            body["status"] == "closed"
        })
        .await;
    assert_eq!(withdrawn["close_reason"], "false_positive");
    // Every chance for the second referral's clock to fire wrongly, then look at the topic.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let codec = Codec::new(
        harness::registry_client(&registry.url, harness::REGISTRY_READ),
        "",
    );
    let mut on_topic = Vec::new();
    for m in read_all(
        &broker.brokers,
        "lintas.alerts.polri.v1",
        usize::MAX,
        Duration::from_secs(3),
    ) {
        match codec.decode(m.payload().unwrap()).await {
            Ok(AnyEvent::AlertRaised(a)) => on_topic.push(format!("raised {}", a.alert_id)),
            Ok(AnyEvent::AlertClosed(c)) => {
                on_topic.push(format!("closed {} {}", c.alert_id, c.reason))
            }
            _ => {}
        }
    }
    assert_eq!(
        on_topic,
        [
            format!("raised {po3}"),
            format!("closed {po3} false_positive")
        ]
    );
}
