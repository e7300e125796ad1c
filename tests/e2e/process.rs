//! Running a child process with a deadline: the `moxxy` CLI commands, and pytest.
//!
//! Async, so that a test waiting for a command keeps its runtime free: the fake upstream runs
//! on that runtime, and the command may well make the server call it.

use std::fmt;
use std::io::Read;
use std::process::{Command, ExitStatus, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::server::TestServer;

/// How long one CLI command may take.
const CLI_TIMEOUT: Duration = Duration::from_secs(30);
/// How often a waiting test looks at the child again.
const POLL: Duration = Duration::from_millis(20);

/// What a finished command left.
#[derive(Debug)]
pub struct Output {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// The last non-empty line of stdout, trimmed.
    pub fn last_line(&self) -> &str {
        self.stdout
            .lines()
            .map(str::trim)
            .rfind(|line| !line.is_empty())
            .unwrap_or_default()
    }

    /// Panics, showing both streams, unless the command exited 0.
    pub fn expect_success(&self) -> &Output {
        assert!(self.status.success(), "command failed:\n{self}");
        self
    }
}

impl fmt::Display for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "exit: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.status, self.stdout, self.stderr
        )
    }
}

/// Runs `command` (stdin closed, stdout and stderr captured) and waits for it; kills it and
/// panics, showing what it printed, when `timeout` passes first.
pub async fn run(mut command: Command, timeout: Duration) -> Output {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {command:?}: {e}"));
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for a child") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let status = child.wait().expect("reap a child");
            let output = Output {
                status,
                stdout: joined(stdout),
                stderr: joined(stderr),
            };
            panic!("{command:?} did not finish within {timeout:?}\n{output}");
        }
        tokio::time::sleep(POLL).await;
    };
    Output {
        status,
        stdout: joined(stdout),
        stderr: joined(stderr),
    }
}

/// Reads a pipe to its end on a thread of its own, so a chatty child never blocks on it.
fn drain(pipe: Option<impl Read + Send + 'static>) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut bytes);
        }
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

fn joined(reader: JoinHandle<String>) -> String {
    reader.join().unwrap_or_default()
}

impl TestServer {
    /// Runs `moxxy ARGS` as a user would beside this server: a clean environment with PATH,
    /// the private HOME, `MOXXY_DATA_DIR` and `MOXXY_MASTER_KEY` of this server, then `env`
    /// (say `MOXXY_URL` and `MOXXY_TOKEN`). The working directory is the server's, so no stray
    /// `./config.toml` is read.
    pub async fn cli(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let inherited = ["PATH", "HOME", "MOXXY_DATA_DIR", "MOXXY_MASTER_KEY"];
        let mut command = Command::new(env!("CARGO_BIN_EXE_moxxy"));
        command.args(args).env_clear();
        for (name, value) in self.env() {
            if inherited.contains(&name.as_str()) {
                command.env(name, value);
            }
        }
        command.envs(env.iter().copied());
        command.current_dir(self.data_dir().with_file_name("work"));
        run(command, CLI_TIMEOUT).await
    }
}
