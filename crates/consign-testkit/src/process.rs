//! A `consign store` process: started on a free port, killed, restarted.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// A running `consign store`. Dropping it kills the process.
#[derive(Debug)]
pub struct StoreProcess {
    child: Child,
    /// Where it listens.
    pub address: SocketAddr,
    binary: PathBuf,
    data_dir: PathBuf,
}

impl StoreProcess {
    /// Starts `binary store` on a free loopback port with `data_dir`, and
    /// waits until it listens.
    ///
    /// # Errors
    /// When the process cannot start or does not report its address.
    pub fn start(binary: &Path, data_dir: &Path) -> std::io::Result<Self> {
        let mut child = Command::new(binary)
            .args(["store", "--listen", "127.0.0.1:0", "--bucket", "uploads", "--data-dir"])
            .arg(data_dir)
            .env("CONSIGN_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdout = child.stdout.take().ok_or_else(|| std::io::Error::other("no stdout"))?;
        let mut lines = BufReader::new(stdout).lines();
        let address = loop {
            let Some(line) = lines.next() else {
                let _ = child.kill();
                return Err(std::io::Error::other("consign store exited before listening"));
            };
            if let Some(rest) = line?.strip_prefix("consign store listening on http://") {
                break rest.trim().parse().map_err(std::io::Error::other)?;
            }
        };
        // Keep draining stdout so the process never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Ok(Self { child, address, binary: binary.to_owned(), data_dir: data_dir.to_owned() })
    }

    /// Kills the process with SIGKILL: no shutdown, no cleanup.
    ///
    /// # Errors
    /// When the process cannot be signalled.
    pub fn kill(&mut self) -> std::io::Result<()> {
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }

    /// Starts the same binary on the same data directory again.
    ///
    /// # Errors
    /// As [`Self::start`].
    pub fn restart(&mut self) -> std::io::Result<()> {
        let _ = self.kill();
        *self = Self::start(&self.binary, &self.data_dir)?;
        Ok(())
    }

    /// The process ID.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }
}

impl Drop for StoreProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
