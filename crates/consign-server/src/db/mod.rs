//! The database of uploads, through `sqlx`'s `Any` driver: SQLite (WAL) by
//! default, PostgreSQL for several servers sharing one. Every query is
//! written once, in SQL both understand (`$1` placeholders, `BIGINT`,
//! `TEXT`); migrations are embedded and run at start.
//!
//! State changes are compare-and-set on the `state` column
//! (`UPDATE … WHERE id = $1 AND state = $2`), so two servers completing or
//! reaping the same upload cannot both win.

mod group_commit;
mod record;

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};

pub use record::{UploadRecord, UploadState};

/// A pool of connections to the uploads database.
#[derive(Debug, Clone)]
pub struct Database {
    pool: AnyPool,
    inserts: group_commit::InsertQueue,
}

/// Which database is behind the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseKind {
    /// SQLite, one file.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// A database failure, with the operation that failed.
#[derive(Debug, Clone)]
pub struct DbError {
    operation: &'static str,
    cause: String,
}

impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "database: {} failed: {}", self.operation, self.cause)
    }
}

impl std::error::Error for DbError {}

fn failed(operation: &'static str) -> impl FnOnce(sqlx::Error) -> DbError {
    move |source| DbError { operation, cause: source.to_string() }
}

/// How long one verification or cleanup may hold an upload before another
/// server may take it over.
pub const LEASE_MS: i64 = 5 * 60 * 1000;

const COLUMNS: &str = "id, subject, profile, method, state, filename, content_type, declared_size, \
    checksum_algorithm, checksum, metadata, bucket, staging_key, final_key, multipart_upload_id, part_size, \
    part_count, created_at, expires_at, updated_at, lease_until, stored_size, detected_type, etag, reason, auto_complete";

/// What a finished verification writes.
#[derive(Debug, Clone, Default)]
pub struct Outcome<'a> {
    /// Why it was rejected (rejections only).
    pub reason: Option<&'a str>,
    /// The size found in storage.
    pub stored_size: Option<u64>,
    /// The type the first bytes show.
    pub detected_type: Option<&'a str>,
    /// The ETag of the stored object.
    pub etag: Option<&'a str>,
}

/// How much one subject holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// Uploads pending or being verified.
    pub pending: u64,
    /// Bytes granted or stored (pending, verifying and uploaded).
    pub bytes: u64,
}

impl Database {
    /// Connects to `url` (`sqlite://…` or `postgres://…`) and runs the migrations.
    ///
    /// # Errors
    /// A message naming what failed: the URL, the connection, a migration.
    pub async fn connect(url: &str) -> Result<Self, String> {
        sqlx::any::install_default_drivers();
        let kind = if url.starts_with("sqlite:") {
            DatabaseKind::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            DatabaseKind::Postgres
        } else {
            return Err("the database URL must start with sqlite:// or postgres://".to_owned());
        };
        if kind == DatabaseKind::Sqlite {
            create_sqlite_directory(url)?;
        }
        let connections = if kind == DatabaseKind::Sqlite { 8 } else { 16 };
        let pool = AnyPoolOptions::new()
            .max_connections(connections)
            .acquire_timeout(std::time::Duration::from_secs(10))
            // A ping before every use costs SQLite a round trip to its worker thread per query;
            // a broken connection is reported by the query itself.
            .test_before_acquire(false)
            .after_connect(move |connection, _| {
                Box::pin(async move {
                    if kind == DatabaseKind::Sqlite {
                        // Write-ahead log (sqlx leaves SQLite's rollback journal unless told):
                        // readers never block the writer. NORMAL: a commit is safe from a crash
                        // of the process without a flush; the WAL is flushed at checkpoints.
                        sqlx::Executor::execute(&mut *connection, "PRAGMA journal_mode = WAL").await?;
                        sqlx::Executor::execute(&mut *connection, "PRAGMA synchronous = NORMAL").await?;
                    }
                    Ok(())
                })
            })
            .connect(url)
            .await
            .map_err(|e| format!("cannot open the database: {e}"))?;
        sqlx::migrate!("./migrations").run(&pool).await.map_err(|e| format!("database migration failed: {e}"))?;
        Ok(Self { inserts: group_commit::InsertQueue::start(pool.clone(), kind), pool })
    }

    /// Whether the database answers.
    ///
    /// # Errors
    /// When it does not.
    pub async fn ping(&self) -> Result<(), DbError> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map(drop).map_err(failed("ping"))
    }

    /// Records a new upload.
    ///
    /// # Errors
    /// Database failures.
    pub async fn insert(&self, upload: &UploadRecord) -> Result<(), DbError> {
        self.inserts.insert(upload.clone()).await
    }

    /// The upload `id`.
    ///
    /// # Errors
    /// Database failures.
    pub async fn get(&self, id: &str) -> Result<Option<UploadRecord>, DbError> {
        let sql = format!("SELECT {COLUMNS} FROM uploads WHERE id = $1");
        let row = sqlx::query(&sql).bind(id).fetch_optional(&self.pool).await.map_err(failed("read upload"))?;
        row.map(|r| read_row(&r)).transpose().map_err(failed("read upload"))
    }

    /// The upload with multipart upload id `upload_id`.
    ///
    /// # Errors
    /// Database failures.
    pub async fn get_by_multipart_id(&self, upload_id: &str) -> Result<Option<UploadRecord>, DbError> {
        let sql = format!("SELECT {COLUMNS} FROM uploads WHERE multipart_upload_id = $1");
        let row = sqlx::query(&sql).bind(upload_id).fetch_optional(&self.pool).await.map_err(failed("read upload"))?;
        row.map(|r| read_row(&r)).transpose().map_err(failed("read upload"))
    }

    /// Uploads of `subject`, newest first.
    ///
    /// # Errors
    /// Database failures.
    pub async fn list_for_subject(&self, subject: &str, limit: u32) -> Result<Vec<UploadRecord>, DbError> {
        let sql = format!("SELECT {COLUMNS} FROM uploads WHERE subject = $1 ORDER BY created_at DESC, id LIMIT $2");
        let rows = sqlx::query(&sql)
            .bind(subject)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(failed("list uploads"))?;
        rows.iter().map(read_row).collect::<Result<_, _>>().map_err(failed("list uploads"))
    }

    /// What `subject` holds now. Counting pending uploads reads at most
    /// the per-subject limit of index entries; the bytes (which read every
    /// upload of the subject) only when `with_bytes`.
    ///
    /// # Errors
    /// Database failures.
    pub async fn usage(&self, subject: &str, with_bytes: bool) -> Result<Usage, DbError> {
        let pending: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM uploads WHERE subject = $1 AND state IN ('pending', 'verifying')")
                .bind(subject)
                .fetch_one(&self.pool)
                .await
                .map_err(failed("count pending uploads"))?;
        let bytes: i64 = if with_bytes {
            sqlx::query_scalar(
                "SELECT CAST(COALESCE(SUM(COALESCE(stored_size, declared_size, 0)), 0) AS BIGINT) \
                 FROM uploads WHERE subject = $1 AND state IN ('pending', 'verifying', 'uploaded')",
            )
            .bind(subject)
            .fetch_one(&self.pool)
            .await
            .map_err(failed("sum held bytes"))?
        } else {
            0
        };
        Ok(Usage { pending: to_u64(pending), bytes: to_u64(bytes) })
    }

    /// Moves `id` from `from` to `to`, holding it until `lease_until`;
    /// `false` when it was not in state `from` (someone else moved it).
    ///
    /// # Errors
    /// Database failures.
    pub async fn transition(
        &self,
        id: &str,
        from: UploadState,
        to: UploadState,
        lease_until: Option<i64>,
        now: i64,
    ) -> Result<bool, DbError> {
        let result = sqlx::query(
            "UPDATE uploads SET state = $1, lease_until = $2, updated_at = $3 WHERE id = $4 AND state = $5",
        )
        .bind(to.as_str())
        .bind(lease_until)
        .bind(now)
        .bind(id)
        .bind(from.as_str())
        .execute(&self.pool)
        .await
        .map_err(failed("change upload state"))?;
        Ok(result.rows_affected() == 1)
    }

    /// Leases a pending upload for a verification or a cleanup
    /// (`pending` → `verifying` until `now` + [`LEASE_MS`]); `false` when it
    /// was no longer pending (another caller or server has it).
    ///
    /// # Errors
    /// Database failures.
    pub async fn lease(&self, id: &str, now: i64) -> Result<bool, DbError> {
        self.transition(id, UploadState::Pending, UploadState::Verifying, Some(now + LEASE_MS), now).await
    }

    /// Takes over a `verifying` row whose lease ran out (its server died):
    /// `false` when another server took it first or the lease still runs.
    ///
    /// # Errors
    /// Database failures.
    pub async fn take_expired_lease(&self, id: &str, now: i64) -> Result<bool, DbError> {
        let lease_until = now + LEASE_MS;
        let result = sqlx::query(
            "UPDATE uploads SET lease_until = $1, updated_at = $2 \
             WHERE id = $3 AND state = 'verifying' AND lease_until < $2",
        )
        .bind(lease_until)
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(failed("take over a verification"))?;
        Ok(result.rows_affected() == 1)
    }

    /// Ends a verification (`verifying` → `to`), writing what it found;
    /// `false` when the row was no longer being verified.
    ///
    /// # Errors
    /// Database failures.
    pub async fn finish(&self, id: &str, to: UploadState, outcome: &Outcome<'_>, now: i64) -> Result<bool, DbError> {
        let result = sqlx::query(
            "UPDATE uploads SET state = $1, reason = $2, stored_size = $3, detected_type = $4, etag = $5, \
             lease_until = NULL, updated_at = $6 WHERE id = $7 AND state = 'verifying'",
        )
        .bind(to.as_str())
        .bind(outcome.reason)
        .bind(outcome.stored_size.map(to_i64))
        .bind(outcome.detected_type)
        .bind(outcome.etag)
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(failed("record verification"))?;
        Ok(result.rows_affected() == 1)
    }

    /// Pending uploads whose time ran out, and verifications whose server
    /// stopped holding them, oldest first.
    ///
    /// # Errors
    /// Database failures.
    pub async fn reapable(&self, now: i64, limit: u32) -> Result<Vec<UploadRecord>, DbError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM uploads WHERE (state = 'pending' AND expires_at < $1) \
             OR (state = 'verifying' AND lease_until < $1) ORDER BY expires_at LIMIT $2"
        );
        let rows = sqlx::query(&sql)
            .bind(now)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(failed("find expired uploads"))?;
        rows.iter().map(read_row).collect::<Result<_, _>>().map_err(failed("find expired uploads"))
    }
}

impl Database {
    /// Pending single-request uploads the server completes itself, oldest first.
    ///
    /// # Errors
    /// Database failures.
    pub async fn auto_completable(&self, limit: u32) -> Result<Vec<UploadRecord>, DbError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM uploads WHERE auto_complete = 1 AND state = 'pending' ORDER BY created_at LIMIT $1"
        );
        let rows = sqlx::query(&sql)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(failed("find uploads to complete"))?;
        rows.iter().map(read_row).collect::<Result<_, _>>().map_err(failed("find uploads to complete"))
    }
}

/// One `INSERT` of `uploads`, all in one statement: the database gets one
/// command for the batch (SQLite through `sqlx` runs each command on its
/// own thread, so a command per row costs a thread hand-off per row).
/// SQLite gets anonymous `?` placeholders: `sqlx` looks each numbered one
/// up by name, which SQLite answers by a scan, quadratic over a batch.
fn insert_query(kind: DatabaseKind, uploads: &[&UploadRecord]) -> (String, sqlx::any::AnyArguments<'static>) {
    let width = COLUMNS.split(',').count();
    let mut sql = format!("INSERT INTO uploads ({COLUMNS}) VALUES ");
    let mut arguments = sqlx::any::AnyArguments::default();
    for (row, upload) in uploads.iter().enumerate() {
        sql.push_str(if row == 0 { "(" } else { ", (" });
        for column in 0..width {
            if column > 0 {
                sql.push_str(", ");
            }
            match kind {
                DatabaseKind::Sqlite => sql.push('?'),
                DatabaseKind::Postgres => sql.push_str(&format!("${}", row * width + column + 1)),
            }
        }
        sql.push(')');
        bind_upload(&mut arguments, upload);
    }
    (sql, arguments)
}

/// Binds the columns of `upload` in the order of [`COLUMNS`].
fn bind_upload(arguments: &mut sqlx::any::AnyArguments<'static>, upload: &UploadRecord) {
    use sqlx::Arguments;
    // Adding an owned value to `AnyArguments` cannot fail.
    let add = |result: Result<(), sqlx::error::BoxDynError>| debug_assert!(result.is_ok());
    add(arguments.add(upload.id.clone()));
    add(arguments.add(upload.subject.clone()));
    add(arguments.add(upload.profile.clone()));
    add(arguments.add(upload.method.clone()));
    add(arguments.add(upload.state.as_str().to_owned()));
    add(arguments.add(upload.filename.clone()));
    add(arguments.add(upload.content_type.clone()));
    add(arguments.add(upload.declared_size.map(to_i64)));
    add(arguments.add(upload.checksum_algorithm.clone()));
    add(arguments.add(upload.checksum.clone()));
    add(arguments.add(upload.metadata.clone()));
    add(arguments.add(upload.bucket.clone()));
    add(arguments.add(upload.staging_key.clone()));
    add(arguments.add(upload.final_key.clone()));
    add(arguments.add(upload.multipart_upload_id.clone()));
    add(arguments.add(upload.part_size.map(to_i64)));
    add(arguments.add(upload.part_count.map(to_i64)));
    add(arguments.add(upload.created_at));
    add(arguments.add(upload.expires_at));
    add(arguments.add(upload.updated_at));
    add(arguments.add(upload.lease_until));
    add(arguments.add(upload.stored_size.map(to_i64)));
    add(arguments.add(upload.detected_type.clone()));
    add(arguments.add(upload.etag.clone()));
    add(arguments.add(upload.reason.clone()));
    add(arguments.add(i64::from(upload.auto_complete)));
}

/// SQLite will not create the directory of its file.
fn create_sqlite_directory(url: &str) -> Result<(), String> {
    let path = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
    let path = path.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return Ok(());
    }
    match std::path::Path::new(path).parent() {
        Some(dir) if !dir.as_os_str().is_empty() => {
            std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))
        }
        _ => Ok(()),
    }
}

fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn to_u64(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

fn read_row(row: &AnyRow) -> Result<UploadRecord, sqlx::Error> {
    let text = |name: &str| row.try_get::<String, _>(name);
    let optional_text = |name: &str| row.try_get::<Option<String>, _>(name);
    let optional_u64 = |name: &str| row.try_get::<Option<i64>, _>(name).map(|v| v.map(to_u64));
    let state = text("state")?;
    Ok(UploadRecord {
        id: text("id")?,
        subject: text("subject")?,
        profile: text("profile")?,
        method: text("method")?,
        state: UploadState::parse(&state)
            .ok_or_else(|| sqlx::Error::Decode(format!("unknown state {state:?}").into()))?,
        filename: text("filename")?,
        content_type: text("content_type")?,
        declared_size: optional_u64("declared_size")?,
        checksum_algorithm: optional_text("checksum_algorithm")?,
        checksum: optional_text("checksum")?,
        metadata: text("metadata")?,
        bucket: text("bucket")?,
        staging_key: text("staging_key")?,
        final_key: text("final_key")?,
        multipart_upload_id: optional_text("multipart_upload_id")?,
        part_size: optional_u64("part_size")?,
        part_count: optional_u64("part_count")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        updated_at: row.try_get("updated_at")?,
        lease_until: row.try_get("lease_until")?,
        stored_size: optional_u64("stored_size")?,
        detected_type: optional_text("detected_type")?,
        etag: optional_text("etag")?,
        reason: optional_text("reason")?,
        auto_complete: row.try_get::<i64, _>("auto_complete")? != 0,
    })
}
