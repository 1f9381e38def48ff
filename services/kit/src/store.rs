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
    #[error("{file} holds the views of `{owner}`, not `{schema}`: give each service its own file, or a folder (sqlite://data/) for one file per service")]
    FileOfAnother {
        file: String,
        owner: String,
        schema: String,
    },
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl Store {
    /// Connects to `url` inside the service's own `schema` (PostgreSQL), or its own file
    /// (SQLite), and creates the kit's tables (consumer offsets, outbox, deadlines).
    ///
    /// SQLite has no schemas, so each service needs a file of its own:
    /// - `sqlite://data/views.db` is exactly the file `data/views.db`; it belongs to the first
    ///   schema that opens it, and another schema is refused ([`StoreError::FileOfAnother`]),
    ///   since two services' offsets and outboxes in one file would mix;
    /// - `sqlite://data/` (a folder: ends in `/`) gives each schema `data/<schema>.db`, for
    ///   running several services from one setting (`lintas up`);
    /// - `sqlite::memory:` is a private in-memory database.
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
            if !in_memory {
                claim_sqlite_file(&pool, &file_url, schema).await?;
            }
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

/// The SQLite url of `schema`'s file: the file named, or `<folder>/<schema>.db` when the url
/// names a folder (ends in `/`). Opened read-write, created when missing.
fn sqlite_file_for_schema(rest: &str, schema: &str) -> String {
    let rest = rest.trim_start_matches("//");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path == ":memory:" || path.is_empty() {
        return "sqlite::memory:".into();
    }
    let file = if path.ends_with('/') {
        format!("{path}{schema}.db")
    } else {
        path.to_string()
    };
    let query = if query.is_empty() {
        "mode=rwc".to_string()
    } else {
        query.to_string()
    };
    format!("sqlite://{file}?{query}")
}

/// Marks a SQLite file as `schema`'s, or refuses it when another schema's views are in it.
async fn claim_sqlite_file(pool: &AnyPool, file_url: &str, schema: &str) -> Result<(), StoreError> {
    pool.execute(
        "CREATE TABLE IF NOT EXISTS lintas_store_owner \
         (singleton INTEGER PRIMARY KEY CHECK (singleton = 1), schema_name TEXT NOT NULL)",
    )
    .await?;
    sqlx::query("INSERT INTO lintas_store_owner (singleton, schema_name) VALUES (1, $1) ON CONFLICT (singleton) DO NOTHING")
        .bind(schema)
        .execute(pool)
        .await?;
    let owner: String = sqlx::query_scalar("SELECT schema_name FROM lintas_store_owner")
        .fetch_one(pool)
        .await?;
    if owner == schema {
        return Ok(());
    }
    let file = file_url.trim_start_matches("sqlite://");
    Err(StoreError::FileOfAnother {
        file: file.split('?').next().unwrap_or(file).to_string(),
        owner,
        schema: schema.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::{sqlite_file_for_schema, Store};

    /// The file a user names is the file the data is in; a folder gives one file per service.
    #[test]
    fn a_named_file_is_used_as_named_and_a_folder_holds_one_file_per_service() {
        assert_eq!(
            sqlite_file_for_schema("//checkpoint_blocks.db", "checkpoint_blocks"),
            "sqlite://checkpoint_blocks.db?mode=rwc"
        );
        assert_eq!(
            sqlite_file_for_schema("//data/", "imigrasi"),
            "sqlite://data/imigrasi.db?mode=rwc"
        );
        assert_eq!(
            sqlite_file_for_schema("data/views.db?mode=ro", "registry"),
            "sqlite://data/views.db?mode=ro"
        );
    }

    /// A second service pointed at a file that holds another's views is refused, naming both,
    /// instead of mixing offsets and outboxes; the owner reopens it.
    #[tokio::test]
    async fn a_sqlite_file_serves_one_schema() {
        let dir =
            std::env::temp_dir().join(format!("lintas-store-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}/views.db", dir.display());
        let first = Store::connect(&url, "checkpoints").await.unwrap();
        first.pool().close().await;
        let refused = Store::connect(&url, "other").await.expect_err("refused");
        let message = refused.to_string();
        assert!(
            message.contains("`checkpoints`") && message.contains("`other`"),
            "{message}"
        );
        assert!(dir.join("views.db").is_file());
        Store::connect(&url, "checkpoints").await.unwrap();
        let folder = format!("sqlite://{}/", dir.display());
        Store::connect(&folder, "other").await.unwrap();
        assert!(dir.join("other.db").is_file());
        std::fs::remove_dir_all(&dir).ok();
    }
}
