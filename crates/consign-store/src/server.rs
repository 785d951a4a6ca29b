//! The HTTP listener: one task per connection, the request-head and idle
//! limits, and a graceful shutdown that lets requests in flight finish.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::sync::Arc;

use axum::body::Body;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;

use crate::Store;

/// The hard cap on a request head; [`crate::Limits::max_header_bytes`] is
/// enforced below it with an S3 error.
const MAX_HEAD_BUFFER: usize = 64 * 1024;

/// Serves `store` on `listener` until `shutdown` resolves, then waits for
/// the requests in flight.
///
/// # Errors
/// I/O errors from the listener.
pub async fn serve(store: Arc<Store>, listener: TcpListener, shutdown: impl Future<Output = ()>) -> io::Result<()> {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let idle = store.config().limits.idle_timeout;
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors and the like: log, pause, go on.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let store = Arc::clone(&store);
        let service = service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
            let store = Arc::clone(&store);
            async move { Ok::<_, Infallible>(crate::s3::handle(store, request.map(Body::new), peer).await) }
        });
        let connection = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(idle)
            .max_buf_size(MAX_HEAD_BUFFER)
            .keep_alive(true)
            .serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, %peer, "connection ended with an error");
            }
        });
    }
    graceful.shutdown().await;
    Ok(())
}
