//! The database: a fresh PostgreSQL database per test, and dumps of a schema's rows.

/// A fresh PostgreSQL database; $LINTAS_TEST_POSTGRES_URL points at the server (default:
/// the local trust-auth server, database `test`).
pub async fn fresh_database() -> String {
    let admin = std::env::var("LINTAS_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let name = format!("lintas_test_{}", uuid::Uuid::new_v4().simple());
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&admin)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {admin} is needed: {e}"));
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let (base, _) = admin.rsplit_once('/').unwrap();
    format!("{base}/{name}")
}

pub async fn pg(database_url: &str) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    sqlx::AnyPool::connect(database_url).await.unwrap()
}

/// Tables every schema dump leaves out: the runtime's bookkeeping, not views.
pub const BOOKKEEPING: [&str; 3] = ["lintas_offsets", "lintas_outbox", "_sqlx_migrations"];

/// Every table of a PostgreSQL schema but `skip`, as sorted JSON rows: two dumps are equal
/// exactly when the tables hold the same rows.
pub async fn schema_rows(
    database: &str,
    schema: &str,
    skip: &[&str],
) -> std::collections::BTreeMap<String, Vec<String>> {
    use sqlx::Row;
    let pool = pg(database).await;
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1",
    )
    .bind(schema)
    .fetch_all(&pool)
    .await
    .unwrap();
    let mut out = std::collections::BTreeMap::new();
    for table in tables.into_iter().filter(|t| !skip.contains(&t.as_str())) {
        let rows = sqlx::query(&format!(
            "SELECT row_to_json(t)::text FROM {schema}.{table} t"
        ))
        .fetch_all(&pool)
        .await
        .unwrap();
        let mut rows: Vec<String> = rows.iter().map(|r| r.get::<String, _>(0)).collect();
        rows.sort();
        out.insert(table, rows);
    }
    pool.close().await;
    out
}

/// Drops `schema` and everything in it: a subscriber's views and offsets, for a rebuild from
/// the topics.
pub async fn drop_schema(database: &str, schema: &str) {
    let pool = pg(database).await;
    sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
}
