//! The two databases a subscriber runs on, for tests: the same scenario on in-memory SQLite
//! (what `lintas up` embeds) and on PostgreSQL (what a deployment runs), so a query that only
//! one dialect accepts fails a test, not a deployment.
//!
//! Write the scenario once as an `async fn` taking a [`Backend`], and name it in
//! [`on_both_stores!`](crate::on_both_stores): each name becomes a module with two tests,
//! `<name>::sqlite` and `<name>::postgresql`.
//!
//! ```
//! use lintas_kit::consumer::{Batch, Handler, HandlerError};
//! use lintas_kit::store::Migrations;
//! use lintas_kit::testing::{Backend, Harness};
//!
//! struct Nothing;
//! impl Handler for Nothing {
//!     async fn apply(&self, _: &mut Batch<'_>) -> Result<(), HandlerError> { Ok(()) }
//! }
//!
//! /// An empty feed leaves the table empty.
//! async fn an_empty_feed_writes_nothing(backend: Backend) {
//!     let migrations = Migrations::inline("CREATE TABLE seen (id TEXT PRIMARY KEY)").await;
//!     let mut harness = Harness::on(backend, Nothing, migrations).await;
//!     harness.apply(vec![]).await.unwrap();
//!     let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM seen")
//!         .fetch_one(harness.store().pool()).await.unwrap();
//!     assert_eq!(n, 0);
//! }
//!
//! // In a test file: `an_empty_feed_writes_nothing::sqlite` and `…::postgresql`.
//! lintas_kit::on_both_stores!(an_empty_feed_writes_nothing);
//! # fn main() { Backend::Sqlite.run(an_empty_feed_writes_nothing) }
//! ```
//!
//! PostgreSQL is the server of `LINTAS_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`, trust authentication); every harness gets a
//! fresh schema of its own, dropped with the harness. A PostgreSQL test **fails** when the
//! server cannot be reached, saying so: a missing database must not pass as a green suite.

use std::future::Future;

use sqlx::Connection;

use crate::store::{Migrations, Store};

/// The variable naming the PostgreSQL server of the tests.
pub const POSTGRES_URL_VARIABLE: &str = "LINTAS_TEST_POSTGRES_URL";

/// The server when the variable is not set: the local trust-authentication server of the
/// README and CI.
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// Test schemas are named `kit_test_<unix seconds>_<random>`; one left behind by a test that
/// panicked mid-transaction is dropped by a later run once it is this old.
const SCHEMA_PREFIX: &str = "kit_test_";
const STALE_AFTER_SECS: i64 = 3600;

/// Where a test harness keeps its views.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// A private in-memory SQLite database: no server needed.
    Sqlite,
    /// A fresh schema on the PostgreSQL server of [`POSTGRES_URL_VARIABLE`].
    Postgresql,
}

impl Backend {
    /// Both, SQLite first.
    pub const ALL: [Backend; 2] = [Backend::Sqlite, Backend::Postgresql];

    /// Runs `scenario` on this backend in a runtime of its own, as `#[tokio::test]` would:
    /// what the tests [`on_both_stores!`](crate::on_both_stores) writes call.
    pub fn run<F, Fut>(self, scenario: F)
    where
        F: FnOnce(Backend) -> Fut,
        Fut: Future<Output = ()>,
    {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a test runtime")
            .block_on(scenario(self));
    }

    /// A fresh store on this backend with `migrations` applied, and for PostgreSQL the guard
    /// that drops its schema.
    ///
    /// # Panics
    /// When PostgreSQL cannot be reached or a migration fails, naming the server.
    pub(crate) async fn store(self, migrations: Migrations) -> (Store, Option<SchemaGuard>) {
        match self {
            Backend::Sqlite => {
                let store = Store::connect("sqlite::memory:", "test")
                    .await
                    .expect("an in-memory SQLite database");
                store
                    .migrate(migrations)
                    .await
                    .expect("the migrations apply on SQLite");
                (store, None)
            }
            Backend::Postgresql => {
                let (store, guard) = postgres_store(&postgres_url(), migrations).await;
                (store, Some(guard))
            }
        }
    }
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgresql => "postgresql",
        })
    }
}

/// A fresh schema on the PostgreSQL server at `url`, migrated, and the guard that drops it.
async fn postgres_store(url: &str, migrations: Migrations) -> (Store, SchemaGuard) {
    // One attempt, no pool: a pool retries a refused connection for its whole acquire
    // timeout, and a missing server should fail the test at once.
    sqlx::any::install_default_drivers();
    let probe = sqlx::AnyConnection::connect(url).await.unwrap_or_else(|e| {
        panic!(
            "PostgreSQL for the tests is not reachable at {url} ({e}). Start it (trust \
             authentication, database `test`) or point {POSTGRES_URL_VARIABLE} at one."
        )
    });
    sweep_stale_schemas(url, probe).await;
    let schema = format!(
        "{SCHEMA_PREFIX}{}_{}",
        time::OffsetDateTime::now_utc().unix_timestamp(),
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    );
    // The guard exists before the schema does: a failed migration drops it too.
    let guard = SchemaGuard {
        url: url.into(),
        schema: schema.clone(),
    };
    let store = Store::connect(url, &schema)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {url} refused a test schema: {e}"));
    store
        .migrate(migrations)
        .await
        .unwrap_or_else(|e| panic!("the migrations fail on PostgreSQL: {e}"));
    (store, guard)
}

/// The tests' PostgreSQL server: [`POSTGRES_URL_VARIABLE`] or [`DEFAULT_POSTGRES_URL`].
pub fn postgres_url() -> String {
    std::env::var(POSTGRES_URL_VARIABLE).unwrap_or_else(|_| DEFAULT_POSTGRES_URL.into())
}

/// Drops a test schema when the harness holding it is dropped.
#[derive(Debug)]
pub(crate) struct SchemaGuard {
    url: String,
    schema: String,
}

impl Drop for SchemaGuard {
    fn drop(&mut self) {
        let (url, schema) = (self.url.clone(), self.schema.clone());
        // Drop cannot await, and the test's own runtime is the one calling it: a thread with
        // a runtime of its own drops the schema.
        let dropping = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(runtime) = runtime {
                runtime.block_on(drop_schema(&url, &schema));
            }
        });
        // A test panicking mid-transaction still holds its locks until its runtime closes the
        // connection, after this returns: waiting would only time out. Left to finish alone
        // (or to a later run's sweep).
        if !std::thread::panicking() {
            let _ = dropping.join();
        }
    }
}

async fn drop_schema(url: &str, schema: &str) {
    let Ok(mut conn) = sqlx::AnyConnection::connect(url).await else {
        return;
    };
    let _ = sqlx::query("SET lock_timeout = '10s'")
        .execute(&mut conn)
        .await;
    let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .execute(&mut conn)
        .await;
    let _ = conn.close().await;
}

/// Drops the test schemas older than an hour, once per test process; closes `conn`.
async fn sweep_stale_schemas(url: &str, mut conn: sqlx::AnyConnection) {
    static SWEPT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    let names: Vec<String> = if SWEPT.swap(true, std::sync::atomic::Ordering::SeqCst) {
        Vec::new()
    } else {
        sqlx::query_scalar(
            "SELECT nspname::text FROM pg_namespace WHERE starts_with(nspname::text, $1)",
        )
        .bind(SCHEMA_PREFIX)
        .fetch_all(&mut conn)
        .await
        .unwrap_or_default()
    };
    let _ = conn.close().await;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    for name in names {
        let created = name
            .strip_prefix(SCHEMA_PREFIX)
            .and_then(|rest| rest.split('_').next())
            .and_then(|secs| secs.parse::<i64>().ok());
        if created.is_some_and(|created| now - created > STALE_AFTER_SECS) {
            drop_schema(url, &name).await;
        }
    }
}

/// Turns each named scenario, an `async fn(Backend)`, into two tests: `<name>::sqlite` and
/// `<name>::postgresql` (see [`testing::backend`](crate::testing::backend)). A scenario not
/// named is an unused function, which the compiler reports.
#[macro_export]
macro_rules! on_both_stores {
    ($($scenario:ident),+ $(,)?) => {$(
        mod $scenario {
            #[test]
            fn sqlite() {
                $crate::testing::Backend::Sqlite.run(super::$scenario)
            }

            #[test]
            fn postgresql() {
                $crate::testing::Backend::Postgresql.run(super::$scenario)
            }
        }
    )+};
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consumer::{Batch, Handler, HandlerError};
    use crate::testing::Harness;

    /// Applies nothing.
    struct Nothing;

    impl Handler for Nothing {
        async fn apply(&self, _: &mut Batch<'_>) -> Result<(), HandlerError> {
            Ok(())
        }
    }

    /// A PostgreSQL test without a server fails (it never passes silently), naming where it
    /// looked and the variable that says where to look.
    #[tokio::test]
    #[should_panic(
        expected = "PostgreSQL for the tests is not reachable at postgres://postgres@127.0.0.1:1/test"
    )]
    async fn an_unreachable_postgresql_fails_the_test_saying_where() {
        let migrations = Migrations::inline("SELECT 1").await;
        postgres_store("postgres://postgres@127.0.0.1:1/test", migrations).await;
    }

    /// Each harness on PostgreSQL has a schema of its own, with the migrations applied, and
    /// the schema is gone once the harness is dropped.
    #[test]
    fn a_postgresql_harness_has_its_own_schema_dropped_with_it() {
        Backend::Postgresql.run(|backend| async move {
            let table = "CREATE TABLE seen (id TEXT PRIMARY KEY)";
            let first = Harness::on(backend, Nothing, Migrations::inline(table).await).await;
            let second = Harness::on(backend, Nothing, Migrations::inline(table).await).await;
            let schema = first.store().schema().to_string();
            assert_ne!(schema, second.store().schema());
            sqlx::query("INSERT INTO seen (id) VALUES ('a')")
                .execute(first.store().pool())
                .await
                .unwrap();
            let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM seen")
                .fetch_one(second.store().pool())
                .await
                .unwrap();
            assert_eq!(n, 0, "the second harness sees the first one's rows");
            drop(first);
            let pool = sqlx::AnyPool::connect(&postgres_url()).await.unwrap();
            let left: Option<String> =
                sqlx::query_scalar("SELECT nspname::text FROM pg_namespace WHERE nspname = $1")
                    .bind(&schema)
                    .fetch_optional(&pool)
                    .await
                    .unwrap();
            assert_eq!(left, None, "the schema outlived its harness");
        });
    }
}
