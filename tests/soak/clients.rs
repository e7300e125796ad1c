//! The load: streaming clients that read every stream to its end, and slow clients that read a
//! large stream very slowly or not at all (raw sockets, so nothing buffers for them).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// What the streaming clients saw, counted across all of them.
#[derive(Default)]
pub struct Tally {
    /// Streams that ended with `data: [DONE]` and every word.
    pub complete: AtomicUsize,
    /// Streams that failed: a status other than 200, a broken body, a missing end. The first
    /// few are kept in the log.
    pub failed: AtomicUsize,
}

/// What every streaming client sends, and what a whole answer holds.
pub struct Streams {
    pub client: reqwest::Client,
    /// `…/v1/chat/completions`.
    pub url: String,
    pub token: String,
    /// A streamed request.
    pub body: Value,
    /// The words a whole answer carries, each as one content delta `w…`.
    pub words: usize,
}

/// One client: streams one completion after the other, each read to its end, from `start`
/// until `until`. A stream must carry every word and end with `[DONE]`.
pub fn stream_loop(
    streams: Arc<Streams>,
    start: Instant,
    until: Instant,
    tally: Arc<Tally>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let s = &*streams;
        tokio::time::sleep_until(start).await;
        while Instant::now() < until {
            match one_stream(&s.client, &s.url, &s.token, &s.body).await {
                Ok(text)
                    if text.ends_with("data: [DONE]\n\n")
                        && text.matches("\"content\":\"w").count() == s.words =>
                {
                    tally.complete.fetch_add(1, Ordering::Relaxed);
                }
                outcome => {
                    let n = tally.failed.fetch_add(1, Ordering::Relaxed);
                    if n < 5 {
                        let shown = match outcome {
                            Ok(text) => format!("incomplete stream: {}", tail(&text)),
                            Err(e) => e,
                        };
                        eprintln!("stream failed: {shown}");
                    }
                }
            }
        }
    })
}

/// One stream, read whole: its text, or what went wrong.
pub async fn one_stream(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    body: &Value,
) -> Result<String, String> {
    let resp = client
        .post(url)
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .map_err(|e| format!("send: {e:?}"))?;
    if resp.status() != 200 {
        return Err(format!("status {}", resp.status()));
    }
    let mut text = String::new();
    let mut stream = resp.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| format!("body: {e:?}"))?;
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    Ok(text)
}

fn tail(text: &str) -> &str {
    let at = text.len().saturating_sub(200);
    text.get(at..).unwrap_or(text)
}

/// The raw bytes of a streamed `POST /v1/chat/completions`.
pub fn raw_request(token: &str, body: &Value) -> Vec<u8> {
    let body = body.to_string();
    format!(
        "POST /v1/chat/completions HTTP/1.1\r\nHost: moxxy\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// A client that sends its request and then reads `per_tick` bytes every `tick` (0: nothing at
/// all) until dropped. Its socket's receive buffer is kept small, so what it does not read
/// waits in the server, not in this process's kernel buffers.
pub struct SlowClient {
    task: JoinHandle<()>,
    read: Arc<AtomicUsize>,
}

impl SlowClient {
    pub async fn open(addr: &str, request: &[u8], per_tick: usize, tick: Duration) -> SlowClient {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(16 * 1024).unwrap();
        let mut conn = socket.connect(addr.parse().unwrap()).await.unwrap();
        conn.write_all(request).await.unwrap();
        let read = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&read);
        let task = tokio::spawn(async move {
            let mut buf = vec![0u8; per_tick.max(1)];
            loop {
                tokio::time::sleep(tick).await;
                if per_tick == 0 {
                    continue;
                }
                match conn.read(&mut buf).await {
                    Ok(n) if n > 0 => counter.fetch_add(n, Ordering::Relaxed),
                    _ => return,
                };
            }
        });
        SlowClient { task, read }
    }

    /// Bytes read so far.
    pub fn read(&self) -> usize {
        self.read.load(Ordering::Relaxed)
    }
}

impl Drop for SlowClient {
    fn drop(&mut self) {
        // Closes the socket: the server sees the client gone at its next write.
        self.task.abort();
    }
}

/// A client that keeps `GET /healthz` going on a fresh connection every `every` for `length`;
/// answers each latency (`None` for one that failed). It runs on a thread and runtime of its own,
/// so what it measures is the server, not the queue of this process's thousands of clients.
pub fn health_probe(
    addr: String,
    every: Duration,
    length: Duration,
) -> std::thread::JoinHandle<Vec<Option<Duration>>> {
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let until = Instant::now() + length;
            let mut seen = Vec::new();
            while Instant::now() < until {
                let sent = Instant::now();
                let answer = tokio::time::timeout(Duration::from_secs(30), healthz(&addr)).await;
                seen.push(match answer {
                    Ok(true) => Some(sent.elapsed()),
                    _ => None,
                });
                tokio::time::sleep(every).await;
            }
            seen
        })
    })
}

async fn healthz(addr: &str) -> bool {
    let Ok(mut conn) = TcpStream::connect(addr).await else {
        return false;
    };
    let request = b"GET /healthz HTTP/1.1\r\nHost: moxxy\r\nConnection: close\r\n\r\n";
    if conn.write_all(request).await.is_err() {
        return false;
    }
    let mut got = Vec::new();
    let _ = conn.read_to_end(&mut got).await;
    got.starts_with(b"HTTP/1.1 200")
}
