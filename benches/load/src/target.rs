//! The server under load, as a child process: the ceiling or a real herald binary.
//! Keeping it in its own process lets the runner read its peak RSS.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// A running server.
pub struct Target {
    child: Child,
    pub addr: SocketAddr,
    log: Option<PathBuf>,
}

impl Target {
    /// Starts this binary's `ceiling` subcommand.
    ///
    /// # Errors
    /// When it does not start or never says where it listens.
    pub async fn ceiling(secret: &str) -> anyhow::Result<Self> {
        let exe = std::env::current_exe()?;
        let mut child = Command::new(exe)
            .args(["ceiling", "--listen", "127.0.0.1:0", "--secret", secret])
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .context("starting the ceiling server")?;
        let stdout = child.stdout.take().context("ceiling stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(Duration::from_secs(10), lines.next_line())
            .await
            .context("the ceiling server did not start in 10 s")??
            .context("the ceiling server exited")?;
        let addr = line
            .strip_prefix("listening ")
            .context("unexpected ceiling output")?
            .parse()?;
        Ok(Self {
            child,
            addr,
            log: None,
        })
    }

    /// Starts `herald serve` on `config` (written to `dir`), logging to `dir/herald.log`,
    /// and waits until it accepts connections (it binds after migrating).
    ///
    /// # Errors
    /// When it exits or does not listen within 30 s.
    pub async fn herald(
        binary: &Path,
        dir: &Path,
        addr: SocketAddr,
        config: &str,
    ) -> anyhow::Result<Self> {
        let config_path = dir.join("config.toml");
        std::fs::write(&config_path, config)?;
        let log = dir.join("herald.log");
        let log_file = std::fs::File::create(&log)?;
        let child = Command::new(binary)
            .arg("--config")
            .arg(&config_path)
            .arg("serve")
            .stdout(Stdio::null())
            .stderr(log_file)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let mut target = Self {
            child,
            addr,
            log: Some(log),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if tokio::net::TcpStream::connect(addr).await.is_ok() {
                return Ok(target);
            }
            if let Some(status) = target.child.try_wait()? {
                bail!(
                    "herald exited with {status} before listening:\n{}",
                    target.log_tail()
                );
            }
            if Instant::now() > deadline {
                bail!("herald did not listen within 30 s:\n{}", target.log_tail());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The process's peak resident set so far, in MiB (Linux `VmHWM`).
    pub fn peak_rss_mib(&self) -> Option<f64> {
        let pid = self.child.id()?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib / 1024.0)
    }

    /// CPU time the process has used so far, all its threads, user and system.
    pub fn cpu_time(&self) -> Option<Duration> {
        let pid = self.child.id()?;
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // The name, in parentheses, may hold spaces: count fields after it.
        let (_, after_name) = stat.rsplit_once(')')?;
        let mut fields = after_name.split_whitespace();
        // utime and stime are fields 14 and 15; `state` (3) is the first after the name.
        let utime: u64 = fields.nth(11)?.parse().ok()?;
        let stime: u64 = fields.next()?.parse().ok()?;
        // In clock ticks of USER_HZ, which Linux fixes at 100 for /proc.
        Some(Duration::from_millis((utime + stime) * 10))
    }

    /// The last lines of herald's log, to explain a failure.
    pub fn log_tail(&self) -> String {
        let Some(log) = &self.log else {
            return String::new();
        };
        let text = std::fs::read_to_string(log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(15)..].join("\n")
    }

    /// herald's log lines holding `text`.
    pub fn log_lines_with(&self, text: &str) -> Vec<String> {
        let Some(log) = &self.log else {
            return Vec::new();
        };
        std::fs::read_to_string(log)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains(text))
            .map(str::to_owned)
            .collect()
    }

    /// Warnings and errors herald logged, counted.
    pub fn logged_warnings(&self) -> usize {
        let Some(log) = &self.log else { return 0 };
        std::fs::read_to_string(log)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains(" WARN ") || l.contains(" ERROR "))
            .count()
    }

    /// Stops the process.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// A free loopback port, found by binding and letting go.
///
/// # Errors
/// When no port can be bound.
pub fn free_addr() -> anyhow::Result<SocketAddr> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?)
}
