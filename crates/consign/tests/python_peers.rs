//! Peers in Python against the `consign store` binary: boto3 (presigned
//! URLs, POST forms, tampering, bad digests) and the AWS CLI (multipart
//! `cp`, `sync`, `s3api`).
//!
//! Each test starts the binary on 127.0.0.1:0 with a fresh data directory
//! and runs one script of `tests/peers/` against it; a failing script fails
//! the test with its output and the store's log.
//!
//! Needs `python3` (or `$PYTHON`) with boto3 and awscli (requests is used
//! when installed): `python3 -m pip install -r .ci/requirements.txt`.
//! Without them the tests are skipped, except when `CI=true`, where they
//! fail.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use consign_testkit::peers::{available, python, python_cannot};

const ACCESS_KEY: &str = "consign-dev";
const SECRET: &str = "consign-dev-secret-change-me";
const REGION: &str = "us-east-1";
const BUCKET: &str = "peers";
const INSTALL: &str = "install them with `python3 -m pip install -r .ci/requirements.txt` \
                       (or `python3 -m pip install boto3 awscli requests`), or point $PYTHON at a Python that has them";
/// The longest a script may run (the AWS CLI one takes about 30 s).
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(240);

/// A `consign store` process with its own data directory; both go away on
/// drop.
struct StoreProcess {
    child: Child,
    dir: PathBuf,
    endpoint: String,
}

impl StoreProcess {
    fn start(name: &str) -> Self {
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let dir = std::env::temp_dir().join(format!("consign-peers-{name}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create the test directory");
        let log = std::fs::File::create(dir.join("store.log")).expect("create the store log");
        let mut child = Command::new(env!("CARGO_BIN_EXE_consign"))
            .args(["store", "--listen", "127.0.0.1:0", "--region", REGION, "--access-key", ACCESS_KEY])
            .args(["--secret-key", SECRET, "--bucket", BUCKET, "--data-dir"])
            .arg(dir.join("data"))
            .env("CONSIGN_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("start `consign store`");
        let stdout = child.stdout.take().expect("the store's stdout");
        let mut lines = BufReader::new(stdout).lines();
        let first = lines.next().and_then(Result::ok).unwrap_or_default();
        // Keep reading so the store never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        let mut store = Self { child, dir, endpoint: String::new() };
        let Some(address) = first.strip_prefix("consign store listening on ") else {
            panic!("`consign store` did not start: printed {first:?}\n{}", store.log());
        };
        store.endpoint = address.trim().to_owned();
        store
    }

    fn log(&self) -> String {
        let text = std::fs::read_to_string(self.dir.join("store.log")).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(40).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        format!("--- the store's log (last 40 lines) ---\n{}", tail.join("\n"))
    }
}

impl Drop for StoreProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs `tests/peers/<script>` against `store`, in an environment with
/// none of the machine's AWS settings and a HOME of its own.
fn run_script(python: &str, script: &str, store: &StoreProcess) -> Output {
    let peers = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers");
    let home = store.dir.join("home");
    std::fs::create_dir_all(&home).expect("create the scripts' HOME");
    let mut command = Command::new(python);
    command.arg(peers.join(script)).args(["--endpoint", &store.endpoint, "--bucket", BUCKET]).current_dir(&peers);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("AWS_") {
            command.env_remove(name);
        }
    }
    command
        .env("HOME", &home)
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env("AWS_DEFAULT_REGION", REGION)
        .env("AWS_CONFIG_FILE", home.join("no-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("no-credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PYTHONUNBUFFERED", "1")
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().unwrap_or_else(|e| panic!("cannot start {python} {script}: {e}"));
    wait_with_timeout(&mut child, SCRIPT_TIMEOUT, script)
}

/// Waits for `child`, reading its output as it comes; kills it after
/// `timeout`.
fn wait_with_timeout(child: &mut Child, timeout: Duration, name: &str) -> Output {
    let read = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        })
    };
    let stdout = read(Box::new(child.stdout.take().expect("stdout")));
    let stderr = read(Box::new(child.stderr.take().expect("stderr")));
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the script") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{name} took longer than {timeout:?}; its output so far:\n{}\n{}",
                String::from_utf8_lossy(&stdout.join().unwrap_or_default()),
                String::from_utf8_lossy(&stderr.join().unwrap_or_default())
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Output { status, stdout: stdout.join().unwrap_or_default(), stderr: stderr.join().unwrap_or_default() }
}

/// Starts a store, runs `script` against it and fails with everything
/// there is to see if the script fails.
fn check_peer(what: &str, script: &str, probe: &[&str]) {
    if !available(&format!("the {what} peer tests"), python_cannot(probe), INSTALL) {
        return;
    }
    let python = python();
    let store = StoreProcess::start(what);
    let out = run_script(&python, script, &store);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{script} failed ({}) against {}:\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}\n{}",
        out.status,
        store.endpoint,
        store.log()
    );
    print!("{stdout}");
}

#[test]
fn boto3_presigned_urls_post_forms_and_digests() {
    check_peer("boto3", "boto3_peers.py", &["-c", "import boto3, botocore"]);
}

#[test]
fn aws_cli_cp_sync_and_s3api() {
    check_peer("awscli", "awscli_peers.py", &["-m", "awscli", "--version"]);
}
