//! [`TestServer`]: one `moxxy serve` child process, its data directory and its logs.

use std::fs::{self, OpenOptions};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use moxxy_fake_upstream::{Canned, FakeUpstream};
use serde_json::json;
use tempfile::TempDir;

use super::http::{Api, Transcript};

/// The vault master key every test server gets: base64 of 32 fixed bytes (`e`, `f`, …).
pub const MASTER_KEY: &str = "ZWZnaGlqa2xtbm9wcXJzdHV2d3h5ent8fX5/gIGCg4Q=";

/// The one line the server prints on stdout once it accepts connections.
const READY_PREFIX: &str = "moxxy listening on ";
/// How long a start may take before the test fails with the server's stderr.
const READY_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a graceful stop (SIGTERM) may take.
const STOP_TIMEOUT: Duration = Duration::from_secs(15);
/// How often a waiting test looks at the child again.
const POLL: Duration = Duration::from_millis(20);

/// How to start a [`TestServer`]. Built with chained calls:
/// `ServerOptions::new().upstream(&fake).env("OPENAI_API_KEY", "sk-…")`.
#[derive(Clone, Debug, Default)]
pub struct ServerOptions {
    upstream: Option<FakeUpstream>,
    env: Vec<(String, String)>,
    config: Option<String>,
    wrapper: Vec<String>,
}

impl ServerOptions {
    pub fn new() -> ServerOptions {
        ServerOptions::default()
    }

    /// The fake every built-in provider points at. Without one, the server gets a fake of its
    /// own with the [`Canned`] replies installed.
    pub fn upstream(mut self, fake: &FakeUpstream) -> ServerOptions {
        self.upstream = Some(fake.clone());
        self
    }

    /// One more environment variable for the child; it wins over the harness's defaults.
    pub fn env(mut self, name: &str, value: &str) -> ServerOptions {
        self.env.push((name.to_owned(), value.to_owned()));
        self
    }

    /// `RUST_LOG` for the child (the default is `info`).
    pub fn rust_log(self, filter: &str) -> ServerOptions {
        self.env("RUST_LOG", filter)
    }

    /// A `config.toml` to pass with `serve --config PATH`.
    pub fn config(mut self, toml: &str) -> ServerOptions {
        self.config = Some(toml.to_owned());
        self
    }

    /// A command that runs the binary: `["nsenter", "--target", PID, …, "--"]` starts
    /// `nsenter … -- moxxy serve`. It must exec the binary (not fork it), so that `kill -9` and
    /// SIGTERM reach the server itself.
    pub fn wrapper(mut self, command: &[&str]) -> ServerOptions {
        self.wrapper = command.iter().map(|part| (*part).to_owned()).collect();
        self
    }
}

/// A running `moxxy serve` (or one stopped between [`stop`](TestServer::stop) or
/// [`kill9`](TestServer::kill9) and [`restart`](TestServer::restart)).
///
/// Drop kills the child. The temporary directory holds `data/` (`MOXXY_DATA_DIR`), `home/`
/// (`HOME`), `work/` (the working directory, empty, so no stray `./config.toml` is read) and
/// `server.log` (stderr of every run, appended).
pub struct TestServer {
    root: TempDir,
    fake: FakeUpstream,
    env: Vec<(String, String)>,
    config_path: Option<PathBuf>,
    wrapper: Vec<String>,
    child: Option<Child>,
    url: String,
    stdout: Arc<Mutex<String>>,
    transcript: Transcript,
}

impl TestServer {
    /// Starts `moxxy serve` and waits for its `moxxy listening on` line. Panics with the
    /// server's stderr if it does not come within 20 s.
    pub async fn start(options: ServerOptions) -> TestServer {
        let fake = match options.upstream {
            Some(fake) => fake,
            None => {
                let fake = FakeUpstream::start()
                    .await
                    .expect("start the fake upstream");
                Canned::default().install(&fake);
                fake
            }
        };
        let root = tempfile::Builder::new()
            .prefix("moxxy-e2e-")
            .tempdir()
            .expect("create a temporary directory");
        for dir in ["data", "home", "work"] {
            fs::create_dir_all(root.path().join(dir)).expect("create a test directory");
        }
        let config_path = options.config.map(|toml| {
            let path = root.path().join("config.toml");
            fs::write(&path, toml).expect("write config.toml");
            path
        });
        let env = child_env(root.path(), &fake, options.env);
        let mut server = TestServer {
            root,
            fake,
            env,
            config_path,
            wrapper: options.wrapper,
            child: None,
            url: String::new(),
            stdout: Arc::new(Mutex::new(String::new())),
            transcript: Transcript::default(),
        };
        server.spawn().await;
        server
    }

    /// `http://127.0.0.1:PORT` of the current run (the port changes on every restart).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The fake upstream the built-in providers point at.
    pub fn fake(&self) -> &FakeUpstream {
        &self.fake
    }

    /// `MOXXY_DATA_DIR`.
    pub fn data_dir(&self) -> PathBuf {
        self.root.path().join("data")
    }

    /// The environment the server process gets (what a CLI call should share).
    pub fn env(&self) -> &[(String, String)] {
        &self.env
    }

    /// A plain reqwest client (no auth), for requests the [`Api`] helpers do not cover.
    pub fn client(&self) -> reqwest::Client {
        reqwest::Client::new()
    }

    /// A client of this run that sends `token` as a bearer token.
    pub fn api(&self, token: &str) -> Api {
        Api::new(&self.url, Some(token), self.transcript.clone())
    }

    /// A client of this run that sends no `Authorization` header.
    pub fn anon(&self) -> Api {
        Api::new(&self.url, None, self.transcript.clone())
    }

    /// Every response seen through [`api`](Self::api) and [`anon`](Self::anon), all runs.
    pub fn transcript(&self) -> Vec<super::http::Seen> {
        self.transcript.all()
    }

    /// Creates the first token through the bootstrap route (`POST /v1/tokens` without auth,
    /// from loopback, while no token exists) and returns it.
    pub async fn bootstrap_admin_token(&self) -> String {
        let resp = self
            .anon()
            .post("/v1/tokens", json!({"name": "admin", "scopes": ["admin"]}))
            .await;
        assert_eq!(resp.status, 201, "bootstrap token: {resp}");
        let token = resp.json()["token"].as_str().unwrap_or_default().to_owned();
        assert!(super::is_mox_token(&token), "bootstrap token: {resp}");
        token
    }

    /// What the server printed on stdout so far (all runs).
    pub fn stdout(&self) -> String {
        lock(&self.stdout).clone()
    }

    /// What the server printed on stderr so far (all runs): its logs.
    pub fn logs(&self) -> String {
        fs::read(self.log_path())
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
            .unwrap_or_default()
    }

    /// The child's process id while it runs: for `/proc/PID` and signals.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Whether the child is still running.
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|child| matches!(child.try_wait(), Ok(None)))
    }

    /// SIGTERM, then waits for the exit (15 s at most) and returns its status.
    pub async fn stop(&mut self) -> ExitStatus {
        let mut child = self.child.take().expect("stop: the server is not running");
        let pid = libc::pid_t::try_from(child.id()).expect("pid fits pid_t");
        // SAFETY: `kill` has no memory effects; `pid` is our own child, not yet reaped, so
        // the id cannot have been reused by another process.
        let sent = unsafe { libc::kill(pid, libc::SIGTERM) };
        assert_eq!(sent, 0, "send SIGTERM to the server");
        let deadline = Instant::now() + STOP_TIMEOUT;
        loop {
            if let Some(status) = child.try_wait().expect("wait for the server") {
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "the server did not exit within {STOP_TIMEOUT:?} of SIGTERM\n--- stderr ---\n{}",
                    self.logs()
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// `kill -9`: no chance to flush or clean up, as in a crash or an OOM kill.
    pub async fn kill9(&mut self) {
        let mut child = self.child.take().expect("kill9: the server is not running");
        child.kill().expect("SIGKILL the server");
        child.wait().expect("reap the server");
    }

    /// Starts the server again on the same data directory (stopping it first, gracefully,
    /// if it still runs).
    pub async fn restart(&mut self) {
        if self.child.is_some() {
            let status = self.stop().await;
            assert!(status.success(), "graceful stop before restart: {status}");
        }
        self.spawn().await;
    }

    fn log_path(&self) -> PathBuf {
        self.root.path().join("server.log")
    }

    async fn spawn(&mut self) {
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .expect("open server.log");
        let binary = env!("CARGO_BIN_EXE_moxxy");
        let mut command = match self.wrapper.split_first() {
            Some((program, args)) => {
                let mut command = Command::new(program);
                command.args(args).arg(binary);
                command
            }
            None => Command::new(binary),
        };
        command.arg("serve");
        if let Some(path) = &self.config_path {
            command.arg("--config").arg(path);
        }
        command
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .current_dir(self.root.path().join("work"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log));
        let mut child = command.spawn().expect("spawn the moxxy binary");
        let stdout = child.stdout.take().expect("piped stdout");
        let (ready_tx, ready_rx) = mpsc::channel();
        let sink = Arc::clone(&self.stdout);
        std::thread::spawn(move || read_stdout(stdout, &sink, &ready_tx));
        self.child = Some(child);
        let waited = tokio::task::spawn_blocking(move || ready_rx.recv_timeout(READY_TIMEOUT))
            .await
            .expect("wait for the ready line");
        match waited {
            Ok(url) => self.url = url,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                self.kill_now();
                panic!(
                    "the server printed no `{READY_PREFIX}` line within {READY_TIMEOUT:?}\n\
                     --- stdout ---\n{}\n--- stderr ---\n{}",
                    self.stdout(),
                    self.logs()
                );
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let status = self.child.take().map(|mut child| child.wait());
                panic!(
                    "the server exited before it was ready ({status:?})\n\
                     --- stdout ---\n{}\n--- stderr ---\n{}",
                    self.stdout(),
                    self.logs()
                );
            }
        }
    }

    fn kill_now(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.kill_now();
    }
}

/// The child's whole environment: PATH, a private HOME, the test master key, the data
/// directory, every upstream address on the fake, then the test's own variables (which win).
fn child_env(
    root: &Path,
    fake: &FakeUpstream,
    extra: Vec<(String, String)>,
) -> Vec<(String, String)> {
    let path = std::env::var("PATH").unwrap_or_else(|_| "/usr/bin:/bin".to_owned());
    let dir = |name: &str| root.join(name).to_string_lossy().into_owned();
    let mut env = vec![
        ("PATH".to_owned(), path),
        ("HOME".to_owned(), dir("home")),
        ("MOXXY_BIND".to_owned(), "127.0.0.1:0".to_owned()),
        ("MOXXY_DATA_DIR".to_owned(), dir("data")),
        ("MOXXY_MASTER_KEY".to_owned(), MASTER_KEY.to_owned()),
        ("ANTHROPIC_BASE_URL".to_owned(), fake.url()),
        ("OPENAI_BASE_URL".to_owned(), format!("{}/v1", fake.url())),
        ("OLLAMA_HOST".to_owned(), fake.url()),
        (
            "ANTHROPIC_OAUTH_TOKEN_URL".to_owned(),
            format!("{}/v1/oauth/token", fake.url()),
        ),
        ("RUST_LOG".to_owned(), "info".to_owned()),
        ("RUST_BACKTRACE".to_owned(), "1".to_owned()),
    ];
    for (name, value) in extra {
        env.retain(|(key, _)| *key != name);
        env.push((name, value));
    }
    env
}

/// Copies the child's stdout into `sink`, line by line, and sends the URL of the first
/// `moxxy listening on URL` line. Drains to the end so the child never blocks on a full pipe.
fn read_stdout(
    stdout: std::process::ChildStdout,
    sink: &Mutex<String>,
    ready: &mpsc::Sender<String>,
) {
    let mut sent = false;
    for line in BufReader::new(stdout).lines() {
        let Ok(line) = line else { break };
        {
            let mut all = lock(sink);
            all.push_str(&line);
            all.push('\n');
        }
        if !sent {
            if let Some(url) = line.trim().strip_prefix(READY_PREFIX) {
                sent = ready.send(url.trim_end_matches('/').to_owned()).is_ok();
            }
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Every regular file under `dir`, recursively, read whole (for scanning the data directory).
pub fn files_under(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if let Ok(bytes) = fs::read(&path) {
                found.push((path, bytes));
            }
        }
    }
    found
}
