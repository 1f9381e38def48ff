//! One way to register a metric that also records it, so that the code can state every metric
//! it can export (`lintas describe --json`'s `metrics`, which `deploy/check_metrics.py` checks
//! the alerting rules and the dashboard against).
//!
//! Why a catalogue beside Prometheus' registry: `prometheus::gather()` leaves out families
//! without samples, so a label vector nobody has observed yet (most of them, in a process that
//! has just started) cannot be listed from the registry. The catalogue keeps a clone of every
//! collector registered here and reads name, help and label names from the collector's own
//! [`Desc`](prometheus::core::Desc), and its kind from what it collects, never repeating them.

use std::sync::{LazyLock, Mutex};

use prometheus::core::Collector;
use prometheus::proto::MetricType;
use prometheus::{
    Gauge, GaugeVec, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec,
    Opts,
};
use serde::Serialize;

/// One metric as scraped: its family name, kind, label names (without the `job` and
/// `instance` Prometheus adds, nor a histogram's `le`) and help.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Described {
    pub name: String,
    /// `counter`, `gauge` or `histogram`.
    pub kind: &'static str,
    pub labels: Vec<String>,
    pub help: String,
}

static REGISTERED: LazyLock<Mutex<Vec<Box<dyn Collector>>>> = LazyLock::new(Mutex::default);

/// Registers `metric` in the default registry (the one `/metrics` serves) and in the catalogue.
/// Panics when the definition is invalid or the name is taken: a programming error, found by
/// the first test that touches the metric.
pub fn register<M: Collector + Clone + 'static>(metric: M) -> M {
    #[allow(clippy::disallowed_methods)] // the one place metrics reach the default registry
    prometheus::register(Box::new(metric.clone())).expect("metric registered once");
    REGISTERED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .push(Box::new(metric.clone()));
    metric
}

pub fn int_counter(name: &str, help: &str) -> IntCounter {
    register(IntCounter::with_opts(Opts::new(name, help)).expect("valid counter"))
}

pub fn int_counter_vec(name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    register(IntCounterVec::new(Opts::new(name, help), labels).expect("valid counter"))
}

pub fn int_gauge(name: &str, help: &str) -> IntGauge {
    register(IntGauge::with_opts(Opts::new(name, help)).expect("valid gauge"))
}

pub fn gauge(name: &str, help: &str) -> Gauge {
    register(Gauge::with_opts(Opts::new(name, help)).expect("valid gauge"))
}

pub fn int_gauge_vec(name: &str, help: &str, labels: &[&str]) -> IntGaugeVec {
    register(IntGaugeVec::new(Opts::new(name, help), labels).expect("valid gauge"))
}

pub fn gauge_vec(name: &str, help: &str, labels: &[&str]) -> GaugeVec {
    register(GaugeVec::new(Opts::new(name, help), labels).expect("valid gauge"))
}

pub fn histogram_vec(name: &str, help: &str, labels: &[&str], buckets: Vec<f64>) -> HistogramVec {
    let opts = HistogramOpts::new(name, help).buckets(buckets);
    register(HistogramVec::new(opts, labels).expect("valid histogram"))
}

/// Kind name of a Prometheus metric type.
fn kind(metric_type: MetricType) -> &'static str {
    match metric_type {
        MetricType::COUNTER => "counter",
        MetricType::GAUGE => "gauge",
        MetricType::HISTOGRAM => "histogram",
        MetricType::SUMMARY => "summary",
        MetricType::UNTYPED => "untyped",
    }
}

/// What `collector` exports: one entry per family, labels being its constant and variable
/// label names.
pub fn describe(collector: &dyn Collector) -> Vec<Described> {
    // `collect` states the kind even of a vector without children; `desc` the label names.
    let families = collector.collect();
    collector
        .desc()
        .into_iter()
        .map(|desc| {
            let family = families.iter().find(|f| f.name() == desc.fq_name);
            let mut labels: Vec<String> = desc
                .const_label_pairs
                .iter()
                .map(|pair| pair.name().to_owned())
                .chain(desc.variable_labels.iter().cloned())
                .collect();
            labels.sort();
            Described {
                name: desc.fq_name.clone(),
                kind: family.map_or("untyped", |f| kind(f.get_field_type())),
                labels,
                help: desc.help.clone(),
            }
        })
        .collect()
}

/// Every metric registered through this module so far, sorted by name. Metrics are registered
/// when first used: call the crates' `init` functions first for the whole list.
pub fn registered() -> Vec<Described> {
    let registered = REGISTERED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut all: Vec<Described> = registered
        .iter()
        .flat_map(|c| describe(c.as_ref()))
        .collect();
    all.sort();
    all
}

/// Compares what this process exports now (`prometheus::gather()`, families named
/// `prefix…`) with `described`: the names of the families checked when each is described
/// with its kind and labels, or what differs. Only families with a series are gathered, so a
/// test observes the metrics first.
pub fn compare_with_gathered(
    prefix: &str,
    described: &[Described],
) -> Result<Vec<String>, Vec<String>> {
    let mut checked = Vec::new();
    let mut problems = Vec::new();
    for family in prometheus::gather() {
        if !family.name().starts_with(prefix) {
            continue;
        }
        let mut labels: Vec<String> = family.get_metric()[0]
            .get_label()
            .iter()
            .map(|l| l.name().to_owned())
            .collect();
        labels.sort();
        let kind = kind(family.get_field_type());
        match described.iter().find(|d| d.name == family.name()) {
            None => problems.push(format!("{} is exported but not described", family.name())),
            Some(d) if d.kind != kind || d.labels != labels => problems.push(format!(
                "{} is exported as a {kind} with labels {labels:?}, described as a {} with {:?}",
                family.name(),
                d.kind,
                d.labels
            )),
            Some(_) => checked.push(family.name().to_owned()),
        }
    }
    if problems.is_empty() {
        Ok(checked)
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Name, kind and labels come from the metric itself, also for a vector nobody observed
    /// (which `prometheus::gather()` would leave out) and with constant labels.
    #[test]
    fn describes_unobserved_vectors_from_the_metric_itself() {
        let opts = HistogramOpts::new("lintas_test_seconds", "A test histogram.")
            .const_label("service", "test");
        let histogram = HistogramVec::new(opts, &["route", "method"]).unwrap();
        assert_eq!(
            describe(&histogram),
            [Described {
                name: "lintas_test_seconds".into(),
                kind: "histogram",
                labels: vec!["method".into(), "route".into(), "service".into()],
                help: "A test histogram.".into(),
            }]
        );
        let gauge = IntGauge::with_opts(Opts::new("lintas_test_gauge", "A gauge.")).unwrap();
        assert_eq!(describe(&gauge)[0].kind, "gauge");
        assert!(describe(&gauge)[0].labels.is_empty());
    }

    #[test]
    fn registered_metrics_are_listed() {
        let counter = int_counter_vec("lintas_test_listed_total", "Listed.", &["reason"]);
        let listed = registered();
        let entry = listed
            .iter()
            .find(|d| d.name == "lintas_test_listed_total")
            .expect("listed");
        assert_eq!(
            (entry.kind, entry.labels.as_slice()),
            ("counter", &["reason".to_owned()][..])
        );
        // Registered in the default registry too: its series are exported once observed.
        counter.with_label_values(&["x"]).inc();
        assert!(prometheus::gather()
            .iter()
            .any(|f| f.name() == "lintas_test_listed_total"));
    }
}
