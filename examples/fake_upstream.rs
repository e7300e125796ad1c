//! A fake LLM upstream speaking the Anthropic, OpenAI and Ollama wire formats, for trying Moxxy
//! without keys and for load tests.
//!
//! ```text
//! cargo run --example fake_upstream -- [--port N] [--chunks N] [--pace-ms N] [--delay-ms N] [--record]
//! ```
//!
//! Every chat path answers JSON, or a stream when the request says `"stream": true` (Ollama's
//! `/api/chat` streams unless told `"stream": false`); see `moxxy_fake_upstream::Canned` for
//! the paths. Runs until Ctrl-C.

use std::error::Error;
use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::time::Duration;

use moxxy_fake_upstream::{Canned, FakeUpstream, Options};

const USAGE: &str =
    "usage: fake_upstream [--port N] [--chunks N] [--pace-ms N] [--delay-ms N] [--record]";

#[tokio::main]
async fn main() -> ExitCode {
    let (options, canned) = match parse_args(std::env::args().skip(1)) {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    match serve(options, canned).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("fake upstream: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(options: Options, canned: Canned) -> Result<(), Box<dyn Error>> {
    let fake = FakeUpstream::start_with(options).await?;
    canned.install(&fake);
    println!("fake upstream listening on {}", fake.url());
    println!(
        "  {} chunks per stream, {:?} apart, {:?} before each answer",
        canned.stream_chunks, canned.chunk_pause, canned.delay
    );
    tokio::signal::ctrl_c().await?;
    fake.shutdown();
    println!("served {} requests", fake.requests_served());
    Ok(())
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<(Options, Canned), String> {
    let mut options = Options {
        record_requests: false,
        ..Options::default()
    };
    let mut canned = Canned::default();
    while let Some(flag) = args.next() {
        if flag == "--record" {
            options.record_requests = true;
            continue;
        }
        let value = args
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        let number: u64 = value
            .parse()
            .map_err(|_| format!("{flag} takes a whole number, not {value:?}\n{USAGE}"))?;
        match flag.as_str() {
            "--port" => {
                let port = u16::try_from(number).map_err(|_| format!("no port {number}"))?;
                options.addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
            }
            "--chunks" => canned.stream_chunks = usize::try_from(number).unwrap_or(usize::MAX),
            "--pace-ms" => canned.chunk_pause = Duration::from_millis(number),
            "--delay-ms" => canned.delay = Duration::from_millis(number),
            _ => return Err(format!("unknown option {flag}\n{USAGE}")),
        }
    }
    Ok((options, canned))
}
