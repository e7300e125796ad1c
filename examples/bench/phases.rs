//! The three phases of a run, each turning its measurements into rows of the table.

use std::path::Path;
use std::time::Duration;

use hdrhistogram::Histogram;

use crate::args::{Args, Workload};
use crate::client::{self, Client, Protocol};
use crate::fake::{FakeProcess, Shape};
use crate::load::{self, Measured};
use crate::moxxy::MoxxyProcess;
use crate::procfs::{self, mib};
use crate::report::{Goal, Report, Row};
use crate::streaming::{self, Held, Paced};
use crate::BenchError;

/// The arrival rate the latency targets are stated at.
const TARGET_RATE: u64 = 1000;
/// The concurrency the throughput target is stated at.
const TARGET_CONCURRENCY: usize = 64;
/// The stream count the memory target is stated at.
const TARGET_STREAMS: usize = 10_000;
/// New streams per second while opening many.
const STREAM_RAMP: usize = 2000;
/// The chunk spacing of the held streams.
const SLOW_PACE: Duration = Duration::from_secs(1);
/// Rounds of a throughput measurement, alternating between the sides.
const ROUNDS: u32 = 5;
/// Unmeasured load at the start of each round after the first.
const ROUND_WARMUP: Duration = Duration::from_millis(100);
/// Descriptors moxxy keeps beside its streams' sockets, with room to spare.
const FD_MARGIN: u64 = 64;

fn ms(micros: u64) -> f64 {
    micros as f64 / 1000.0
}

fn pct(h: &Histogram<u64>, q: f64) -> f64 {
    ms(h.value_at_quantile(q))
}

/// Notes moxxy-side errors (and the direct side's, for the record).
fn errors(
    report: &mut Report,
    failures: &mut Vec<String>,
    name: &str,
    direct: (u64, Option<&String>),
    moxxy: (u64, Option<&String>),
) {
    if direct.0 > 0 {
        report.note(format!(
            "{name}: {} direct requests failed (first: {})",
            direct.0,
            direct.1.map_or("?", String::as_str)
        ));
    }
    if moxxy.0 > 0 {
        let line = format!(
            "{name}: {} requests through moxxy failed (first: {})",
            moxxy.0,
            moxxy.1.map_or("?", String::as_str)
        );
        report.note(line.clone());
        failures.push(line);
    }
}

/// Phase 1: a fast upstream. Start-up, idle memory, throughput, open-loop latency.
pub async fn fast(
    args: &Args,
    binary: &Path,
    report: &mut Report,
    failures: &mut Vec<String>,
) -> Result<(), BenchError> {
    let wanted = [Workload::Startup, Workload::Throughput, Workload::Latency];
    if !wanted.iter().any(|w| args.runs(*w)) {
        return Ok(());
    }
    let client = Client::new();
    let fake = FakeProcess::start(Shape::fast())?;
    let mut moxxy = MoxxyProcess::start(binary, &fake.url, &args.rust_log, &client).await?;
    let pid = moxxy.pid();
    if args.runs(Workload::Startup) {
        eprintln!("bench: start-up and idle memory");
        tokio::time::sleep(Duration::from_millis(300)).await;
        report.push(
            Row::new("start-up (empty store)", "start to ready", "ms")
                .moxxy(moxxy.start_to_ready.as_secs_f64() * 1e3)
                .goal(Goal::MoxxyAtMost(100.0)),
        );
        if let Some(rss) = procfs::rss_bytes(pid) {
            report.push(
                Row::new("idle", "RSS", "MiB")
                    .moxxy(mib(rss))
                    .goal(Goal::MoxxyAtMost(30.0)),
            );
        }
        if let Some(fds) = procfs::open_fds(pid) {
            report.push(Row::new("idle", "open fds", "count").moxxy(fds as f64));
        }
    }
    if args.runs(Workload::Throughput) {
        for protocol in Protocol::ALL {
            let direct = client::direct(&fake.url, protocol, false)?;
            let via = client::via_moxxy(&moxxy.url, &moxxy.chat, protocol, false)?;
            for &concurrency in &args.concurrency {
                let name = format!("throughput {} c{concurrency}", protocol.label());
                eprintln!("bench: {name}");
                let sides = Sides {
                    client: &client,
                    concurrency,
                    direct: (&direct, fake.pid()),
                    moxxy: (&via, pid),
                };
                let ((d, d_cpu), (m, m_cpu)) = sides.interleaved(args).await;
                let mut rate = Row::new(&name, "requests", "req/s").both(d.rate(), m.rate());
                if concurrency == TARGET_CONCURRENCY {
                    rate = rate.goal(Goal::RatioAtLeast(0.5));
                }
                report.push(rate);
                if let (Some(d_cpu), Some(m_cpu)) = (d_cpu, m_cpu) {
                    // The server's own CPU per request: the fake's direct, moxxy's through moxxy.
                    let per = |cpu: Duration, n: u64| cpu.as_secs_f64() * 1e6 / n.max(1) as f64;
                    report.push(
                        Row::new(&name, "server CPU per request", "us")
                            .both(per(d_cpu, d.completed), per(m_cpu, m.completed)),
                    );
                }
                for (label, q) in [("p50", 0.5), ("p99", 0.99)] {
                    report.push(
                        Row::new(&name, &format!("latency {label}"), "ms")
                            .both(pct(&d.latency, q), pct(&m.latency, q)),
                    );
                }
                errors(
                    report,
                    failures,
                    &name,
                    (d.errors, d.first_error.as_ref()),
                    (m.errors, m.first_error.as_ref()),
                );
            }
        }
    }
    if args.runs(Workload::Latency) {
        for protocol in Protocol::ALL {
            let direct = client::direct(&fake.url, protocol, false)?;
            let via = client::via_moxxy(&moxxy.url, &moxxy.chat, protocol, false)?;
            // Connections open, caches warm.
            load::closed_loop(&client, &direct, 16, Duration::ZERO, args.warmup).await;
            load::closed_loop(&client, &via, 16, Duration::ZERO, args.warmup).await;
            for &rate in &args.rates {
                let name = format!("latency {} {rate}/s", protocol.label());
                eprintln!("bench: {name}");
                let d = load::open_loop(&client, &direct, rate, args.duration).await;
                let m = load::open_loop(&client, &via, rate, args.duration).await;
                latency_rows(report, &name, rate, &d, &m);
                errors(
                    report,
                    failures,
                    &name,
                    (d.errors, d.first_error.as_ref()),
                    (m.errors, m.first_error.as_ref()),
                );
            }
        }
    }
    if args.runs(Workload::Throughput) || args.runs(Workload::Latency) {
        if let Some(rss) = procfs::rss_bytes(pid) {
            report.push(Row::new("after the load", "RSS", "MiB").moxxy(mib(rss)));
        }
        if let Ok(text) = moxxy.metrics(&client).await {
            if let Some(mean) = mean_overhead_ms(&text) {
                report
                    .push(Row::new("all non-streamed", "/metrics overhead mean", "ms").moxxy(mean));
            }
        }
    }
    moxxy.stop();
    Ok(())
}

/// Both sides of a throughput workload: the requests, and the server process that answers
/// each (the fake directly, moxxy through moxxy).
struct Sides<'a> {
    client: &'a Client,
    concurrency: usize,
    direct: (&'a client::Target, u32),
    moxxy: (&'a client::Target, u32),
}

impl Sides<'_> {
    /// Closed-loop runs alternating between the sides in [`ROUNDS`] rounds, so a background load
    /// that comes and goes (this machine is shared) weighs on both alike. Answers each side's
    /// merged measurement and the CPU time its server used while measured.
    async fn interleaved(
        &self,
        args: &Args,
    ) -> ((Measured, Option<Duration>), (Measured, Option<Duration>)) {
        let rounds = if args.quick { 1 } else { ROUNDS };
        let slice = args.duration / rounds;
        let mut direct = (Measured::new(Duration::ZERO), Some(Duration::ZERO));
        let mut moxxy = (Measured::new(Duration::ZERO), Some(Duration::ZERO));
        for round in 0..rounds {
            // Connections open and caches warm before the first round; later rounds reuse them.
            let warmup = if round == 0 {
                args.warmup
            } else {
                ROUND_WARMUP
            };
            for ((target, pid), total) in [(self.direct, &mut direct), (self.moxxy, &mut moxxy)] {
                let (measured, cpu) = tokio::join!(
                    load::closed_loop(self.client, target, self.concurrency, warmup, slice),
                    procfs::cpu_between(pid, warmup, slice)
                );
                total.0.merge(measured);
                total.0.extend_window(slice);
                total.1 = total.1.zip(cpu).map(|(a, b)| a + b);
            }
        }
        (direct, moxxy)
    }
}

/// Moxxy's own account of its overhead (the `x-moxxy-overhead-ms` headers it sent), when the
/// workload read them.
fn reported_overhead_rows(report: &mut Report, name: &str, reported: &Histogram<u64>) {
    if reported.is_empty() {
        return;
    }
    for (label, q) in [("p50", 0.5), ("p99", 0.99)] {
        report.push(
            Row::new(name, &format!("x-moxxy-overhead-ms {label}"), "ms").moxxy(pct(reported, q)),
        );
    }
}

fn latency_rows(report: &mut Report, name: &str, rate: u64, d: &Measured, m: &Measured) {
    report.push(Row::new(name, "achieved", "req/s").both(d.rate(), m.rate()));
    for (label, q) in [("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("max", 1.0)] {
        let mut row = Row::new(name, label, "ms").both(pct(&d.latency, q), pct(&m.latency, q));
        if rate == TARGET_RATE && label == "p50" {
            row = row.goal(Goal::OverheadAtMost(0.3));
        }
        if rate == TARGET_RATE && label == "p99" {
            row = row.goal(Goal::OverheadAtMost(1.0));
        }
        report.push(row);
    }
    reported_overhead_rows(report, name, &m.reported_overhead);
    let lag = d.dispatch_lag.max(m.dispatch_lag);
    if lag > Duration::from_millis(1) {
        report.note(format!(
            "{name}: the load generator fell up to {:.1} ms behind its schedule (counted in the latencies)",
            lag.as_secs_f64() * 1e3
        ));
    }
}

/// The mean of `moxxy_overhead_seconds` over every label set, in ms.
fn mean_overhead_ms(metrics: &str) -> Option<f64> {
    let total = |suffix: &str| -> f64 {
        metrics
            .lines()
            .filter(|l| l.starts_with(&format!("moxxy_overhead_seconds{suffix}")))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    };
    let count = total("_count");
    (count > 0.0).then(|| total("_sum") / count * 1e3)
}

/// Phase 2: paced streams. Time to first token and chunk spacing.
pub async fn paced(
    args: &Args,
    binary: &Path,
    report: &mut Report,
    failures: &mut Vec<String>,
) -> Result<(), BenchError> {
    if !args.runs(Workload::Streaming) {
        return Ok(());
    }
    let client = Client::new();
    let shape = Shape {
        chunks: args.paced_chunks,
        pace: args.pace,
        delay: Duration::ZERO,
    };
    let fake = FakeProcess::start(shape)?;
    let mut moxxy = MoxxyProcess::start(binary, &fake.url, &args.rust_log, &client).await?;
    for protocol in Protocol::ALL {
        let name = format!(
            "stream {} {}x{:.0}ms",
            protocol.label(),
            args.paced_chunks,
            args.pace.as_secs_f64() * 1e3
        );
        eprintln!("bench: {name}");
        let direct = client::direct(&fake.url, protocol, true)?;
        let via = client::via_moxxy(&moxxy.url, &moxxy.chat, protocol, true)?;
        let (c, t) = (args.paced_concurrency, args.duration);
        let d = streaming::paced(&client, &direct, c, t, args.pace).await;
        let m = streaming::paced(&client, &via, c, t, args.pace).await;
        paced_rows(report, &name, &d, &m);
        errors(
            report,
            failures,
            &name,
            (d.errors, d.first_error.as_ref()),
            (m.errors, m.first_error.as_ref()),
        );
    }
    moxxy.stop();
    Ok(())
}

fn paced_rows(report: &mut Report, name: &str, d: &Paced, m: &Paced) {
    for (label, q) in [("p50", 0.5), ("p99", 0.99)] {
        let mut row = Row::new(name, &format!("first token {label}"), "ms")
            .both(pct(&d.first_token, q), pct(&m.first_token, q));
        if label == "p99" {
            row = row.goal(Goal::OverheadAtMost(1.0));
        }
        report.push(row);
    }
    for (label, q) in [("p50", 0.5), ("p99", 0.99), ("max", 1.0)] {
        let mut row = Row::new(name, &format!("spacing error {label}"), "ms")
            .both(pct(&d.spacing_error, q), pct(&m.spacing_error, q));
        if label == "p99" {
            // Preserved: moxxy adds at most 1 ms to the upstream's own jitter.
            row = row.goal(Goal::OverheadAtMost(1.0));
        }
        report.push(row);
    }
    reported_overhead_rows(report, name, &m.reported_overhead);
    let share = |p: &Paced| 100.0 * p.coalesced as f64 / (p.tokens.max(1)) as f64;
    report.push(Row::new(name, "coalesced tokens", "%").both(share(d), share(m)));
    report.push(Row::new(name, "streams", "count").both(d.streams as f64, m.streams as f64));
}

/// Phase 3: slow streams held open by the thousand. Memory and descriptors.
pub async fn slow(
    args: &Args,
    binary: &Path,
    report: &mut Report,
    failures: &mut Vec<String>,
) -> Result<(), BenchError> {
    if !args.runs(Workload::Streams) || args.streams.is_empty() {
        return Ok(());
    }
    let client = Client::new();
    let largest = args.streams.iter().copied().max().unwrap_or(0);
    let open_timeout = Duration::from_secs((largest / STREAM_RAMP) as u64 + 30);
    let short_hold = if args.quick {
        Duration::from_millis(500)
    } else {
        Duration::from_secs(3)
    };
    // Each stream outlasts its opening and the longest hold.
    let lasts = open_timeout + args.soak.max(short_hold) + Duration::from_secs(30);
    let shape = Shape {
        chunks: (lasts.as_secs_f64() / SLOW_PACE.as_secs_f64()).ceil() as usize,
        pace: SLOW_PACE,
        delay: Duration::ZERO,
    };
    let fake = FakeProcess::start(shape)?;
    let mut moxxy = MoxxyProcess::start(binary, &fake.url, &args.rust_log, &client).await?;
    let pid = moxxy.pid();
    for &count in &args.streams {
        let name = format!("{count} open streams openai");
        eprintln!("bench: {name}");
        let direct = client::direct(&fake.url, Protocol::OpenAi, true)?;
        let via = client::via_moxxy(&moxxy.url, &moxxy.chat, Protocol::OpenAi, true)?;
        let before = Sample::take(pid);
        // Two sockets per stream (the client's and the upstream's) under moxxy's own limit.
        let limit = procfs::fd_limit(pid).unwrap_or(u64::MAX);
        let room = limit.saturating_sub(before.fds as u64 + FD_MARGIN) / 2;
        let asked = count.min(usize::try_from(room).unwrap_or(usize::MAX));
        if asked < count {
            report.note(format!(
                "{name}: moxxy may open {limit} files (RLIMIT_NOFILE, inherited; the hard limit \
                 could not be raised here), which holds {asked} streams at two sockets each: \
                 {asked} were asked for"
            ));
        }
        let soak = if count == largest {
            args.soak
        } else {
            short_hold
        };
        let fake_pid = fake.pid();
        let (d, d_samples) =
            streaming::hold(&client, &direct, count, STREAM_RAMP, open_timeout, || {
                sample_for(fake_pid, short_hold)
            })
            .await;
        let (m, m_samples) =
            streaming::hold(&client, &via, asked, STREAM_RAMP, open_timeout, || {
                sample_for(pid, soak)
            })
            .await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        let after = Sample::take(pid);
        held_rows(report, &name, &d, &d_samples, &m, &m_samples);
        let mut row = Row::new(&name, "RSS", "MiB").both(
            mib(d_samples.first().map_or(0, |s| s.rss)),
            mib(m_samples.first().map_or(0, |s| s.rss)),
        );
        if count == TARGET_STREAMS {
            row = row.goal(Goal::MoxxyAtMost(300.0));
        }
        report.push(row);
        report.push(Row::new(&name, "fds after close", "count").moxxy(after.fds as f64));
        report.push(Row::new(&name, "RSS after close", "MiB").moxxy(mib(after.rss)));
        report.push(Row::new(&name, "fds before", "count").moxxy(before.fds as f64));
        if m.opened < asked {
            let line = format!(
                "{name}: {} of {asked} streams through moxxy opened ({} failed; first: {})",
                m.opened,
                m.failed,
                m.first_error
                    .as_deref()
                    .unwrap_or("none; still waiting at the time limit")
            );
            report.note(line.clone());
            failures.push(line);
        }
        if d.opened < count {
            report.note(format!(
                "{name}: {} of {count} direct streams opened (first error: {})",
                d.opened,
                d.first_error.as_deref().unwrap_or("none")
            ));
        }
    }
    moxxy.stop();
    Ok(())
}

fn held_rows(
    report: &mut Report,
    name: &str,
    d: &Held,
    d_samples: &[Sample],
    m: &Held,
    m_samples: &[Sample],
) {
    report.push(Row::new(name, "streams opened", "count").both(d.opened as f64, m.opened as f64));
    report.push(
        Row::new(name, "time to open all", "s")
            .both(d.open_time.as_secs_f64(), m.open_time.as_secs_f64()),
    );
    let peak = |s: &[Sample]| s.iter().map(|s| s.rss).max().unwrap_or(0);
    let fds = |s: &[Sample]| s.first().map_or(0, |s| s.fds);
    report.push(
        Row::new(name, "open fds", "count").both(fds(d_samples) as f64, fds(m_samples) as f64),
    );
    report.push(
        Row::new(name, "RSS peak while held", "MiB")
            .both(mib(peak(d_samples)), mib(peak(m_samples))),
    );
    if let (Some(first), Some(last)) = (m_samples.first(), m_samples.last()) {
        let secs = last.at.saturating_sub(first.at).as_secs_f64();
        report.push(
            Row::new(name, &format!("RSS growth over {secs:.0} s held"), "MiB")
                .moxxy(mib(last.rss) - mib(first.rss)),
        );
    }
    let per_second = |h: &Held, s: &[Sample]| {
        let secs = s
            .last()
            .map_or(0.0, |l| l.at.saturating_sub(s[0].at).as_secs_f64());
        h.tokens_while_held as f64 / secs.max(1e-9)
    };
    if m_samples.len() > 1 && d_samples.len() > 1 {
        report.push(
            Row::new(name, "tokens delivered while held", "1/s")
                .both(per_second(d, d_samples), per_second(m, m_samples)),
        );
    }
}

/// One reading of a process.
#[derive(Clone, Copy, Debug, Default)]
struct Sample {
    at: Duration,
    rss: u64,
    fds: usize,
}

impl Sample {
    fn take(pid: u32) -> Sample {
        Sample {
            at: Duration::ZERO,
            rss: procfs::rss_bytes(pid).unwrap_or(0),
            fds: procfs::open_fds(pid).unwrap_or(0),
        }
    }
}

/// Reads `pid` now and once a second for `period`.
async fn sample_for(pid: u32, period: Duration) -> Vec<Sample> {
    let start = tokio::time::Instant::now();
    let mut samples = Vec::new();
    loop {
        let mut sample = Sample::take(pid);
        sample.at = start.elapsed();
        samples.push(sample);
        if start.elapsed() >= period {
            return samples;
        }
        let left = period.saturating_sub(start.elapsed());
        tokio::time::sleep(left.min(Duration::from_secs(1))).await;
    }
}
