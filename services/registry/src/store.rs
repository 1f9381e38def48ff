//! SQL behind the registry. Written once for the sqlx `Any` driver, so every
//! statement sticks to what PostgreSQL and SQLite both accept and every column
//! decodes as `i64` or `String`.

use sqlx::{AnyConnection, AnyPool, Row};

use crate::error::RegistryError;
use crate::references::Reference;
use crate::schema::ParsedSchema;

type Result<T> = std::result::Result<T, RegistryError>;

/// One version of a subject, joined with its schema.
#[derive(Debug, Clone)]
pub(crate) struct VersionRow {
    pub version: i64,
    pub schema_id: i64,
    pub deleted: bool,
    pub fingerprint: String,
    pub text: String,
    /// Canonical JSON of the data contract, when the schema has one.
    pub metadata: Option<String>,
    pub rule_set: Option<String>,
    pub references: Vec<Reference>,
}

/// A schema by id: its text and data contract.
#[derive(Debug, Clone)]
pub(crate) struct SchemaRow {
    pub text: String,
    pub metadata: Option<String>,
    pub rule_set: Option<String>,
    pub references: Vec<Reference>,
}

pub(crate) async fn migrate(pool: &AnyPool) -> Result<()> {
    let backend = pool.acquire().await?.backend_name().to_owned();
    let mut migrator = match backend.as_str() {
        "PostgreSQL" => sqlx::migrate!("./migrations/postgres"),
        "SQLite" => sqlx::migrate!("./migrations/sqlite"),
        other => return Err(RegistryError::UnsupportedBackend(other.to_owned())),
    };
    // The pool may come from the kit's store, whose own runtime tables share the migration
    // history table.
    migrator.set_ignore_missing(true);
    migrator.run(pool).await?;
    Ok(())
}

/// Whether a failed write should simply be retried: another registration won
/// the race for the same version number, or the database asked us to retry.
pub(crate) fn is_write_conflict(err: &RegistryError) -> bool {
    let RegistryError::Database(sqlx::Error::Database(db)) = err else {
        return false;
    };
    db.is_unique_violation()
        || matches!(
            db.code().as_deref(),
            // PostgreSQL serialization failure / deadlock; SQLite BUSY / BUSY_SNAPSHOT.
            Some("40001" | "40P01" | "5" | "517")
        )
}

/// All versions of `subject`, soft-deleted ones included, oldest first.
pub(crate) async fn subject_versions(
    conn: &mut AnyConnection,
    subject: &str,
) -> Result<Vec<VersionRow>> {
    let rows = sqlx::query(
        "SELECT v.version, v.schema_id, v.deleted, s.fingerprint, s.schema_text, \
         s.metadata, s.rule_set FROM subject_versions v JOIN schemas s ON s.id = v.schema_id \
         WHERE v.subject = $1 ORDER BY v.version",
    )
    .bind(subject)
    .fetch_all(&mut *conn)
    .await?;
    let mut versions = Vec::with_capacity(rows.len());
    for r in &rows {
        let schema_id = r.try_get(1)?;
        versions.push(VersionRow {
            version: r.try_get(0)?,
            schema_id,
            deleted: r.try_get::<i64, _>(2)? != 0,
            fingerprint: r.try_get(3)?,
            text: r.try_get(4)?,
            metadata: r.try_get(5)?,
            rule_set: r.try_get(6)?,
            references: references_of(&mut *conn, schema_id).await?,
        });
    }
    Ok(versions)
}

/// The references of schema `schema_id`, in the order they were registered.
pub(crate) async fn references_of(
    conn: &mut AnyConnection,
    schema_id: i64,
) -> Result<Vec<Reference>> {
    let rows = sqlx::query(
        "SELECT name, subject, version FROM schema_references \
         WHERE schema_id = $1 ORDER BY ordinal",
    )
    .bind(schema_id)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Reference {
                name: r.try_get(0)?,
                subject: r.try_get(1)?,
                version: r.try_get(2)?,
            })
        })
        .collect()
}

/// The text and references of a live version, for resolving a reference to it.
pub(crate) async fn live_version_text(
    conn: &mut AnyConnection,
    subject: &str,
    version: i64,
) -> Result<Option<(String, Vec<Reference>)>> {
    let row = sqlx::query(
        "SELECT s.id, s.schema_text FROM subject_versions v JOIN schemas s ON s.id = v.schema_id \
         WHERE v.subject = $1 AND v.version = $2 AND v.deleted = 0",
    )
    .bind(subject)
    .bind(version)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(r) = row else { return Ok(None) };
    let id: i64 = r.try_get(0)?;
    Ok(Some((r.try_get(1)?, references_of(conn, id).await?)))
}

/// Ids of the schemas that refer to `subject` (one version, or any with `None`) and are
/// registered under some subject: by a live version, or also by a soft-deleted one with
/// `include_deleted` (a permanent delete must not leave those unreadable).
pub(crate) async fn referenced_by(
    pool: &AnyPool,
    subject: &str,
    version: Option<i64>,
    include_deleted: bool,
) -> Result<Vec<i64>> {
    let rows = sqlx::query(
        "SELECT DISTINCT r.schema_id FROM schema_references r \
         WHERE r.subject = $1 AND (r.version = $2 OR $2 = 0) \
         AND EXISTS (SELECT 1 FROM subject_versions v \
                     WHERE v.schema_id = r.schema_id AND (v.deleted = 0 OR $3 = 1)) \
         ORDER BY r.schema_id",
    )
    .bind(subject)
    .bind(version.unwrap_or(0))
    .bind(i64::from(include_deleted))
    .fetch_all(pool)
    .await?;
    rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
}

/// Every version of subjects starting with `prefix`, for `GET /schemas`: (subject, version,
/// schema id, deleted), by subject then version.
pub(crate) async fn all_versions(
    pool: &AnyPool,
    prefix: &str,
    include_deleted: bool,
) -> Result<Vec<(String, i64, i64, bool)>> {
    // substr rather than LIKE: a prefix may hold `%` or `_`.
    let rows = sqlx::query(
        "SELECT subject, version, schema_id, deleted FROM subject_versions \
         WHERE substr(subject, 1, length($1)) = $1 AND (deleted = 0 OR $2 = 1) \
         ORDER BY subject, version",
    )
    .bind(prefix)
    .bind(i64::from(include_deleted))
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get(0)?,
                r.try_get(1)?,
                r.try_get(2)?,
                r.try_get::<i64, _>(3)? != 0,
            ))
        })
        .collect()
}

pub(crate) async fn subjects(pool: &AnyPool, include_deleted: bool) -> Result<Vec<String>> {
    let sql = if include_deleted {
        "SELECT DISTINCT subject FROM subject_versions ORDER BY subject"
    } else {
        "SELECT DISTINCT subject FROM subject_versions WHERE deleted = 0 ORDER BY subject"
    };
    let rows = sqlx::query(sql).fetch_all(pool).await?;
    Ok(rows
        .iter()
        .map(|r| r.try_get(0))
        .collect::<std::result::Result<_, _>>()?)
}

pub(crate) async fn schema_by_id(pool: &AnyPool, id: i64) -> Result<Option<SchemaRow>> {
    let row = sqlx::query("SELECT schema_text, metadata, rule_set FROM schemas WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await?;
    let Some(r) = row else { return Ok(None) };
    Ok(Some(SchemaRow {
        text: r.try_get(0)?,
        metadata: r.try_get(1)?,
        rule_set: r.try_get(2)?,
        references: references_of(&mut *pool.acquire().await?, id).await?,
    }))
}

pub(crate) async fn schema_usages(
    pool: &AnyPool,
    id: i64,
    include_deleted: bool,
) -> Result<Vec<(String, i64)>> {
    let rows = sqlx::query(
        "SELECT subject, version FROM subject_versions \
         WHERE schema_id = $1 AND (deleted = 0 OR $2 = 1) ORDER BY subject, version",
    )
    .bind(id)
    .bind(i64::from(include_deleted))
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect()
}

/// Returns the global id for `schema` (with its data contract), allocating one if
/// needed. The unique fingerprint makes concurrent registrations of the same text
/// converge on one id instead of racing a read-then-insert.
pub(crate) async fn ensure_schema(conn: &mut AnyConnection, schema: &ParsedSchema) -> Result<i64> {
    let inserted = sqlx::query(
        "INSERT INTO schemas (fingerprint, schema_type, schema_text, metadata, rule_set) \
         VALUES ($1, 'AVRO', $2, $3, $4) ON CONFLICT (fingerprint) DO NOTHING",
    )
    .bind(&schema.fingerprint)
    .bind(&schema.text)
    .bind(schema.metadata.stored())
    .bind(schema.rule_set.stored())
    .execute(&mut *conn)
    .await?
    .rows_affected();
    let row = sqlx::query("SELECT id FROM schemas WHERE fingerprint = $1")
        .bind(&schema.fingerprint)
        .fetch_one(&mut *conn)
        .await?;
    let id: i64 = row.try_get(0)?;
    // The references are part of the identity, so only the first registrant writes them.
    if inserted == 1 {
        for (ordinal, reference) in schema.references.iter().enumerate() {
            sqlx::query(
                "INSERT INTO schema_references (schema_id, ordinal, name, subject, version) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(id)
            .bind(ordinal as i64)
            .bind(&reference.name)
            .bind(&reference.subject)
            .bind(reference.version)
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(id)
}

pub(crate) async fn insert_version(
    conn: &mut AnyConnection,
    subject: &str,
    version: i64,
    schema_id: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO subject_versions (subject, version, schema_id, deleted) VALUES ($1, $2, $3, 0)",
    )
    .bind(subject)
    .bind(version)
    .bind(schema_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Soft-deletes one live version, or all live versions when `version` is None.
/// Returns how many rows changed.
pub(crate) async fn soft_delete(
    pool: &AnyPool,
    subject: &str,
    version: Option<i64>,
) -> Result<u64> {
    let result = sqlx::query(
        "UPDATE subject_versions SET deleted = 1 \
         WHERE subject = $1 AND deleted = 0 AND (version = $2 OR $2 = 0)",
    )
    .bind(subject)
    .bind(version.unwrap_or(0))
    .execute(pool)
    .await?;
    Ok(result.rows_affected())
}

/// Removes soft-deleted rows only, so a version registered concurrently with a
/// permanent delete survives it.
pub(crate) async fn hard_delete(
    pool: &AnyPool,
    subject: &str,
    version: Option<i64>,
) -> Result<u64> {
    let result = sqlx::query(
        "DELETE FROM subject_versions \
         WHERE subject = $1 AND deleted = 1 AND (version = $2 OR $2 = 0)",
    )
    .bind(subject)
    .bind(version.unwrap_or(0))
    .execute(pool)
    .await?;
    Ok(result.rows_affected())
}

pub(crate) async fn subject_level(
    conn: &mut AnyConnection,
    subject: &str,
) -> Result<Option<String>> {
    let row = sqlx::query("SELECT compatibility FROM subject_config WHERE subject = $1")
        .bind(subject)
        .fetch_optional(conn)
        .await?;
    Ok(row.map(|r| r.try_get(0)).transpose()?)
}

pub(crate) async fn set_subject_level(pool: &AnyPool, subject: &str, level: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO subject_config (subject, compatibility) VALUES ($1, $2) \
         ON CONFLICT (subject) DO UPDATE SET compatibility = excluded.compatibility",
    )
    .bind(subject)
    .bind(level)
    .execute(pool)
    .await?;
    Ok(())
}

pub(crate) async fn delete_subject_level(pool: &AnyPool, subject: &str) -> Result<()> {
    sqlx::query("DELETE FROM subject_config WHERE subject = $1")
        .bind(subject)
        .execute(pool)
        .await?;
    Ok(())
}

pub(crate) async fn global_level(conn: &mut AnyConnection) -> Result<Option<String>> {
    let row = sqlx::query("SELECT compatibility FROM global_config WHERE singleton = 1")
        .fetch_optional(conn)
        .await?;
    Ok(row.map(|r| r.try_get(0)).transpose()?)
}

pub(crate) async fn set_global_level(pool: &AnyPool, level: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO global_config (singleton, compatibility) VALUES (1, $1) \
         ON CONFLICT (singleton) DO UPDATE SET compatibility = excluded.compatibility",
    )
    .bind(level)
    .execute(pool)
    .await?;
    Ok(())
}
