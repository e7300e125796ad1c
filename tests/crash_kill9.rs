//! Crash safety: `kill -9` at random moments under a steady mix of writes loses nothing that was
//! acknowledged and leaves nothing half written (issue 7, "Crash safety").
//!
//! Several clients (each owning its own keys) register, patch and delete providers, create and
//! revoke tokens, put and delete vault entries, create, patch and delete agents, run agent turns
//! (JSON and streamed) and delete conversations, while the real binary is `kill -9`ed at a random
//! moment. It is restarted on the same data directory (it must start every time), and each
//! client's keys must hold exactly what was acknowledged — or, for the one write each client had
//! in flight, that write applied whole (a turn: its user message with the reply, or, for a
//! streamed turn, the user message marked `incomplete`). Deleted things stay deleted, listed
//! tokens work and revoked ones do not, keys and vault values decrypt to what was acknowledged.
//!
//! - `MOXXY_CRASH_SEED=N` replays a run (the seed is printed at the start; the kill moments and
//!   every client's writes follow from it, though where a kill lands in a write still depends
//!   on timing).
//! - `MOXXY_CRASH_KILLS=N` sets the number of kills (default 50).

#![allow(clippy::unwrap_used)]

mod e2e;

#[path = "crash/after_restart.rs"]
mod after_restart;
#[path = "crash/checks.rs"]
mod checks;
#[path = "crash/client.rs"]
mod client;
#[path = "crash/model.rs"]
mod model;
#[path = "crash/observe.rs"]
mod observe;
#[path = "crash/reconcile.rs"]
mod reconcile;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use moxxy_fake_upstream::{openai, Canned, FakeUpstream};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use after_restart::Checker;
use client::Client;
use e2e::{ServerOptions, TestServer};

/// Concurrent clients.
const CLIENTS: usize = 4;
/// Kills when `MOXXY_CRASH_KILLS` does not say.
const DEFAULT_KILLS: usize = 50;
/// How long the clients write before a kill: a random moment in this range.
const WRITE_WINDOW_MS: std::ops::Range<u64> = 20..350;
/// Text pieces of each canned agent reply, with a pause between them, so a streamed turn is
/// open long enough for kills to land inside it.
const REPLY_CHUNKS: usize = 6;
const CHUNK_PAUSE: Duration = Duration::from_millis(3);

fn env_number(name: &str) -> Option<u64> {
    let value = std::env::var(name).ok()?;
    Some(
        value
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a whole number, got {value:?}")),
    )
}

pub use e2e::sse_events;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_at_random_moments_loses_no_acknowledged_write() {
    let seed = env_number("MOXXY_CRASH_SEED").unwrap_or_else(rand::random);
    let kills = env_number("MOXXY_CRASH_KILLS").map_or(DEFAULT_KILLS, |n| n as usize);
    println!("crash test: seed {seed} (replay with MOXXY_CRASH_SEED={seed}), {kills} kills");
    let began = Instant::now();

    let fake = FakeUpstream::start().await.unwrap();
    let canned = Canned {
        stream_chunks: REPLY_CHUNKS,
        chunk_pause: CHUNK_PAUSE,
        ..Canned::default()
    };
    canned.install(&fake);
    let ok = openai::reply(openai::completion("ok", openai::Usage::new(1, 1)));
    fake.set_default(checks::CRASH_ROUTE, ok);
    let base_url = format!("{}/crash/v1", fake.url());
    let reply = model::assistant_text(REPLY_CHUNKS);

    let options = ServerOptions::new()
        .upstream(&fake)
        .env("OPENAI_API_KEY", "sk-test-openai-crash-0123456789")
        .rust_log("warn");
    let mut server = TestServer::start(options).await;
    let admin = server.bootstrap_admin_token().await;

    let mut rng = StdRng::seed_from_u64(seed);
    let mut checker = Checker {
        admin: admin.clone(),
        base_url: base_url.clone(),
        reply: reply.clone(),
        seed,
        rng: StdRng::seed_from_u64(seed.rotate_left(17)),
        in_flight: Default::default(),
    };
    let mut clients: Vec<Client> = (0..CLIENTS).map(|i| Client::new(i, seed)).collect();
    for round in 0..kills {
        let api = server.api(&admin);
        let stop = Arc::new(AtomicBool::new(false));
        let running: Vec<_> = clients
            .into_iter()
            .map(|mut client| {
                client.round = round;
                let run = client.run(api.clone(), base_url.clone(), reply.clone(), stop.clone());
                tokio::spawn(run)
            })
            .collect();
        let window = rng.random_range(WRITE_WINDOW_MS);
        tokio::time::sleep(Duration::from_millis(window)).await;
        server.kill9().await;
        stop.store(true, Ordering::Relaxed);
        clients = Vec::with_capacity(CLIENTS);
        for task in running {
            match task.await {
                Ok(client) => clients.push(client),
                Err(e) => std::panic::resume_unwind(e.into_panic()),
            }
        }
        server.restart().await;
        checker.verify(&server, &mut clients).await;
    }

    let logs = server.logs();
    assert!(
        !logs.contains("panicked"),
        "the server panicked (seed {seed}):\n{logs}"
    );
    let acknowledged: u64 = clients.iter().map(|c| c.acknowledged).sum();
    println!(
        "crash test: {kills} kills survived, {acknowledged} writes acknowledged, all intact, in {:.1} s",
        began.elapsed().as_secs_f64()
    );
    println!("writes in flight at a kill (kind: untouched / applied whole):");
    for (kind, (untouched, applied)) in &checker.in_flight {
        println!("  {kind}: {untouched} / {applied}");
    }
}
