//! SQL behind the DEK Registry, on the same conventions as `crate::store`: `$n`
//! placeholders, BIGINT 0/1 booleans, JSON as TEXT, every column `i64` or `String`.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::error::RegistryError;

type Result<T> = std::result::Result<T, RegistryError>;

/// A key-encryption key *reference*: which KMS key wraps the DEKs, never the key itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KekRow {
    pub name: String,
    pub kms_type: String,
    pub kms_key_id: String,
    /// JSON object of strings, canonical (sorted) text.
    pub kms_props: String,
    pub doc: Option<String>,
    /// Epoch ms of the last change.
    pub ts: i64,
    pub deleted: bool,
}

impl KekRow {
    /// Same definition, whatever the timestamps and deletion state.
    pub fn same_key(&self, other: &KekRow) -> bool {
        (
            &self.name,
            &self.kms_type,
            &self.kms_key_id,
            &self.kms_props,
            &self.doc,
        ) == (
            &other.name,
            &other.kms_type,
            &other.kms_key_id,
            &other.kms_props,
            &other.doc,
        )
    }
}

/// One DEK version, wrapped (encrypted) under its KEK by the client that made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DekRow {
    pub kek_name: String,
    pub subject: String,
    pub algorithm: String,
    pub version: i64,
    pub encrypted_key_material: String,
    /// Epoch ms of creation; clients rotate DEKs older than their expiry by it.
    pub ts: i64,
    pub deleted: bool,
}

const KEK_COLUMNS: &str = "name, kms_type, kms_key_id, kms_props, doc, ts, deleted";
const DEK_COLUMNS: &str =
    "kek_name, subject, algorithm, version, encrypted_key_material, ts, deleted";

fn kek_row(r: &AnyRow) -> Result<KekRow> {
    Ok(KekRow {
        name: r.try_get(0)?,
        kms_type: r.try_get(1)?,
        kms_key_id: r.try_get(2)?,
        kms_props: r.try_get(3)?,
        doc: r.try_get(4)?,
        ts: r.try_get(5)?,
        deleted: r.try_get::<i64, _>(6)? != 0,
    })
}

fn dek_row(r: &AnyRow) -> Result<DekRow> {
    Ok(DekRow {
        kek_name: r.try_get(0)?,
        subject: r.try_get(1)?,
        algorithm: r.try_get(2)?,
        version: r.try_get(3)?,
        encrypted_key_material: r.try_get(4)?,
        ts: r.try_get(5)?,
        deleted: r.try_get::<i64, _>(6)? != 0,
    })
}

fn strings(rows: &[AnyRow]) -> Result<Vec<String>> {
    Ok(rows
        .iter()
        .map(|r| r.try_get(0))
        .collect::<std::result::Result<_, _>>()?)
}

pub(crate) async fn kek(conn: &mut AnyConnection, name: &str) -> Result<Option<KekRow>> {
    let sql = format!("SELECT {KEK_COLUMNS} FROM keks WHERE name = $1");
    let row = sqlx::query(&sql).bind(name).fetch_optional(conn).await?;
    row.as_ref().map(kek_row).transpose()
}

pub(crate) async fn kek_names(
    conn: &mut AnyConnection,
    include_deleted: bool,
) -> Result<Vec<String>> {
    let rows = sqlx::query("SELECT name FROM keks WHERE deleted = 0 OR $1 = 1 ORDER BY name")
        .bind(i64::from(include_deleted))
        .fetch_all(conn)
        .await?;
    strings(&rows)
}

/// Inserts `kek` unless the name is taken; whether it was inserted.
pub(crate) async fn insert_kek(conn: &mut AnyConnection, kek: &KekRow) -> Result<bool> {
    let result = sqlx::query(
        "INSERT INTO keks (name, kms_type, kms_key_id, kms_props, doc, ts, deleted) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (name) DO NOTHING",
    )
    .bind(&kek.name)
    .bind(&kek.kms_type)
    .bind(&kek.kms_key_id)
    .bind(&kek.kms_props)
    .bind(kek.doc.as_deref())
    .bind(kek.ts)
    .bind(i64::from(kek.deleted))
    .execute(conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

pub(crate) async fn update_kek(conn: &mut AnyConnection, kek: &KekRow) -> Result<()> {
    sqlx::query("UPDATE keks SET kms_props = $2, doc = $3, ts = $4, deleted = $5 WHERE name = $1")
        .bind(&kek.name)
        .bind(&kek.kms_props)
        .bind(kek.doc.as_deref())
        .bind(kek.ts)
        .bind(i64::from(kek.deleted))
        .execute(conn)
        .await?;
    Ok(())
}

/// Removes a soft-deleted KEK; how many rows went.
pub(crate) async fn delete_kek(conn: &mut AnyConnection, name: &str) -> Result<u64> {
    let result = sqlx::query("DELETE FROM keks WHERE name = $1 AND deleted = 1")
        .bind(name)
        .execute(conn)
        .await?;
    Ok(result.rows_affected())
}

/// DEKs under `kek` (any subject, algorithm, version); soft-deleted ones only on request.
pub(crate) async fn dek_count(
    conn: &mut AnyConnection,
    kek: &str,
    include_deleted: bool,
) -> Result<i64> {
    let row =
        sqlx::query("SELECT COUNT(*) FROM deks WHERE kek_name = $1 AND (deleted = 0 OR $2 = 1)")
            .bind(kek)
            .bind(i64::from(include_deleted))
            .fetch_one(conn)
            .await?;
    Ok(row.try_get(0)?)
}

pub(crate) async fn dek_subjects(
    conn: &mut AnyConnection,
    kek: &str,
    include_deleted: bool,
) -> Result<Vec<String>> {
    let rows = sqlx::query(
        "SELECT DISTINCT subject FROM deks WHERE kek_name = $1 AND (deleted = 0 OR $2 = 1) \
         ORDER BY subject",
    )
    .bind(kek)
    .bind(i64::from(include_deleted))
    .fetch_all(conn)
    .await?;
    strings(&rows)
}

/// Every version of one DEK, soft-deleted ones included, oldest first.
pub(crate) async fn dek_versions(
    conn: &mut AnyConnection,
    kek: &str,
    subject: &str,
    algorithm: &str,
) -> Result<Vec<DekRow>> {
    let sql = format!(
        "SELECT {DEK_COLUMNS} FROM deks WHERE kek_name = $1 AND subject = $2 AND algorithm = $3 \
         ORDER BY version"
    );
    let rows = sqlx::query(&sql)
        .bind(kek)
        .bind(subject)
        .bind(algorithm)
        .fetch_all(conn)
        .await?;
    rows.iter().map(dek_row).collect()
}

/// Inserts `dek` unless that version exists; whether it was inserted.
pub(crate) async fn insert_dek(conn: &mut AnyConnection, dek: &DekRow) -> Result<bool> {
    let result = sqlx::query(
        "INSERT INTO deks (kek_name, subject, algorithm, version, encrypted_key_material, ts, \
         deleted) VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (kek_name, subject, algorithm, version) DO NOTHING",
    )
    .bind(&dek.kek_name)
    .bind(&dek.subject)
    .bind(&dek.algorithm)
    .bind(dek.version)
    .bind(&dek.encrypted_key_material)
    .bind(dek.ts)
    .bind(i64::from(dek.deleted))
    .execute(conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Sets the deletion flag of one version, or of all versions when `version` is None.
/// The creation timestamp stays: clients date DEK rotation from it.
pub(crate) async fn set_deks_deleted(
    conn: &mut AnyConnection,
    dek: (&str, &str, &str),
    version: Option<i64>,
    deleted: bool,
) -> Result<u64> {
    let (kek, subject, algorithm) = dek;
    let result = sqlx::query(
        "UPDATE deks SET deleted = $5 \
         WHERE kek_name = $1 AND subject = $2 AND algorithm = $3 AND (version = $4 OR $4 = 0)",
    )
    .bind(kek)
    .bind(subject)
    .bind(algorithm)
    .bind(version.unwrap_or(0))
    .bind(i64::from(deleted))
    .execute(conn)
    .await?;
    Ok(result.rows_affected())
}

/// Permanently removes soft-deleted versions (one, or all when `version` is None): the
/// crypto-shredding step. On SQLite `secure_delete` makes the freed pages zeroed rather
/// than left holding the wrapped key.
pub(crate) async fn delete_deks(
    conn: &mut AnyConnection,
    dek: (&str, &str, &str),
    version: Option<i64>,
) -> Result<u64> {
    let (kek, subject, algorithm) = dek;
    if conn.backend_name() == "SQLite" {
        sqlx::query("PRAGMA secure_delete = ON")
            .execute(&mut *conn)
            .await?;
    }
    let result = sqlx::query(
        "DELETE FROM deks WHERE kek_name = $1 AND subject = $2 AND algorithm = $3 \
         AND deleted = 1 AND (version = $4 OR $4 = 0)",
    )
    .bind(kek)
    .bind(subject)
    .bind(algorithm)
    .bind(version.unwrap_or(0))
    .execute(conn)
    .await?;
    Ok(result.rows_affected())
}

/// After a permanent delete on SQLite in WAL mode, copies the zeroed pages into the
/// database file and truncates the WAL, whose older frames still hold the deleted rows.
/// Best effort: with readers active the checkpoint is partial and the frames are
/// overwritten later. (PostgreSQL keeps dead tuples until VACUUM, and its WAL and
/// backups keep them longer: operators must expire those too.)
pub(crate) async fn flush_deleted(pool: &sqlx::AnyPool) {
    let mut conn = match pool.acquire().await {
        Ok(conn) => conn,
        Err(e) => {
            return tracing::warn!(error = %e, "no connection to checkpoint after a DEK delete")
        }
    };
    if conn.backend_name() != "SQLite" {
        return;
    }
    if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&mut *conn)
        .await
    {
        tracing::warn!(error = %e, "WAL checkpoint after a DEK delete failed");
    }
}
