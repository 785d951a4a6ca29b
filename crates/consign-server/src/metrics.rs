//! Prometheus metrics, kept in atomics and written in the text exposition
//! format at `/metrics`: grants by method, verifications by outcome and
//! rejection reason, bytes accepted, and latency histograms.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::config::UploadMethod;
use crate::db::UploadState;
use crate::verification::RejectionKind;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0];

/// A latency histogram.
#[derive(Debug, Default)]
pub struct Histogram {
    counts: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Histogram {
    /// Records one observation.
    pub fn observe(&self, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        for (bound, count) in BUCKETS.iter().zip(&self.counts) {
            if seconds <= *bound {
                count.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_micros.fetch_add(u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    fn write(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        for (bound, count) in BUCKETS.iter().zip(&self.counts) {
            let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{bound}\"}} {}", count.load(Ordering::Relaxed));
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {count}");
        #[allow(clippy::cast_precision_loss)]
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let braces = if labels.is_empty() { String::new() } else { format!("{{{labels}}}") };
        let _ = writeln!(out, "{name}_sum{braces} {sum}");
        let _ = writeln!(out, "{name}_count{braces} {count}");
    }
}

/// All metrics of one server.
#[derive(Debug, Default)]
pub struct Metrics {
    grants: [AtomicU64; 3],
    outcomes: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
    bytes_uploaded: AtomicU64,
    verify_seconds: Histogram,
    /// Latency of API requests by route family.
    pub request_seconds: RequestHistograms,
    reaped: AtomicU64,
}

/// Request latency by route family.
#[derive(Debug, Default)]
pub struct RequestHistograms {
    /// `POST /v1/uploads` and `GET /s3/params`, `POST /s3/multipart`.
    pub grant: Histogram,
    /// Everything else under `/v1` and `/s3`.
    pub other: Histogram,
}

impl Metrics {
    /// A grant was made.
    pub fn grant(&self, method: UploadMethod) {
        self.grants[method as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// A verification ended in `state`.
    pub fn verified(&self, state: UploadState, rejected: Option<RejectionKind>, bytes: u64, elapsed: Duration) {
        self.verify_seconds.observe(elapsed);
        if state == UploadState::Uploaded {
            self.bytes_uploaded.fetch_add(bytes, Ordering::Relaxed);
        }
        self.count_outcome(state, rejected.map_or("", RejectionKind::as_str));
    }

    /// An upload ended in `state` without verification (abort, delete).
    pub fn finished(&self, state: UploadState) {
        self.count_outcome(state, "");
    }

    /// The reaper cleaned up an upload.
    pub fn reaped(&self) {
        self.reaped.fetch_add(1, Ordering::Relaxed);
        self.count_outcome(UploadState::Expired, "");
    }

    fn count_outcome(&self, state: UploadState, reason: &'static str) {
        if let Ok(mut outcomes) = self.outcomes.lock() {
            *outcomes.entry((state.as_str(), reason)).or_default() += 1;
        }
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str(
            "# HELP consign_grants_total Upload grants made, by method.\n# TYPE consign_grants_total counter\n",
        );
        for method in [UploadMethod::Put, UploadMethod::Post, UploadMethod::Multipart] {
            let _ = writeln!(
                out,
                "consign_grants_total{{method=\"{}\"}} {}",
                method.as_str(),
                self.grants[method as usize].load(Ordering::Relaxed)
            );
        }
        out.push_str("# HELP consign_uploads_finished_total Uploads that reached a final state, by state and rejection reason.\n# TYPE consign_uploads_finished_total counter\n");
        if let Ok(outcomes) = self.outcomes.lock() {
            for ((state, reason), count) in outcomes.iter() {
                let _ =
                    writeln!(out, "consign_uploads_finished_total{{state=\"{state}\",reason=\"{reason}\"}} {count}");
            }
        }
        out.push_str("# HELP consign_uploaded_bytes_total Bytes of verified uploads.\n# TYPE consign_uploaded_bytes_total counter\n");
        let _ = writeln!(out, "consign_uploaded_bytes_total {}", self.bytes_uploaded.load(Ordering::Relaxed));
        out.push_str("# HELP consign_reaped_total Expired uploads cleaned up by the reaper.\n# TYPE consign_reaped_total counter\n");
        let _ = writeln!(out, "consign_reaped_total {}", self.reaped.load(Ordering::Relaxed));
        out.push_str(
            "# HELP consign_verify_seconds Time to verify an upload.\n# TYPE consign_verify_seconds histogram\n",
        );
        self.verify_seconds.write(&mut out, "consign_verify_seconds", "");
        out.push_str("# HELP consign_request_seconds API request latency by route family.\n# TYPE consign_request_seconds histogram\n");
        self.request_seconds.grant.write(&mut out, "consign_request_seconds", "route=\"grant\"");
        self.request_seconds.other.write(&mut out, "consign_request_seconds", "route=\"other\"");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_histograms() {
        let metrics = Metrics::default();
        metrics.grant(UploadMethod::Post);
        metrics.verified(UploadState::Rejected, Some(RejectionKind::TypeMismatch), 10, Duration::from_millis(3));
        let text = metrics.render();
        assert!(text.contains("consign_grants_total{method=\"post\"} 1"), "{text}");
        assert!(
            text.contains("consign_uploads_finished_total{state=\"rejected\",reason=\"type_mismatch\"} 1"),
            "{text}"
        );
        assert!(text.contains("consign_verify_seconds_bucket{le=\"0.005\"} 1"), "{text}");
        assert!(text.contains("consign_verify_seconds_count 1"), "{text}");
    }
}
