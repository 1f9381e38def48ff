//! Samples the broker: watermarks of every partition, committed offsets of every watched
//! group, the groups' members. Runs on its own thread because librdkafka's admin-style calls
//! block.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

use lintas_kit::shutdown::Shutdown;
use lintas_kit::telemetry::Health;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Offset, TopicPartitionList};

use crate::burrow::{PartitionWindow, Rules, Sample, Status};
use crate::metrics;
use crate::{DeadLetterCount, GroupView, Ops, PartitionView, MONITOR_GROUP_PREFIX};

const TIMEOUT: Duration = Duration::from_secs(5);

/// Where a shown group comes from (`GroupView::source`).
const SUBSCRIBER: &str = "subscriber";
const BROKER: &str = "broker";
const NAMED: &str = "named";

/// A client for metadata and offsets only: it never subscribes, so it never joins the group
/// it names and never commits.
pub(crate) fn client(ops: &Ops, group: &str) -> anyhow::Result<BaseConsumer> {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", &ops.settings.brokers)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false");
    for (k, v) in &ops.settings.extra {
        config.set(k, v);
    }
    Ok(config.create()?)
}

pub const HEALTH_PART: &str = "ops-broker";

/// Samples the broker on a thread of its own (librdkafka's admin calls block); the returned
/// future ends when the thread does, with an error if it panicked.
pub fn spawn(
    ops: Ops,
    health: Health,
    shutdown: Shutdown,
) -> anyhow::Result<impl std::future::Future<Output = anyhow::Result<()>>> {
    let broker = client(&ops, &format!("{MONITOR_GROUP_PREFIX}-monitor"))?;
    let thread = std::thread::Builder::new()
        .name("ops-sampler".into())
        .spawn(move || {
            let mut sampler = Sampler {
                rules: Rules {
                    window: ops.settings.window,
                    stop_after: ops.settings.stop_after,
                },
                ops,
                broker,
                groups: HashMap::new(),
                windows: HashMap::new(),
                said_unlisted: false,
            };
            while !shutdown.is_triggered() {
                let started = Instant::now();
                match sampler.tick() {
                    Ok(()) => health.ready(HEALTH_PART),
                    Err(e) => {
                        tracing::warn!(error = %e, "could not sample the broker");
                        health.not_ready(HEALTH_PART, format!("cannot sample the broker: {e}"));
                        sampler.ops.view().broker = Some(e.to_string());
                    }
                }
                let pause = sampler
                    .ops
                    .settings
                    .sample_every
                    .saturating_sub(started.elapsed());
                let until = Instant::now() + pause;
                while Instant::now() < until && !shutdown.is_triggered() {
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        })?;
    Ok(async move {
        match tokio::task::spawn_blocking(move || thread.join()).await {
            Ok(Ok(())) => Ok(()),
            _ => Err(anyhow::anyhow!("the ops sampler thread ended abnormally")),
        }
    })
}

struct Sampler {
    ops: Ops,
    rules: Rules,
    broker: BaseConsumer,
    /// One offsets client per watched group.
    groups: HashMap<String, BaseConsumer>,
    windows: HashMap<(String, String, i32), PartitionWindow>,
    /// Whether the broker's refusal to list its groups was logged.
    said_unlisted: bool,
}

impl Sampler {
    fn tick(&mut self) -> anyhow::Result<()> {
        let settings = self.ops.settings.clone();
        let metadata = self.broker.fetch_metadata(None, TIMEOUT)?;
        let partitions: BTreeMap<String, Vec<i32>> = metadata
            .topics()
            .iter()
            .map(|t| {
                (
                    t.name().to_string(),
                    t.partitions().iter().map(|p| p.id()).collect(),
                )
            })
            .collect();
        let event_topics: Vec<String> = settings
            .event_topics()
            .into_iter()
            .filter(|t| partitions.contains_key(t))
            .collect();
        let dead_letter_topics: Vec<String> = partitions
            .keys()
            .filter(|t| settings.dead_letter_group(t).is_some())
            .cloned()
            .collect();

        let mut marks = HashMap::new();
        for topic in event_topics.iter().chain(&dead_letter_topics) {
            for &p in &partitions[topic] {
                let (low, high) = self.broker.fetch_watermarks(topic, p, TIMEOUT)?;
                marks.insert((topic.clone(), p), (low, high));
            }
        }

        // Groups the broker knows, with their members; None where it does not say.
        let listed: Option<HashMap<String, usize>> = match self
            .broker
            .fetch_group_list(None, TIMEOUT)
        {
            Ok(list) => Some(
                list.groups()
                    .iter()
                    .map(|g| (g.name().to_string(), g.members().len()))
                    .collect(),
            ),
            Err(e) => {
                if !self.said_unlisted {
                    // Once: librdkafka's mock cluster never answers ListGroups.
                    tracing::info!(error = %e, "the broker does not list its consumer groups: only our subscribers and the groups named to the dashboard are shown");
                    self.said_unlisted = true;
                }
                None
            }
        };
        // Ours with the topics they read; the broker's others and the groups named by
        // operators on every event topic, shown where they committed.
        let mut watched: Vec<(String, Vec<String>, &'static str)> = settings
            .groups
            .iter()
            .map(|(g, t)| (g.clone(), t.clone(), SUBSCRIBER))
            .collect();
        let mut known: BTreeSet<String> = settings.groups.iter().map(|(g, _)| g.clone()).collect();
        if let Some(listed) = &listed {
            for name in listed.keys() {
                if !name.starts_with(MONITOR_GROUP_PREFIX) && known.insert(name.clone()) {
                    watched.push((name.clone(), event_topics.clone(), BROKER));
                }
            }
        }
        for name in self.ops.named_groups() {
            if known.insert(name.clone()) {
                watched.push((name, event_topics.clone(), NAMED));
            }
        }

        let now = Instant::now();
        let mut views = Vec::new();
        for (group, topics, source) in watched {
            // Members only where the broker listed its groups: a group it does not list has
            // none there, but a broker that lists none says nothing about them.
            let members = listed.as_ref().map(|l| l.get(&group).copied().unwrap_or(0));
            if let Some(view) =
                self.sample_group(&group, &topics, source, members, &marks, &partitions, now)?
            {
                views.push(view);
            }
        }
        views.sort_by(|a, b| a.group.cmp(&b.group));

        let mut counts = BTreeMap::new();
        for topic in &dead_letter_topics {
            let count: i64 = partitions[topic]
                .iter()
                .map(|&p| marks[&(topic.clone(), p)])
                .map(|(low, high)| (high - low).max(0))
                .sum();
            let group = settings
                .dead_letter_group(topic)
                .unwrap_or_default()
                .to_string();
            metrics::DEAD_LETTER_RECORDS
                .with_label_values(&[&group])
                .set(count);
            counts.insert(
                topic.clone(),
                DeadLetterCount {
                    group,
                    topic: topic.clone(),
                    count,
                },
            );
        }

        let mut view = self.ops.view();
        view.groups = views;
        view.lists_groups = Some(listed.is_some());
        view.dead_letter_counts = counts;
        view.broker = None;
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn sample_group(
        &mut self,
        group: &str,
        topics: &[String],
        source: &'static str,
        members: Option<usize>,
        marks: &HashMap<(String, i32), (i64, i64)>,
        partitions: &BTreeMap<String, Vec<i32>>,
        now: Instant,
    ) -> anyhow::Result<Option<GroupView>> {
        let mut list = TopicPartitionList::new();
        for topic in topics {
            for &p in partitions.get(topic).into_iter().flatten() {
                list.add_partition(topic, p);
            }
        }
        if list.count() == 0 {
            return Ok(None);
        }
        if !self.groups.contains_key(group) {
            let client = client(&self.ops, group)?;
            self.groups.insert(group.to_string(), client);
        }
        let committed = self.groups[group].committed_offsets(list, TIMEOUT)?;

        let mut parts = Vec::new();
        let mut last_progress: Option<Instant> = None;
        for element in committed.elements() {
            let offset = match element.offset() {
                Offset::Offset(o) => Some(o),
                _ => None,
            };
            // An integrator's group is shown on the partitions it actually reads.
            if offset.is_none() && source != SUBSCRIBER {
                continue;
            }
            let key = (element.topic().to_string(), element.partition());
            let Some(&(low, high)) = marks.get(&key) else {
                continue;
            };
            let sample = Sample {
                at: now,
                committed: offset,
                low,
                high,
            };
            let window = self
                .windows
                .entry((group.to_string(), key.0.clone(), key.1))
                .or_default();
            window.push(sample, &self.rules);
            let status = window.status(now, &self.rules, members);
            last_progress = last_progress.max(window.last_progress());
            metrics::GROUP_LAG
                .with_label_values(&[group, &key.0, &key.1.to_string()])
                .set(sample.lag());
            parts.push(PartitionView {
                topic: key.0,
                partition: key.1,
                committed: offset,
                high,
                lag: sample.lag(),
                status,
            });
        }
        if parts.is_empty() {
            return Ok(None);
        }
        let status = parts.iter().map(|p| p.status).max().unwrap_or(Status::Ok);
        let lag = parts.iter().map(|p| p.lag).sum();
        let progress_age = last_progress.map(|p| now.duration_since(p).as_secs_f64());
        metrics::set_status(group, status);
        metrics::GROUP_PROGRESS_AGE
            .with_label_values(&[group])
            .set(progress_age.unwrap_or(0.0));
        Ok(Some(GroupView {
            group: group.to_string(),
            source,
            status,
            lag,
            progress_age_seconds: progress_age,
            members,
            partitions: parts,
        }))
    }
}
