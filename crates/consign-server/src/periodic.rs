//! Background passes (the reaper, the auto-completer) that run every so
//! often until the server shuts down.

use std::time::Duration;

/// Runs `pass` every `interval` until `shutdown` resolves (a pass in
/// progress finishes first).
pub async fn every<F, Fut>(interval: Duration, shutdown: impl Future<Output = ()>, mut pass: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => return,
            () = tokio::time::sleep(interval) => {}
        }
        pass().await;
    }
}
