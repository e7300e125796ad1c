//! The fake upstream, in a process of its own: the bench runs itself again with `--serve-fake`.
//!
//! Why a process: its memory and descriptors are then its own (10,000 direct streams need
//! 10,000 sockets on each side), it is scheduled like any server, and the load generator's
//! runtime does not share threads with it. The child prints its URL, serves the canned replies
//! of `moxxy_fake_upstream::Canned` and exits when its stdin closes, so it never outlives the
//! bench.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use moxxy_fake_upstream::{Canned, FakeUpstream, Options};

use crate::BenchError;

/// The flag that turns the bench into the fake upstream.
pub const SERVE_FLAG: &str = "--serve-fake";
const READY_PREFIX: &str = "fake upstream listening on ";

/// How the fake answers: chunks per stream, the pause between them, and a delay before
/// answering.
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    pub chunks: usize,
    pub pace: Duration,
    pub delay: Duration,
}

impl Shape {
    /// Answers at once, 8 chunks per stream back to back: the CPU cost per request.
    pub fn fast() -> Shape {
        Shape {
            chunks: 8,
            pace: Duration::ZERO,
            delay: Duration::ZERO,
        }
    }

    fn to_args(self) -> Vec<String> {
        vec![
            SERVE_FLAG.to_owned(),
            self.chunks.to_string(),
            self.pace.as_micros().to_string(),
            self.delay.as_micros().to_string(),
        ]
    }

    fn from_args(args: &[String]) -> Option<Shape> {
        let number = |i: usize| args.get(i)?.parse::<u64>().ok();
        Some(Shape {
            chunks: usize::try_from(number(0)?).ok()?,
            pace: Duration::from_micros(number(1)?),
            delay: Duration::from_micros(number(2)?),
        })
    }
}

/// The child's side: serve until stdin closes. `args` are those after [`SERVE_FLAG`].
pub fn serve(args: &[String]) -> Result<(), BenchError> {
    let shape = Shape::from_args(args)
        .ok_or_else(|| BenchError::Setup(format!("{SERVE_FLAG} CHUNKS PACE_US DELAY_US")))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| BenchError::Setup(format!("the fake's runtime: {e}")))?;
    runtime.block_on(async move {
        let canned = Canned {
            stream_chunks: shape.chunks,
            chunk_pause: shape.pace,
            delay: shape.delay,
        };
        let fake = FakeUpstream::start_fast(Options::default(), &canned)
            .await
            .map_err(|e| BenchError::Setup(format!("the fake upstream: {e}")))?;
        println!("{READY_PREFIX}{}", fake.url());
        // Blocks a thread of the runtime's blocking pool, not a worker.
        let _ = tokio::task::spawn_blocking(|| {
            let mut sink = Vec::new();
            let _ = std::io::stdin().read_to_end(&mut sink);
        })
        .await;
        fake.shutdown();
        Ok(())
    })
}

/// The parent's handle on a running fake. Dropping it ends the child.
pub struct FakeProcess {
    child: Child,
    pub url: String,
}

impl FakeProcess {
    /// Starts the fake with `shape` and waits for its URL.
    pub fn start(shape: Shape) -> Result<FakeProcess, BenchError> {
        let exe = std::env::current_exe()
            .map_err(|e| BenchError::Setup(format!("where the bench runs from: {e}")))?;
        let mut child = Command::new(exe)
            .args(shape.to_args())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| BenchError::Setup(format!("start the fake upstream: {e}")))?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| BenchError::Setup("the fake's stdout".to_owned()))?;
        let mut line = String::new();
        let read = BufReader::new(stdout).read_line(&mut line);
        let url = match (read, line.trim().strip_prefix(READY_PREFIX)) {
            (Ok(_), Some(url)) => url.to_owned(),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(BenchError::Setup(format!(
                    "the fake upstream did not start (it printed {line:?})"
                )));
            }
        };
        Ok(FakeProcess { child, url })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for FakeProcess {
    fn drop(&mut self) {
        // Closing stdin asks it to stop; the kill covers a child that does not listen.
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
