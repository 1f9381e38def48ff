//! The immigration subscriber's view, read back: what tests of delivery (crashes, rebalances,
//! outages) assert once the feed is in.

/// Rows in the immigration subject history.
pub async fn imigrasi_applied(pool: &sqlx::AnyPool) -> i64 {
    sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM imigrasi.subject_history")
        .fetch_one(pool)
        .await
        .unwrap_or(0)
}

/// The immigration view holds exactly `expected` (applicant events), each applied once, and
/// the stored offsets account for every record of the applicants topic.
pub async fn assert_imigrasi_applied_once(
    pool: &sqlx::AnyPool,
    expected: &std::collections::HashSet<String>,
) {
    use sqlx::Row;
    let rows = sqlx::query("SELECT event_id, deliveries FROM imigrasi.subject_history")
        .fetch_all(pool)
        .await
        .unwrap();
    let ids: std::collections::HashSet<String> =
        rows.iter().map(|r| r.get::<String, _>(0)).collect();
    let deliveries: i64 = rows.iter().map(|r| r.get::<i32, _>(1) as i64).sum();
    assert_eq!(rows.len(), expected.len(), "rows in the view");
    assert_eq!(
        &ids, expected,
        "the view holds exactly the published events"
    );
    assert_eq!(
        deliveries,
        expected.len() as i64,
        "no event was applied twice"
    );
    let offsets: i64 = sqlx::query_scalar(
        "SELECT CAST(SUM(next_offset) AS BIGINT) FROM imigrasi.lintas_offsets WHERE topic = 'lintas.applicants.v1'",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(
        offsets,
        expected.len() as i64,
        "stored offsets account for every record"
    );
}
