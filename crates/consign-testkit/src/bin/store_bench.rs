//! Measures `consign store` against the disk it runs on, in one run:
//!
//! 1. raw sequential write (with fsync) and read of N MiB, then PUT and GET
//!    of an N MiB object (throughput, and the ratio to raw);
//! 2. 4 KiB PUTs per second from 32 concurrent clients;
//! 3. the store's peak resident memory while 64 clients upload 256 MiB
//!    each at the same time.
//!
//! `cargo build --release -p consign && cargo run --release -p consign-testkit --bin store-bench -- target/release/consign`
//! Sizes can be lowered for a quick look: `--object-mib 256 --concurrent-mib 32`.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bytes::Bytes;
use consign_testkit::{RequestBody, S3Client, StoreProcess};

const MIB: u64 = 1024 * 1024;

struct Options {
    binary: PathBuf,
    object_mib: u64,
    small_seconds: u64,
    concurrent_uploads: usize,
    concurrent_mib: u64,
    dir: PathBuf,
}

fn options() -> Result<Options, String> {
    let mut args = std::env::args().skip(1);
    let mut options = Options {
        binary: PathBuf::from("target/release/consign"),
        object_mib: 1024,
        small_seconds: 10,
        concurrent_uploads: 64,
        concurrent_mib: 256,
        dir: std::env::temp_dir().join(format!("consign-bench-{}", std::process::id())),
    };
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--object-mib" => {
                options.object_mib = value("--object-mib")?.parse().map_err(|e| format!("--object-mib: {e}"))?
            }
            "--small-seconds" => {
                options.small_seconds =
                    value("--small-seconds")?.parse().map_err(|e| format!("--small-seconds: {e}"))?
            }
            "--concurrent" => {
                options.concurrent_uploads = value("--concurrent")?.parse().map_err(|e| format!("--concurrent: {e}"))?
            }
            "--concurrent-mib" => {
                options.concurrent_mib =
                    value("--concurrent-mib")?.parse().map_err(|e| format!("--concurrent-mib: {e}"))?
            }
            "--dir" => options.dir = PathBuf::from(value("--dir")?),
            other if !other.starts_with('-') => options.binary = PathBuf::from(other),
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(options)
}

fn mib_per_s(bytes: u64, elapsed: Duration) -> f64 {
    bytes as f64 / MIB as f64 / elapsed.as_secs_f64()
}

/// Sequential write in 1 MiB writes, then fsync; then a sequential read.
fn raw_disk(dir: &Path, bytes: u64, block: &[u8]) -> std::io::Result<(Duration, Duration)> {
    let path = dir.join("raw.bin");
    let started = Instant::now();
    let mut file = std::fs::File::create(&path)?;
    let mut written = 0;
    while written < bytes {
        file.write_all(block)?;
        written += block.len() as u64;
    }
    file.sync_all()?;
    let write = started.elapsed();
    drop(file);
    drop_page_cache();
    let started = Instant::now();
    let mut file = std::fs::File::open(&path)?;
    let mut buffer = vec![0u8; block.len()];
    while file.read(&mut buffer)? > 0 {}
    let read = started.elapsed();
    std::fs::remove_file(&path)?;
    Ok((write, read))
}

/// Empties the page cache (needs root), so reads come from the disk, as
/// the first read of an upload does. Best effort: without it, both the raw
/// read and the GET read from memory.
fn drop_page_cache() {
    let synced = std::process::Command::new("sync").status().is_ok_and(|s| s.success());
    if !synced || std::fs::write("/proc/sys/vm/drop_caches", "1").is_err() {
        eprintln!("note: could not drop the page cache; reads are from memory");
    }
}

fn streamed(bytes: u64, block: Bytes) -> RequestBody {
    RequestBody::generated(bytes, block.len(), Duration::ZERO, move |_, len| block.slice(..len))
}

fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let options = options()?;
    std::fs::create_dir_all(&options.dir)?;
    let block = Bytes::from((0..MIB).map(|i| (i * 31 % 251) as u8).collect::<Vec<u8>>());
    let object_bytes = options.object_mib * MIB;

    println!("# consign store benchmark\n");
    println!("data directory: {} ({} MiB object)\n", options.dir.display(), options.object_mib);
    let (raw_write, raw_read) = raw_disk(&options.dir, object_bytes, &block)?;

    let store = StoreProcess::start(&options.binary, &options.dir.join("store"))?;
    let pid = store.pid();
    let runtime = tokio::runtime::Runtime::new()?;
    let client = S3Client::dev(store.address);
    let (put, get) = runtime.block_on(async {
        let started = Instant::now();
        let response = client.send("PUT", "/uploads/large", "", &[], streamed(object_bytes, block.clone())).await?;
        assert_eq!(response.status, 200, "{}", response.text());
        let put = started.elapsed();
        drop_page_cache();
        let started = Instant::now();
        let (status, length) = client.get_discarding("uploads", "large").await?;
        assert_eq!((status, length), (200, object_bytes));
        let get = started.elapsed();
        client.send("DELETE", "/uploads/large", "", &[], RequestBody::Bytes(Bytes::new())).await?;
        Ok::<_, Box<dyn std::error::Error + Send + Sync>>((put, get))
    })?;
    println!("| operation | time | MiB/s | vs raw |");
    println!("| --- | ---: | ---: | ---: |");
    println!(
        "| raw write + fsync | {:.2} s | {:.0} | 100 % |",
        raw_write.as_secs_f64(),
        mib_per_s(object_bytes, raw_write)
    );
    println!(
        "| PUT (streamed, UNSIGNED-PAYLOAD) | {:.2} s | {:.0} | {:.0} % |",
        put.as_secs_f64(),
        mib_per_s(object_bytes, put),
        100.0 * raw_write.as_secs_f64() / put.as_secs_f64()
    );
    println!(
        "| raw read (cold cache) | {:.2} s | {:.0} | 100 % |",
        raw_read.as_secs_f64(),
        mib_per_s(object_bytes, raw_read)
    );
    println!(
        "| GET (cold cache) | {:.2} s | {:.0} | {:.0} % |",
        get.as_secs_f64(),
        mib_per_s(object_bytes, get),
        100.0 * raw_read.as_secs_f64() / get.as_secs_f64()
    );

    let small = Bytes::from(vec![7u8; 4096]);
    let (count, elapsed, latencies) = runtime.block_on(async {
        let deadline = Instant::now() + Duration::from_secs(options.small_seconds);
        let started = Instant::now();
        let mut tasks = Vec::new();
        for worker in 0..32 {
            let client = client.clone();
            let small = small.clone();
            tasks.push(tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut i = 0u64;
                while Instant::now() < deadline {
                    let began = Instant::now();
                    let response = client.put("uploads", &format!("small/{worker}/{i}"), small.clone()).await;
                    if response.map(|r| r.status == 200).unwrap_or(false) {
                        latencies.push(began.elapsed());
                    }
                    i += 1;
                }
                latencies
            }));
        }
        let mut all = Vec::new();
        for task in tasks {
            all.extend(task.await.unwrap_or_default());
        }
        (all.len(), started.elapsed(), all)
    });
    let mut latencies = latencies;
    latencies.sort();
    let percentile = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    println!(
        "\n4 KiB PUTs, 32 concurrent clients, {} s: {count} PUTs, {:.0} PUT/s, p50 {:.2} ms, p99 {:.2} ms",
        options.small_seconds,
        count as f64 / elapsed.as_secs_f64(),
        percentile(0.50).as_secs_f64() * 1000.0,
        percentile(0.99).as_secs_f64() * 1000.0
    );

    let before = peak_rss_kib(pid).unwrap_or(0);
    let per_upload = options.concurrent_mib * MIB;
    let elapsed = runtime.block_on(async {
        let started = Instant::now();
        let mut tasks = Vec::new();
        for i in 0..options.concurrent_uploads {
            let client = client.clone();
            let body = streamed(per_upload, block.clone());
            tasks.push(tokio::spawn(async move {
                let response = client.send("PUT", &format!("/uploads/concurrent-{i}"), "", &[], body).await;
                let _ = client
                    .send("DELETE", &format!("/uploads/concurrent-{i}"), "", &[], RequestBody::Bytes(Bytes::new()))
                    .await;
                response.map(|r| r.status == 200).unwrap_or(false)
            }));
        }
        let mut ok = 0;
        for task in tasks {
            ok += usize::from(task.await.unwrap_or(false));
        }
        assert_eq!(ok, options.concurrent_uploads, "some concurrent uploads failed");
        started.elapsed()
    });
    let peak = peak_rss_kib(pid).unwrap_or(0);
    println!(
        "\n{} concurrent uploads of {} MiB each ({} MiB in all) in {:.1} s: store peak resident memory {:.1} MiB (before: {:.1} MiB)",
        options.concurrent_uploads,
        options.concurrent_mib,
        options.concurrent_mib * options.concurrent_uploads as u64,
        elapsed.as_secs_f64(),
        peak as f64 / 1024.0,
        before as f64 / 1024.0
    );
    drop(store);
    std::fs::remove_dir_all(&options.dir)?;
    Ok(())
}
