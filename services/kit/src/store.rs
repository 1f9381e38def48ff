//! The subscriber's database: sqlx `Any` over PostgreSQL or SQLite, so one handler runs on the
//! embedded default and on a production server. Each service owns a PostgreSQL schema (or its
//! own SQLite file), so agencies never share tables and migrations never collide.
//!
//! SQL written for a store must run on both: `$1` placeholders, `INSERT .. ON CONFLICT`,
//! `BIGINT`/`TEXT`, times as epoch milliseconds.

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Executor};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Postgres,
    Sqlite,
}

/// A service's migrations for both dialects, usually `sqlx::migrate!("./migrations/postgres")`
/// and `sqlx::migrate!("./migrations/sqlite")`. Versions below 1000 are reserved for the kit's
/// own tables; use timestamps (the sqlx default) for yours.
pub struct Migrations {
    pub postgres: Migrator,
    pub sqlite: Migrator,
}

impl Migrations {
    /// One migration written in SQL that runs on both dialects (version 1000), for tests and
    /// small services.
    pub async fn inline(sql: &'static str) -> Migrations {
        Migrations {
            postgres: Migrator::new(Inline(sql))
                .await
                .expect("an inline source always resolves"),
            sqlite: Migrator::new(Inline(sql))
                .await
                .expect("an inline source always resolves"),
        }
    }
}

type MigrationsFuture = std::pin::Pin<
    Box<
        dyn std::future::Future<
                Output = Result<Vec<sqlx::migrate::Migration>, sqlx::error::BoxDynError>,
            > + Send,
    >,
>;

/// A migration source holding one SQL text.
#[derive(Debug)]
struct Inline(&'static str);

impl sqlx::migrate::MigrationSource<'static> for Inline {
    fn resolve(self) -> MigrationsFuture {
        Box::pin(async move {
            Ok(vec![sqlx::migrate::Migration::new(
                1000,
                std::borrow::Cow::Borrowed("inline"),
                sqlx::migrate::MigrationType::Simple,
                std::borrow::Cow::Borrowed(self.0),
                false,
            )])
        })
    }
}

#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    dialect: Dialect,
    schema: String,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported database url `{0}`: use postgres://... or sqlite://...")]
    UnsupportedUrl(String),
    #[error("invalid schema name `{0}`: use lowercase letters, digits and _")]
    InvalidSchema(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl Store {
    /// Connects to `url` inside the service's own `schema` (PostgreSQL) or own file (SQLite:
    /// `sqlite://data/lintas.db` with schema `imigrasi` opens `data/lintas.imigrasi.db`), and
    /// creates the kit's tables (consumer offsets, outbox, time-based deadlines).
    pub async fn connect(url: &str, schema: &str) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        if schema.is_empty()
            || !schema
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            return Err(StoreError::InvalidSchema(schema.into()));
        }
        let (dialect, pool) = if url.starts_with("postgres://") || url.starts_with("postgresql://")
        {
            let setup = AnyPoolOptions::new()
                .max_connections(1)
                .connect(url)
                .await?;
            // A service's own role owns its schema (deploy/postgres/init-roles.sh) and may not
            // create schemas: only create it where it is missing (a development database).
            let exists: Option<String> =
                sqlx::query_scalar("SELECT nspname::text FROM pg_namespace WHERE nspname = $1")
                    .bind(schema)
                    .fetch_optional(&setup)
                    .await?;
            if exists.is_none() {
                setup
                    .execute(format!("CREATE SCHEMA IF NOT EXISTS {schema}").as_str())
                    .await?;
            }
            setup.close().await;
            let search_path = format!("SET search_path TO {schema}");
            let pool = AnyPoolOptions::new()
                .max_connections(8)
                .acquire_timeout(Duration::from_secs(10))
                .after_connect(move |conn, _| {
                    let search_path = search_path.clone();
                    Box::pin(async move {
                        conn.execute(search_path.as_str()).await?;
                        Ok(())
                    })
                })
                .connect(url)
                .await?;
            (Dialect::Postgres, pool)
        } else if let Some(rest) = url.strip_prefix("sqlite:") {
            let file_url = sqlite_file_for_schema(rest, schema);
            let options = AnyConnectOptions::from_str(&file_url)?;
            // An in-memory database lives in one connection; a file is shared by a few.
            let in_memory = file_url == "sqlite::memory:";
            let pool = AnyPoolOptions::new()
                // One writer at a time is SQLite's model; readers share the WAL.
                .max_connections(if in_memory { 1 } else { 4 })
                .idle_timeout(if in_memory {
                    None
                } else {
                    Some(Duration::from_secs(600))
                })
                .max_lifetime(if in_memory {
                    None
                } else {
                    Some(Duration::from_secs(1800))
                })
                .acquire_timeout(Duration::from_secs(30))
                .after_connect(|conn, _| {
                    Box::pin(async move {
                        conn.execute("PRAGMA journal_mode=WAL").await?;
                        conn.execute("PRAGMA busy_timeout=10000").await?;
                        conn.execute("PRAGMA synchronous=NORMAL").await?;
                        Ok(())
                    })
                })
                .connect_with(options)
                .await?;
            (Dialect::Sqlite, pool)
        } else {
            return Err(StoreError::UnsupportedUrl(url.into()));
        };
        let store = Store {
            pool,
            dialect,
            schema: schema.into(),
        };
        store
            .migrate(Migrations {
                postgres: sqlx::migrate!("./migrations/postgres"),
                sqlite: sqlx::migrate!("./migrations/sqlite"),
            })
            .await?;
        Ok(store)
    }

    /// Runs a service's own migrations, in the dialect of this store.
    pub async fn migrate(&self, migrations: Migrations) -> Result<(), StoreError> {
        let mut migrator = match self.dialect {
            Dialect::Postgres => migrations.postgres,
            Dialect::Sqlite => migrations.sqlite,
        };
        // The kit's and the service's migrations share one history table; each must tolerate
        // the other's rows.
        migrator.set_ignore_missing(true);
        migrator.run(&self.pool).await?;
        Ok(())
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// Cheap liveness probe of the database, for `/readyz`.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
    }
}

fn sqlite_file_for_schema(rest: &str, schema: &str) -> String {
    let rest = rest.trim_start_matches("//");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path == ":memory:" || path.is_empty() {
        return "sqlite::memory:".into();
    }
    let file = match path.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && !ext.contains('/') => {
            format!("{stem}.{schema}.{ext}")
        }
        _ => format!("{path}.{schema}.db"),
    };
    let query = if query.is_empty() {
        "mode=rwc".to_string()
    } else {
        query.to_string()
    };
    format!("sqlite://{file}?{query}")
}

#[cfg(test)]
mod tests {
    use super::sqlite_file_for_schema;

    #[test]
    fn each_service_gets_its_own_sqlite_file() {
        assert_eq!(
            sqlite_file_for_schema("//data/lintas.db", "imigrasi"),
            "sqlite://data/lintas.imigrasi.db?mode=rwc"
        );
        assert_eq!(
            sqlite_file_for_schema("data/lintas", "registry"),
            "sqlite://data/lintas.registry.db?mode=rwc"
        );
    }
}
