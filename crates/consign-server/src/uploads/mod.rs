//! The life of an upload, shared by the `/v1` API and the Uppy routes:
//! `create` checks a request against its profile and grants it, `parts`
//! signs part URLs, `complete` verifies and promotes, `abort` removes, and
//! `view` is what clients see of a record.

pub mod abort;
pub mod complete;
pub mod create;
pub mod grant;
pub mod parts;
pub mod view;

/// The time now, Unix milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
