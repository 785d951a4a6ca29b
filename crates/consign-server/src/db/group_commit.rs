//! Group commit for new uploads. Every grant is recorded before it is
//! answered, and a durable commit costs a disk flush; one writer task takes
//! every insert waiting in its queue and commits them in one transaction,
//! so a busy server pays one flush per batch instead of one per grant
//! (SQLite also allows only one writer at a time, so nothing is lost by
//! having one). A batch that fails is retried row by row, so each caller
//! gets its own answer.

use sqlx::AnyPool;
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
    while receiver.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let records: Vec<&UploadRecord> = batch.iter().map(|(record, _)| record).collect();
        let together = insert(&pool, kind, &records).await;
        if together.is_ok() || batch.len() == 1 {
            let result = together.map_err(failed("insert upload"));
            for (_, reply) in batch.drain(..) {
                let _ = reply.send(result.clone());
            }
            continue;
        }
        // One row spoiled the batch (the statement is atomic): row by row.
        for (record, reply) in batch.drain(..) {
            let _ = reply.send(insert(&pool, kind, &[&record]).await.map_err(failed("insert upload")));
        }
    }
}

async fn insert(pool: &AnyPool, kind: DatabaseKind, records: &[&UploadRecord]) -> Result<(), sqlx::Error> {
    let (sql, arguments) = insert_query(kind, records);
    sqlx::query_with(&sql, arguments).execute(pool).await.map(drop)
}
