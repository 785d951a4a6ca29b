//! Group commit for new uploads. Every grant is recorded before it is
//! answered, and a durable commit costs a disk flush; one writer task takes
//! every insert waiting in its queue and commits them in one transaction,
//! so a busy server pays one flush per batch instead of one per grant
//! (SQLite also allows only one writer at a time, so nothing is lost by
//! having one). A batch that fails is retried row by row, so each caller
//! gets its own answer.

use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, AnyPool};
use tokio::sync::{mpsc, oneshot};

use super::{DatabaseKind, DbError, UploadRecord, failed, insert_query};

/// The most inserts committed together.
const MAX_BATCH: usize = 256;
/// Inserts waiting beyond this make callers wait for room.
const QUEUE: usize = 4096;

type Reply = oneshot::Sender<Result<(), DbError>>;

/// The sending side of the writer's queue.
#[derive(Debug, Clone)]
pub(super) struct InsertQueue {
    sender: mpsc::Sender<(UploadRecord, Reply)>,
}

impl InsertQueue {
    /// Starts the writer task for `pool`.
    pub fn start(pool: AnyPool, kind: DatabaseKind) -> Self {
        let (sender, receiver) = mpsc::channel(QUEUE);
        tokio::spawn(writer(pool, kind, receiver));
        Self { sender }
    }

    /// Inserts `record`, answering once it is committed.
    pub async fn insert(&self, record: UploadRecord) -> Result<(), DbError> {
        let (reply, answer) = oneshot::channel();
        let closed = || failed("insert upload")(sqlx::Error::PoolClosed);
        self.sender.send((record, reply)).await.map_err(|_| closed())?;
        answer.await.map_err(|_| closed())?
    }
}

async fn writer(pool: AnyPool, kind: DatabaseKind, mut receiver: mpsc::Receiver<(UploadRecord, Reply)>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    // One connection for every write: its page cache stays warm (a pooled
    // SQLite connection must re-read what other connections changed).
    let mut connection: Option<PoolConnection<Any>> = None;
    while receiver.recv_many(&mut batch, MAX_BATCH).await > 0 {
        if connection.is_none() {
            connection = pool.acquire().await.ok();
        }
        let Some(writer) = connection.as_mut() else {
            for (_, reply) in batch.drain(..) {
                let _ = reply.send(Err(failed("insert upload")(sqlx::Error::PoolTimedOut)));
            }
            continue;
        };
        let records: Vec<&UploadRecord> = batch.iter().map(|(record, _)| record).collect();
        let together = insert(writer, kind, &records).await;
        if together.is_err() {
            // It may be the connection that failed: take a fresh one next time.
            connection = None;
        }
        if together.is_ok() || batch.len() == 1 {
            let result = together.map_err(failed("insert upload"));
            for (_, reply) in batch.drain(..) {
                let _ = reply.send(result.clone());
            }
            continue;
        }
        // One row spoiled the batch (the statement is atomic): row by row.
        for (record, reply) in batch.drain(..) {
            let result = match pool.acquire().await {
                Ok(mut single) => insert(&mut single, kind, &[&record]).await,
                Err(error) => Err(error),
            };
            let _ = reply.send(result.map_err(failed("insert upload")));
        }
    }
}

async fn insert(
    connection: &mut AnyConnection,
    kind: DatabaseKind,
    records: &[&UploadRecord],
) -> Result<(), sqlx::Error> {
    let (sql, arguments) = insert_query(kind, records);
    sqlx::query_with(&sql, arguments).execute(connection).await.map(drop)
}
