//! Helpers shared by the integration tests (each test binary uses some of
//! them, hence the `dead_code` allowance).
#![allow(dead_code)]

use consign_sigv4::encoding::percent_decode;
use proptest::test_runner::{Config, RngSeed};

/// The decoded `(name, value)` pairs of a wire query string, in order.
pub fn decode_query(query: &str) -> Vec<(String, String)> {
    let decode = |s: &str| String::from_utf8(percent_decode(s).expect("valid escapes").into_owned()).expect("UTF-8");
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (n, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(n), decode(v))
        })
        .collect()
}

/// The same pairs, sorted, for order-free comparison.
pub fn query_multiset(query: &str) -> Vec<(String, String)> {
    let mut pairs = decode_query(query);
    pairs.sort();
    pairs
}

/// A fixed number of cases from a fixed seed (both overridable with
/// `PROPTEST_CASES` / `PROPTEST_RNG_SEED`), and no regression files.
pub fn proptest_config(cases: u32, seed: u64) -> Config {
    let mut config = Config::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = cases;
    }
    if std::env::var_os("PROPTEST_RNG_SEED").is_none() {
        config.rng_seed = RngSeed::Fixed(seed);
    }
    config.failure_persistence = None;
    config
}
