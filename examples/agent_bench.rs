//! Agent turns against the fake upstream, measured beside a baseline in the same run:
//!
//! - completions/s straight to the fake and through Moxxy's `/v1/chat/completions` (the
//!   baseline: what the machine does now);
//! - turns/s through one agent (16 conversations at once) and across 50 agents (one
//!   conversation each), each turn continuing its conversation (up to 10 turns, then a new one);
//! - the time from the upstream's first token to the client's first `text` event: a streamed
//!   turn's time to its first text, minus a streamed completion's time to its first token
//!   straight from the fake (p50 / p99 of 200 sequential samples each).
//!
//! ```text
//! cargo run --release --example agent_bench -- [--seconds N]
//! ```
//!
//! The server runs in this process (its library, its HTTP server on a loopback port, a fresh data
//! directory with real fsyncs); logging is off. Everything is loopback and bounded in time.

use std::error::Error;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use moxxy_fake_upstream::{Canned, FakeUpstream, Options};
use serde_json::{json, Value};

type BoxError = Box<dyn Error + Send + Sync>;

const MASTER_KEY: &str = "ZWZnaGlqa2xtbm9wcXJzdHV2d3h5ent8fX5/gIGCg4Q=";

fn main() -> ExitCode {
    let seconds = std::env::args()
        .skip_while(|a| a != "--seconds")
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(5u64);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("agent_bench: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(bench(Duration::from_secs(seconds))) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("agent_bench: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn bench(window: Duration) -> Result<(), BoxError> {
    let fake = FakeUpstream::start_with(Options {
        record_requests: false,
        ..Options::default()
    })
    .await?;
    Canned {
        stream_chunks: 8,
        chunk_pause: Duration::from_millis(2),
        delay: Duration::ZERO,
    }
    .install(&fake);
    let data = tempfile::tempdir()?;
    let url = start_server(&fake, data.path())?;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(512)
        .build()?;
    let admin = http
        .post(format!("{url}/v1/tokens"))
        .json(&json!({"name": "bench", "scopes": ["admin"]}))
        .send()
        .await?
        .json::<Value>()
        .await?["token"]
        .as_str()
        .ok_or("no bootstrap token")?
        .to_string();
    for i in 0..50 {
        http.post(format!("{url}/v1/agents"))
            .bearer_auth(&admin)
            .json(
                &json!({"name": format!("a{i}"), "model": "openai/gpt-4.1", "system": "Be brief."}),
            )
            .send()
            .await?
            .error_for_status()?;
    }
    let client = Client { http, token: admin };
    let chat = json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]});
    let direct_url = format!("{}/v1/chat/completions", fake.url());
    let moxxy_url = format!("{url}/v1/chat/completions");
    let chat_moxxy =
        json!({"model": "openai/gpt-4.1", "messages": [{"role": "user", "content": "hi"}]});

    let (c0, u0, b0) = (client.clone(), direct_url.clone(), chat.clone());
    let direct = run_load(window, 16, move |_| {
        let (c, u, b) = (c0.clone(), u0.clone(), b0.clone());
        async move { c.post(&u, &b, false).await.map(|_| ()) }
    })
    .await;
    let (c1, u1, b1) = (client.clone(), moxxy_url, chat_moxxy);
    let proxied = run_load(window, 16, move |_| {
        let (c, u, b) = (c1.clone(), u1.clone(), b1.clone());
        async move { c.post(&u, &b, true).await.map(|_| ()) }
    })
    .await;
    let one_agent = run_turns(&client, &url, window, 16, |_| "a0".to_string()).await;
    let fifty_agents = run_turns(&client, &url, window, 50, |w| format!("a{w}")).await;

    // First token, with a 20 ms upstream time to first token (a real upstream takes hundreds):
    // straight from the fake, then through an agent.
    Canned {
        stream_chunks: 8,
        chunk_pause: Duration::from_millis(2),
        delay: Duration::from_millis(20),
    }
    .install(&fake);
    let stream_chat = json!({"model": "gpt-4o-mini", "stream": true, "messages": [{"role": "user", "content": "hi"}]});
    let mut direct_first = Vec::new();
    for _ in 0..200 {
        direct_first.push(
            client
                .first_chunk(&direct_url, &stream_chat, "word0", false)
                .await?,
        );
    }
    let mut agent_first = Vec::new();
    let turn_url = format!("{url}/v1/agents/a1/messages");
    let body = json!({"content": "hi", "stream": true});
    for _ in 0..200 {
        agent_first.push(client.first_chunk(&turn_url, &body, "word0", true).await?);
    }

    println!(
        "agent_bench: {} s per load, 2 worker threads for the client, server in-process",
        window.as_secs()
    );
    println!("{:<52} {:>10}", "workload", "per second");
    println!(
        "{:<52} {:>10.0}",
        "completions straight to the fake (c16)", direct
    );
    println!(
        "{:<52} {:>10.0}",
        "completions through /v1/chat/completions (c16)", proxied
    );
    println!(
        "{:<52} {:>10.0}",
        "agent turns, one agent, 16 conversations", one_agent
    );
    println!(
        "{:<52} {:>10.0}",
        "agent turns, 50 agents, one conversation each", fifty_agents
    );
    println!(
        "ratios: proxy/direct {:.2}, one agent/proxy {:.2}, 50 agents/proxy {:.2}",
        proxied / direct,
        one_agent / proxied,
        fifty_agents / proxied
    );
    let (d50, d99) = percentiles(&mut direct_first);
    let (a50, a99) = percentiles(&mut agent_first);
    println!(
        "first token: direct p50 {:.2} ms p99 {:.2} ms; agent first text event p50 {:.2} ms p99 {:.2} ms; added p50 {:.2} ms p99 {:.2} ms",
        ms(d50), ms(d99), ms(a50), ms(a99), ms(a50.saturating_sub(d50)), ms(a99.saturating_sub(d99))
    );
    Ok(())
}

/// Starts the server in this process on its own thread; answers its URL.
fn start_server(fake: &FakeUpstream, data: &std::path::Path) -> Result<String, BoxError> {
    let vars: Vec<(String, String)> = vec![
        ("MOXXY_MASTER_KEY".into(), MASTER_KEY.into()),
        ("OPENAI_API_KEY".into(), "sk-bench-0123456789abcdef".into()),
        ("OPENAI_BASE_URL".into(), format!("{}/v1", fake.url())),
        ("ANTHROPIC_BASE_URL".into(), fake.url()),
        ("OLLAMA_HOST".into(), fake.url()),
    ];
    let env = move |name: &str| {
        vars.iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    };
    let toml = format!(
        "[server]\nbind = \"127.0.0.1:0\"\nagent_queue_limit = 1024\n[storage]\npath = \"{}\"\n",
        data.display()
    );
    let config = moxxy::config::from_toml_str(&toml, &env)?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let system = actix_web::rt::System::new();
        let ready = tx.clone();
        let result = system.block_on(async move {
            let listener = moxxy::server::bind(&config)?;
            let addr = listener
                .local_addr()
                .map_err(moxxy::server::StartError::Serve)?;
            let state = moxxy::server::build_state(config, Arc::new(env)).await?;
            let _ = ready.send(Ok(format!("http://{addr}")));
            moxxy::server::run(state, listener).await
        });
        if let Err(e) = result {
            let _ = tx.send(Err(e.to_string()));
        }
    });
    Ok(rx.recv_timeout(Duration::from_secs(20))??)
}

#[derive(Clone)]
struct Client {
    http: reqwest::Client,
    token: String,
}

impl Client {
    async fn post(&self, url: &str, body: &Value, auth: bool) -> Result<Value, BoxError> {
        let mut request = self.http.post(url).json(body);
        if auth {
            request = request.bearer_auth(&self.token);
        }
        Ok(request.send().await?.error_for_status()?.json().await?)
    }

    /// Time from sending a streamed request to the first chunk that holds `marker`.
    async fn first_chunk(
        &self,
        url: &str,
        body: &Value,
        marker: &str,
        auth: bool,
    ) -> Result<Duration, BoxError> {
        let mut request = self.http.post(url).json(body);
        if auth {
            request = request.bearer_auth(&self.token);
        }
        let started = Instant::now();
        let mut response = request.send().await?.error_for_status()?;
        let mut seen = String::new();
        while let Some(chunk) = response.chunk().await? {
            seen.push_str(&String::from_utf8_lossy(&chunk));
            if seen.contains(marker) {
                let first = started.elapsed();
                while response.chunk().await?.is_some() {}
                return Ok(first);
            }
        }
        Err("the stream ended before its first token".into())
    }
}

/// Runs `workers` loops of `job` for `window`; answers completed jobs per second.
async fn run_load<F, Fut>(window: Duration, workers: usize, job: F) -> f64
where
    F: Fn(usize) -> Fut + Send + Sync + 'static + Clone,
    Fut: std::future::Future<Output = Result<(), BoxError>> + Send,
{
    let done = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + window;
    let started = Instant::now();
    let tasks: Vec<_> = (0..workers)
        .map(|w| {
            let (job, done) = (job.clone(), Arc::clone(&done));
            tokio::spawn(async move {
                while Instant::now() < deadline {
                    if job(w).await.is_ok() {
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        let _ = task.await;
    }
    done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

/// A worker's conversation and how many turns it has had.
type Slot = tokio::sync::Mutex<(Option<String>, u32)>;

/// Turns per second: each worker continues its own conversation on agent `agent(worker)`.
async fn run_turns(
    client: &Client,
    url: &str,
    window: Duration,
    workers: usize,
    agent: impl Fn(usize) -> String + Send + Sync + 'static,
) -> f64 {
    let agent = Arc::new(agent);
    let (client, url) = (client.clone(), url.to_string());
    let conversations: Arc<Vec<Slot>> = Arc::new(
        (0..workers)
            .map(|_| tokio::sync::Mutex::new((None, 0)))
            .collect(),
    );
    run_load(window, workers, move |w| {
        let (client, url, agent, conversations) = (
            client.clone(),
            url.clone(),
            Arc::clone(&agent),
            Arc::clone(&conversations),
        );
        async move {
            let mut slot = conversations[w].lock().await;
            let mut body = json!({"content": "hi"});
            if let (Some(id), n) = (&slot.0, slot.1) {
                if n < 10 {
                    body["conversation_id"] = json!(id);
                }
            }
            let answer = client
                .post(
                    &format!("{url}/v1/agents/{}/messages", agent(w)),
                    &body,
                    true,
                )
                .await?;
            let id = answer["conversation_id"].as_str().map(str::to_string);
            *slot = if slot.0 == id {
                (id, slot.1 + 1)
            } else {
                (id, 1)
            };
            Ok(())
        }
    })
    .await
}

fn percentiles(samples: &mut [Duration]) -> (Duration, Duration) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    (at(0.5), at(0.99))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
