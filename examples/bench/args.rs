//! The command line: what to run, for how long, and where to write the JSON.

use std::path::PathBuf;
use std::time::Duration;

/// The usage text, printed on `--help` and after a mistake.
pub const USAGE: &str = "\
usage: cargo run --release --example bench -- [options]

  --quick              a smoke run (seconds, not minutes): every workload, tiny loads
  --json PATH          where to write the results as JSON (default target/bench.json)
  --moxxy PATH         the moxxy binary to run (default: built beside this program)
  --duration-s N       seconds each throughput and latency measurement runs (default 5)
  --concurrency A,B,.. closed-loop connections of the throughput workload (default 64,256)
  --rates A,B,..       open-loop arrival rates in req/s (default 500,1000,2000,5000)
  --streams A,B,..     open streams to hold (default 1000,10000)
  --soak-s N           how long the largest stream count is held, sampling RSS (default 60)
  --pace-ms N          chunk spacing of the paced streaming workload (default 10)
  --client-threads N   threads of the load generator (default: the number of cores)
  --only LIST          run only some of: startup,throughput,latency,streaming,streams
  --rust-log FILTER    RUST_LOG for moxxy (default info, as a deployment runs it)";

/// The workloads that can be picked with `--only`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workload {
    Startup,
    Throughput,
    Latency,
    Streaming,
    Streams,
}

impl Workload {
    const ALL: [Workload; 5] = [
        Workload::Startup,
        Workload::Throughput,
        Workload::Latency,
        Workload::Streaming,
        Workload::Streams,
    ];

    fn parse(name: &str) -> Option<Workload> {
        Workload::ALL.into_iter().find(|w| w.name() == name)
    }

    fn name(self) -> &'static str {
        match self {
            Workload::Startup => "startup",
            Workload::Throughput => "throughput",
            Workload::Latency => "latency",
            Workload::Streaming => "streaming",
            Workload::Streams => "streams",
        }
    }
}

/// Everything the run needs to know.
#[derive(Clone, Debug)]
pub struct Args {
    pub quick: bool,
    pub json: PathBuf,
    pub moxxy: Option<PathBuf>,
    /// One throughput or latency measurement.
    pub duration: Duration,
    /// Unmeasured load before each measurement (connections opened, caches warm).
    pub warmup: Duration,
    pub concurrency: Vec<usize>,
    pub rates: Vec<u64>,
    pub streams: Vec<usize>,
    pub soak: Duration,
    pub pace: Duration,
    /// Chunks of one paced stream.
    pub paced_chunks: usize,
    /// Concurrent paced streams.
    pub paced_concurrency: usize,
    pub client_threads: usize,
    pub only: Vec<Workload>,
    pub rust_log: String,
}

impl Args {
    /// The defaults of a full run.
    fn full() -> Args {
        Args {
            quick: false,
            json: PathBuf::from("target/bench.json"),
            moxxy: None,
            duration: Duration::from_secs(5),
            warmup: Duration::from_millis(1000),
            concurrency: vec![64, 256],
            rates: vec![500, 1000, 2000, 5000],
            streams: vec![1000, 10_000],
            soak: Duration::from_secs(60),
            pace: Duration::from_millis(10),
            paced_chunks: 20,
            paced_concurrency: 32,
            client_threads: std::thread::available_parallelism().map_or(2, usize::from),
            only: Workload::ALL.to_vec(),
            rust_log: "info".to_owned(),
        }
    }

    /// The smoke run: every workload, for a fraction of a second each.
    fn quick(mut self) -> Args {
        self.quick = true;
        self.duration = Duration::from_millis(400);
        self.warmup = Duration::from_millis(100);
        self.rates = vec![200];
        self.streams = vec![50];
        self.soak = Duration::from_secs(1);
        self.pace = Duration::from_millis(5);
        self.paced_chunks = 5;
        self.paced_concurrency = 4;
        self
    }

    /// Whether `workload` was asked for.
    pub fn runs(&self, workload: Workload) -> bool {
        self.only.contains(&workload)
    }

    /// Parses the arguments after the program name. `--quick` applies first, so the other flags
    /// adjust a quick run too.
    pub fn parse(raw: &[String]) -> Result<Args, String> {
        let mut args = if raw.iter().any(|a| a == "--quick") {
            Args::full().quick()
        } else {
            Args::full()
        };
        let mut iter = raw.iter();
        while let Some(flag) = iter.next() {
            if flag == "--quick" {
                continue;
            }
            if flag == "--help" || flag == "-h" {
                return Err(USAGE.to_owned());
            }
            let value = iter
                .next()
                .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
            match flag.as_str() {
                "--json" => args.json = PathBuf::from(value),
                "--moxxy" => args.moxxy = Some(PathBuf::from(value)),
                "--duration-s" => args.duration = Duration::from_secs_f64(number(flag, value)?),
                "--rates" => args.rates = list(flag, value)?,
                "--concurrency" => args.concurrency = list(flag, value)?,
                "--streams" => args.streams = list(flag, value)?,
                "--soak-s" => args.soak = Duration::from_secs_f64(number(flag, value)?),
                "--pace-ms" => args.pace = Duration::from_secs_f64(number(flag, value)? / 1e3),
                "--client-threads" => args.client_threads = whole(flag, value)?.max(1),
                "--rust-log" => args.rust_log = value.clone(),
                "--only" => {
                    args.only = value
                        .split(',')
                        .map(|name| {
                            Workload::parse(name.trim())
                                .ok_or_else(|| format!("--only: no workload {name:?}\n{USAGE}"))
                        })
                        .collect::<Result<_, _>>()?;
                }
                _ => return Err(format!("unknown option {flag}\n{USAGE}")),
            }
        }
        Ok(args)
    }
}

fn number(flag: &str, value: &str) -> Result<f64, String> {
    value
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0)
        .ok_or_else(|| format!("{flag} takes a number of at least 0, not {value:?}"))
}

fn whole(flag: &str, value: &str) -> Result<usize, String> {
    value
        .parse()
        .map_err(|_| format!("{flag} takes a whole number, not {value:?}"))
}

fn list<T: std::str::FromStr>(flag: &str, value: &str) -> Result<Vec<T>, String> {
    value
        .split(',')
        .map(|v| {
            v.trim().parse().map_err(|_| {
                format!("{flag} takes whole numbers separated by commas, not {value:?}")
            })
        })
        .collect()
}
