//! The real `moxxy` binary as the benchmark runs it: built in the bench's own profile, started
//! the way `tests/e2e/server.rs` starts it (a private data directory, every upstream on the
//! fake, a fixed vault master key, keys that only the fake sees), timed from spawn to its
//! `moxxy listening on` line, and given an admin and a chat token.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tempfile::TempDir;

use crate::client::Client;
use crate::BenchError;

/// The vault master key of bench servers: base64 of 32 fixed bytes (no secret is stored).
const MASTER_KEY: &str = "ZWZnaGlqa2xtbm9wcXJzdHV2d3h5ent8fX5/gIGCg4Q=";
/// Keys only the fake upstream ever sees.
const OPENAI_KEY: &str = "sk-bench-0000000000000000";
const ANTHROPIC_KEY: &str = "sk-ant-bench-0000000000000000";
const READY_PREFIX: &str = "moxxy listening on ";
const READY_TIMEOUT: Duration = Duration::from_secs(20);
const STOP_TIMEOUT: Duration = Duration::from_secs(15);

/// The moxxy binary of the bench's profile: `--moxxy PATH`, else built now with cargo (a no-op
/// when it is up to date) beside this program, so one `cargo run --example bench` is enough.
pub fn binary(explicit: Option<&Path>) -> Result<PathBuf, BenchError> {
    if let Some(path) = explicit {
        // Absolute: moxxy runs in a directory of its own, where a relative path means nothing.
        return std::fs::canonicalize(path)
            .map_err(|e| BenchError::Setup(format!("--moxxy {}: {e}", path.display())));
    }
    let release = !cfg!(debug_assertions);
    let mut cargo = Command::new(env!("CARGO"));
    cargo
        .args(["build", "--quiet", "--bin", "moxxy"])
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    if release {
        cargo.arg("--release");
    }
    let status = cargo
        .status()
        .map_err(|e| BenchError::Setup(format!("run cargo to build moxxy: {e}")))?;
    if !status.success() {
        return Err(BenchError::Setup(format!("cargo build of moxxy: {status}")));
    }
    // This program is target/<profile>/examples/bench; moxxy is target/<profile>/moxxy.
    let exe = std::env::current_exe()
        .map_err(|e| BenchError::Setup(format!("where the bench runs from: {e}")))?;
    exe.parent()
        .and_then(Path::parent)
        .map(|dir| dir.join("moxxy"))
        .filter(|path| path.exists())
        .ok_or_else(|| BenchError::Setup("moxxy was built, but not found beside the bench".into()))
}

/// A running moxxy with its tokens.
pub struct MoxxyProcess {
    child: Option<Child>,
    _root: TempDir,
    pub url: String,
    /// From spawn to the ready line.
    pub start_to_ready: Duration,
    /// `admin` scope: creates the chat token, reads `/metrics`.
    pub admin: String,
    /// `chat` scope: every benchmarked request.
    pub chat: String,
}

impl MoxxyProcess {
    /// Starts moxxy with every upstream at `upstream` and waits until it is ready.
    pub async fn start(
        binary: &Path,
        upstream: &str,
        rust_log: &str,
        client: &Client,
    ) -> Result<MoxxyProcess, BenchError> {
        let root = tempfile::Builder::new()
            .prefix("moxxy-bench-")
            .tempdir()
            .map_err(|e| BenchError::Setup(format!("a temporary directory: {e}")))?;
        for dir in ["data", "home", "work"] {
            std::fs::create_dir_all(root.path().join(dir))
                .map_err(|e| BenchError::Setup(format!("{dir}: {e}")))?;
        }
        let dir = |name: &str| root.path().join(name).to_string_lossy().into_owned();
        let path = std::env::var("PATH").unwrap_or_else(|_| "/usr/bin:/bin".to_owned());
        let mut command = Command::new(binary);
        command
            .arg("serve")
            .env_clear()
            .env("PATH", path)
            .env("HOME", dir("home"))
            .env("MOXXY_BIND", "127.0.0.1:0")
            .env("MOXXY_DATA_DIR", dir("data"))
            .env("MOXXY_MASTER_KEY", MASTER_KEY)
            .env("ANTHROPIC_BASE_URL", upstream)
            .env("OPENAI_BASE_URL", format!("{upstream}/v1"))
            .env("OLLAMA_HOST", upstream)
            .env(
                "ANTHROPIC_OAUTH_TOKEN_URL",
                format!("{upstream}/v1/oauth/token"),
            )
            .env("OPENAI_API_KEY", OPENAI_KEY)
            .env("ANTHROPIC_API_KEY", ANTHROPIC_KEY)
            .env("RUST_LOG", rust_log)
            .current_dir(dir("work"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            // Logs go to a file: a terminal or a pipe nobody reads must not slow moxxy down.
            .stderr(log_file(&root.path().join("moxxy.log"))?);
        let spawned = Instant::now();
        let mut child = command
            .spawn()
            .map_err(|e| BenchError::Setup(format!("start {}: {e}", binary.display())))?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| BenchError::Setup("moxxy's stdout".to_owned()))?;
        let (ready_tx, ready_rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut sent = false;
            // Drains to the end so moxxy never blocks on a full pipe.
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if !sent {
                    if let Some(url) = line.trim().strip_prefix(READY_PREFIX) {
                        sent = ready_tx.send((Instant::now(), url.to_owned())).is_ok();
                    }
                }
            }
        });
        let waited = tokio::task::spawn_blocking(move || ready_rx.recv_timeout(READY_TIMEOUT))
            .await
            .map_err(|e| BenchError::Setup(format!("waiting for moxxy: {e}")))?;
        let (ready_at, url) = match waited {
            Ok(ready) => ready,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                let log =
                    std::fs::read_to_string(root.path().join("moxxy.log")).unwrap_or_default();
                return Err(BenchError::Setup(format!(
                    "moxxy printed no ready line within {READY_TIMEOUT:?}; its log:\n{log}"
                )));
            }
        };
        let mut moxxy = MoxxyProcess {
            child: Some(child),
            _root: root,
            url: url.trim_end_matches('/').to_owned(),
            start_to_ready: ready_at.duration_since(spawned),
            admin: String::new(),
            chat: String::new(),
        };
        moxxy.admin = moxxy
            .create_token(client, None, json!({"name": "admin", "scopes": ["admin"]}))
            .await?;
        let admin = moxxy.admin.clone();
        moxxy.chat = moxxy
            .create_token(
                client,
                Some(&admin),
                json!({"name": "bench", "scopes": ["chat"]}),
            )
            .await?;
        Ok(moxxy)
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    async fn create_token(
        &self,
        client: &Client,
        auth: Option<&str>,
        body: Value,
    ) -> Result<String, BenchError> {
        let url = format!("{}/v1/tokens", self.url);
        let (status, body) = client.post_json(&url, auth, &body).await?;
        let token = body["token"].as_str().unwrap_or_default();
        if status != 201 || !token.starts_with("mox_") {
            // The body of a failure holds no token: safe to show.
            return Err(BenchError::Setup(format!(
                "creating a token answered {status}: {body}"
            )));
        }
        Ok(token.to_owned())
    }

    /// `GET /metrics` as text.
    pub async fn metrics(&self, client: &Client) -> Result<String, BenchError> {
        let url = format!("{}/metrics", self.url);
        client.get_text(&url, Some(&self.admin)).await
    }

    /// SIGTERM, then waits for the exit (killing it after 15 s).
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if let Ok(pid) = libc::pid_t::try_from(child.id()) {
            // SAFETY: `kill` has no memory effects; the child is ours and not yet reaped.
            unsafe {
                libc::kill(pid, libc::SIGTERM);
            }
        }
        let deadline = Instant::now() + STOP_TIMEOUT;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for MoxxyProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn log_file(path: &Path) -> Result<std::fs::File, BenchError> {
    std::fs::File::create(path).map_err(|e| BenchError::Setup(format!("moxxy.log: {e}")))
}
