//! Moxxy's load benchmark: the same workloads sent straight to a fast fake upstream and through
//! the real `moxxy` binary routed to it, side by side in one run, in one table.
//!
//! ```text
//! cargo run --release --example bench                  # the full run, a few minutes
//! cargo run --release --example bench -- --quick       # a smoke run of every workload, seconds
//! cargo run --release --example bench -- --help        # the options
//! ```
//!
//! Three phases, each with its own fake upstream (a child process) and a fresh moxxy:
//!
//! 1. fast upstream (no delay): start to ready and idle memory; closed-loop throughput at fixed
//!    concurrency; open-loop latency at fixed arrival rates.
//! 2. paced streams (a chunk every `--pace-ms`): time to first token, chunk spacing.
//! 3. slow streams (a chunk a second): thousands held open, moxxy's memory and descriptors.
//!
//! Each workload runs for the OpenAI protocol (OpenAI client, OpenAI upstream) and for a
//! translated one (OpenAI client, Anthropic upstream; sent directly, the same conversation in
//! Anthropic's format). The table goes to stdout, the JSON to `--json` (`target/bench.json`).

mod args;
mod client;
mod fake;
mod load;
mod moxxy;
mod phases;
mod procfs;
mod report;
mod streaming;

use std::process::ExitCode;

use serde_json::json;

use crate::args::Args;
use crate::report::Report;

/// Why the benchmark could not run (or found moxxy failing requests).
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// A process, port or file the run needs could not be had.
    #[error("set-up failed: {0}")]
    Setup(String),
    /// Requests through moxxy failed during a smoke run.
    #[error("{0}")]
    Failed(String),
}

fn main() -> ExitCode {
    let raw: Vec<String> = std::env::args().skip(1).collect();
    if raw.first().map(String::as_str) == Some(fake::SERVE_FLAG) {
        return exit(fake::serve(raw.get(1..).unwrap_or_default()));
    }
    let args = match Args::parse(&raw) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.client_threads)
        .enable_all()
        .build();
    match runtime {
        Ok(runtime) => exit(runtime.block_on(run(args))),
        Err(e) => exit(Err(BenchError::Setup(format!("the runtime: {e}")))),
    }
}

fn exit(result: Result<(), BenchError>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), BenchError> {
    let (soft, hard) = procfs::raise_fd_limit();
    let binary = moxxy::binary(args.moxxy.as_deref())?;
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    let cpus = std::thread::available_parallelism().map_or(0, usize::from);
    eprintln!(
        "bench: {} run, {profile} build, {cpus} cores, open files {soft}/{hard}, moxxy {}",
        if args.quick { "quick" } else { "full" },
        binary.display()
    );
    let mut report = Report::default();
    if profile == "debug" {
        report.note("debug build: the figures say nothing about speed (use --release)");
    }
    let mut failures = Vec::new();
    phases::fast(&args, &binary, &mut report, &mut failures).await?;
    phases::paced(&args, &binary, &mut report, &mut failures).await?;
    phases::slow(&args, &binary, &mut report, &mut failures).await?;

    print!("{}", report.table());
    let context = json!({
        "quick": args.quick,
        "profile": profile,
        "cpus": cpus,
        "open_files_limit": {"soft": soft, "hard": hard},
        "duration_s": args.duration.as_secs_f64(),
        "concurrency": args.concurrency,
        "rates": args.rates,
        "streams": args.streams,
        "soak_s": args.soak.as_secs_f64(),
        "pace_ms": args.pace.as_secs_f64() * 1e3,
        "client_threads": args.client_threads,
    });
    report
        .write_json(&args.json, context)
        .map_err(|e| BenchError::Setup(format!("writing {}: {e}", args.json.display())))?;
    eprintln!("bench: wrote {}", args.json.display());
    // A smoke run judges no speed, but moxxy must have answered every request it was sent.
    if args.quick && !failures.is_empty() {
        return Err(BenchError::Failed(format!(
            "requests through moxxy failed:\n  {}",
            failures.join("\n  ")
        )));
    }
    Ok(())
}
