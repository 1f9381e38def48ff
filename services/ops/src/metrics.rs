//! What the monitor measures, for Prometheus too: alerting rules can then see a subscriber
//! that died (its own `/metrics` went with it).

use std::sync::LazyLock;

use lintas_kit::metrics::catalogue;
use prometheus::{GaugeVec, IntGaugeVec};

use crate::burrow::Status;

pub static GROUP_STATUS: LazyLock<IntGaugeVec> = LazyLock::new(|| {
    catalogue::int_gauge_vec(
        "lintas_group_status",
        "Consumer group status in the style of Burrow: 1 for the current status (OK, WARN, STALL, STOP), 0 for the others.",
        &["group", "status"]
    )
});

pub static GROUP_LAG: LazyLock<IntGaugeVec> = LazyLock::new(|| {
    catalogue::int_gauge_vec(
        "lintas_group_lag",
        "Records between the group's committed offset and the high watermark, measured at the broker.",
        &["group", "topic", "partition"]
    )
});

pub static GROUP_PROGRESS_AGE: LazyLock<GaugeVec> = LazyLock::new(|| {
    catalogue::gauge_vec(
        "lintas_group_progress_age_seconds",
        "Seconds since the group's committed offsets last moved (0 while it is caught up).",
        &["group"],
    )
});

pub static DEAD_LETTER_RECORDS: LazyLock<IntGaugeVec> = LazyLock::new(|| {
    catalogue::int_gauge_vec(
        "lintas_dead_letter_records",
        "Records retained in a group's dead-letter topic.",
        &["group"],
    )
});

pub fn init() {
    LazyLock::force(&GROUP_STATUS);
    LazyLock::force(&GROUP_LAG);
    LazyLock::force(&GROUP_PROGRESS_AGE);
    LazyLock::force(&DEAD_LETTER_RECORDS);
}

pub fn set_status(group: &str, status: Status) {
    for s in Status::ALL {
        GROUP_STATUS
            .with_label_values(&[group, s.as_str()])
            .set(i64::from(s == status));
    }
}
