//! The operators' view of the feed. It watches from the outside, as Burrow does: lag and
//! progress come from the broker's committed offsets and watermarks, throughput and dead
//! letters from tailing the topics, alerts from the alert topic, readiness from each
//! service's `/readyz`. A subscriber that crashed therefore still shows up, as STALL or STOP,
//! instead of silently vanishing from its own metrics.
//!
//! No personal data reaches this view: alerts carry none by contract, and dead letters are
//! shown by their error headers and coordinates, never their bodies.
#![forbid(unsafe_code)]

mod api;
pub mod burrow;
mod health;
mod metrics;
mod redrive;
mod sampler;

/// Registers the monitor's metrics (for `lintas describe`'s list of them).
pub use metrics::init as init_metrics;
pub mod series;
mod tail;
mod viewer;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lintas_kit::codec::Codec;
use lintas_kit::shutdown::Shutdown;
use lintas_kit::telemetry::Health;
use serde::Serialize;

pub use api::router;

/// What to watch and how to judge it.
#[derive(Clone)]
pub struct OpsSettings {
    pub brokers: String,
    /// librdkafka properties (TLS, SASL) for the monitor's own clients.
    pub extra: Vec<(String, String)>,
    pub topic_prefix: String,
    /// Consumer groups to watch, each with the topics it reads. Groups found on the broker
    /// (an integrator's) are added with the topics they committed offsets on.
    pub groups: Vec<(String, Vec<String>)>,
    /// Integrators' groups looked for by name: their committed offsets on the event topics are
    /// fetched whether or not the broker lists its groups. A broker that does not answer
    /// ListGroups (librdkafka's mock cluster, the embedded broker of `lintas up`; or a
    /// principal without DESCRIBE on groups) shows other groups only this way. Operators may
    /// name more at run time (`POST /ops/api/groups`), up to [`MAX_NAMED_GROUPS`] in all.
    pub named_groups: Vec<String>,
    /// Services whose `/readyz` to probe: name and base URL.
    pub services: Vec<(String, String)>,
    pub sample_every: Duration,
    /// Burrow's window: longer than the subscribers' offset mirror interval (5 s).
    pub window: Duration,
    /// No progress for this long with lag is STOP rather than STALL.
    pub stop_after: Duration,
    /// Dead letters the viewer reads from the broker per minute, for all callers together.
    pub dead_letter_views_per_minute: u32,
}

/// Without the values of the client properties: they may hold the broker password.
impl std::fmt::Debug for OpsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpsSettings")
            .field("brokers", &self.brokers)
            .field("extra", &lintas_kit::kafka_auth::redacted(&self.extra))
            .field("topic_prefix", &self.topic_prefix)
            .field("groups", &self.groups)
            .field("named_groups", &self.named_groups)
            .field("services", &self.services)
            .finish_non_exhaustive()
    }
}

impl OpsSettings {
    pub fn new(brokers: &str, topic_prefix: &str) -> Self {
        OpsSettings {
            brokers: brokers.into(),
            extra: Vec::new(),
            topic_prefix: topic_prefix.into(),
            groups: Vec::new(),
            named_groups: Vec::new(),
            services: Vec::new(),
            sample_every: Duration::from_secs(5),
            window: Duration::from_secs(60),
            stop_after: Duration::from_secs(300),
            dead_letter_views_per_minute: DEFAULT_DEAD_LETTER_VIEWS_PER_MINUTE,
        }
    }

    /// Watch `group`, reading `topics` (base names; the prefix is added).
    pub fn watch_group(&mut self, group: &str, topics: &[lintas_kit::events::Topic]) {
        let topics = topics
            .iter()
            .map(|t| format!("{}{}", self.topic_prefix, t.base_name()))
            .collect();
        self.groups.push((group.to_string(), topics));
    }

    pub fn event_topics(&self) -> Vec<String> {
        lintas_kit::topics::event_topics(&self.topic_prefix)
    }

    /// `lintas.<group>.dlq` with the prefix; returns the group.
    pub fn dead_letter_group<'a>(&self, topic: &'a str) -> Option<&'a str> {
        topic
            .strip_prefix(self.topic_prefix.as_str())?
            .strip_prefix("lintas.")?
            .strip_suffix(".dlq")
    }
}

/// Everything the page shows, refreshed by the background tasks.
#[derive(Default)]
struct View {
    groups: Vec<GroupView>,
    dead_letter_counts: BTreeMap<String, DeadLetterCount>,
    newest_dead_letters: VecDeque<DeadLetter>,
    alerts: BTreeMap<String, AlertView>,
    services: Vec<ServiceView>,
    broker: Option<String>,
    minutes: Option<series::Series>,
    hours: Option<series::Series>,
    events_seen: u64,
    /// Whether the broker answered ListGroups at the last sample (None: not sampled yet).
    lists_groups: Option<bool>,
}

#[derive(Clone, Serialize)]
struct GroupView {
    group: String,
    /// `subscriber` (one of ours, watched), `broker` (listed by the broker) or `named` (an
    /// integrator's group named by an operator, found by its committed offsets).
    source: &'static str,
    status: burrow::Status,
    lag: i64,
    /// Seconds since any partition's committed offset moved (None: never seen moving).
    progress_age_seconds: Option<f64>,
    members: Option<usize>,
    partitions: Vec<PartitionView>,
}

#[derive(Clone, Serialize)]
struct PartitionView {
    topic: String,
    partition: i32,
    committed: Option<i64>,
    high: i64,
    lag: i64,
    status: burrow::Status,
}

#[derive(Clone, Serialize)]
struct DeadLetterCount {
    group: String,
    topic: String,
    count: i64,
}

#[derive(Clone, Serialize)]
struct DeadLetter {
    topic: String,
    partition: i32,
    offset: i64,
    group: String,
    timestamp_ms: Option<i64>,
    stage: Option<String>,
    class: Option<String>,
    reason: Option<String>,
    original_topic: Option<String>,
    original_partition: Option<String>,
    original_offset: Option<String>,
}

#[derive(Clone, Serialize)]
struct AlertView {
    alert_id: String,
    rule: String,
    owner: String,
    severity: String,
    /// English; `summaries` by language code (`id`, `en`), empty for alerts raised before
    /// translations. The page shows its language's and falls back to this.
    summary: String,
    summaries: BTreeMap<String, String>,
    raised_at_ms: i64,
    status: &'static str,
    updated_at_ms: i64,
}

#[derive(Clone, Serialize)]
struct ServiceView {
    name: String,
    url: String,
    ready: bool,
    /// Each part's `ok` or reason, as `/readyz` gave them.
    parts: BTreeMap<String, String>,
    error: Option<String>,
}

/// The running monitor: cheap to clone, shared with the HTTP routes.
#[derive(Clone)]
pub struct Ops {
    settings: Arc<OpsSettings>,
    view: Arc<Mutex<View>>,
    /// Integrators' groups looked for by name: the settings' and those operators named since.
    named: Arc<Mutex<BTreeSet<String>>>,
    viewer: Arc<viewer::DeadLetterViewer>,
}

/// At most this many groups are looked for by name: each costs a client and a fetch per sample.
pub const MAX_NAMED_GROUPS: usize = 32;

/// Why a group name was not taken.
#[derive(Debug, PartialEq, Eq)]
pub enum NameGroupError {
    /// Not a Kafka group id this page can show: 1 to 249 of `A-Z a-z 0-9 . _ -`.
    Invalid,
    /// [`MAX_NAMED_GROUPS`] are already named.
    TooMany,
}

impl std::fmt::Display for NameGroupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NameGroupError::Invalid => f.write_str(
                "not a consumer group id: 1 to 249 characters of A-Z, a-z, 0-9, '.', '_' and '-'",
            ),
            NameGroupError::TooMany => write!(
                f,
                "{MAX_NAMED_GROUPS} groups are already named; no more are looked for"
            ),
        }
    }
}

/// A group id the dashboard looks for by name: Kafka's legal topic characters (group ids may
/// hold more, but those are what a name typed by an operator needs), never the monitor's own.
pub fn valid_group_name(name: &str) -> bool {
    (1..=249).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        && !name.starts_with(MONITOR_GROUP_PREFIX)
}

/// The monitor's own clients' group ids start with this; they are never shown.
pub(crate) const MONITOR_GROUP_PREFIX: &str = "lintas-ops";

/// The viewer's default rate: enough for operators reading dead letters one by one.
pub const DEFAULT_DEAD_LETTER_VIEWS_PER_MINUTE: u32 = 30;

/// Wall-clock milliseconds since the epoch.
fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// Newest dead letters and alerts kept in memory.
const NEWEST_DEAD_LETTERS: usize = 50;
const ALERTS_KEPT: usize = 500;

impl Ops {
    /// Starts the monitor's tasks in `tasks` (supervised: one failing stops the service);
    /// they stop with `shutdown`. `health` gets an `ops-broker` part, ready while the broker
    /// can be sampled.
    pub fn start(
        settings: OpsSettings,
        codec: Codec,
        health: Health,
        shutdown: Shutdown,
        tasks: &mut lintas_kit::tasks::Tasks,
    ) -> anyhow::Result<Ops> {
        metrics::init();
        let view = View {
            minutes: Some(series::Series::new(5, 120)),
            hours: Some(series::Series::new(60, 180)),
            ..View::default()
        };
        let mut named = BTreeSet::new();
        for name in &settings.named_groups {
            if !valid_group_name(name) {
                anyhow::bail!(
                    "consumer group `{name}` to look for: {}",
                    NameGroupError::Invalid
                );
            }
            named.insert(name.clone());
        }
        if named.len() > MAX_NAMED_GROUPS {
            anyhow::bail!("{}", NameGroupError::TooMany);
        }
        let ops = Ops {
            named: Arc::new(Mutex::new(named)),
            viewer: Arc::new(viewer::DeadLetterViewer::new(&settings)?),
            settings: Arc::new(settings),
            view: Arc::new(Mutex::new(view)),
        };
        health.register(sampler::HEALTH_PART);
        tasks.spawn(
            "ops-sampler",
            sampler::spawn(ops.clone(), health, shutdown.clone())?,
        );
        tasks.spawn(
            "ops-tail",
            tail::spawn(ops.clone(), codec, shutdown.clone())?,
        );
        tasks.spawn(
            "ops-service-probes",
            health::probe_services(ops.clone(), shutdown),
        );
        Ok(ops)
    }

    fn view(&self) -> std::sync::MutexGuard<'_, View> {
        self.view.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Looks for `group` by name from the next sample on: it shows once it has committed
    /// offsets on an event topic. Ok(false) when it was already looked for (or is one of ours).
    pub fn name_group(&self, group: &str) -> Result<bool, NameGroupError> {
        if !valid_group_name(group) {
            return Err(NameGroupError::Invalid);
        }
        if self.settings.groups.iter().any(|(g, _)| g == group) {
            return Ok(false);
        }
        let mut named = self.named.lock().unwrap_or_else(|e| e.into_inner());
        if named.contains(group) {
            return Ok(false);
        }
        if named.len() >= MAX_NAMED_GROUPS {
            return Err(NameGroupError::TooMany);
        }
        named.insert(group.to_string());
        Ok(true)
    }

    /// The groups looked for by name.
    fn named_groups(&self) -> Vec<String> {
        let named = self.named.lock().unwrap_or_else(|e| e.into_inner());
        named.iter().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::valid_group_name;

    #[test]
    fn group_names_an_operator_may_type() {
        for good in ["quickstart-reader", "bp3mi.dashboard_v2", "a"] {
            assert!(valid_group_name(good), "{good}");
        }
        let too_long = "g".repeat(250);
        for bad in [
            "",
            "two words",
            "<script>",
            "grüppe",
            "lintas-ops-monitor",
            too_long.as_str(),
        ] {
            assert!(!valid_group_name(bad), "{bad}");
        }
    }
}
