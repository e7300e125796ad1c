//! Slowloris clients: one that sends its request headers a byte a second, one that sends its
//! headers and then trickles the body. Each answers how long the server let it hold the
//! connection, and what it got back.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

/// How long a slowloris client trickles before it gives up on the server cutting it: past this,
/// the test fails.
pub const GIVE_UP: Duration = Duration::from_secs(60);
/// One byte per this.
const TRICKLE: Duration = Duration::from_secs(1);

/// What a slowloris client saw.
pub struct Cut {
    /// From the moment the trickle began to the server closing the connection; `None` if it
    /// never did within [`GIVE_UP`].
    pub after: Option<Duration>,
    /// From the moment the trickle began to the server's first answer byte.
    pub answered: Option<Duration>,
    /// What the server wrote before closing.
    pub answer: String,
}

/// Sends the start of a request's headers, then one more header byte a second.
pub async fn headers(addr: &str) -> Cut {
    let conn = TcpStream::connect(addr).await.unwrap();
    trickle(conn, b"GET /healthz HTTP/1.1\r\nHost: moxxy\r\nX-Slow: ").await
}

/// Sends complete headers announcing a 10,000-byte JSON body, then one body byte a second.
pub async fn body(addr: &str, token: &str) -> Cut {
    let conn = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nHost: moxxy\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: 10000\r\n\r\n{{"
    );
    trickle(conn, head.as_bytes()).await
}

/// Writes `start`, then a byte every second while reading whatever comes back, until the server
/// closes the connection (a read of 0 or an error, or a write that fails).
async fn trickle(mut conn: TcpStream, start: &[u8]) -> Cut {
    let began = Instant::now();
    let mut answer = Vec::new();
    let mut answered = None;
    if conn.write_all(start).await.is_err() {
        return Cut {
            after: Some(began.elapsed()),
            answered: None,
            answer: String::new(),
        };
    }
    let (mut reader, mut writer) = conn.into_split();
    let mut next_byte = tokio::time::interval_at(Instant::now() + TRICKLE, TRICKLE);
    let mut buf = [0u8; 4096];
    let give_up = tokio::time::sleep(GIVE_UP);
    tokio::pin!(give_up);
    let after = loop {
        tokio::select! {
            read = reader.read(&mut buf) => match read {
                Ok(n) if n > 0 => {
                    answered.get_or_insert_with(|| began.elapsed());
                    answer.extend_from_slice(&buf[..n]);
                }
                _ => break Some(began.elapsed()),
            },
            _ = next_byte.tick() => {
                if writer.write_all(b"a").await.is_err() {
                    break Some(began.elapsed());
                }
            }
            () = &mut give_up => break None,
        }
    };
    Cut {
        after,
        answered,
        answer: String::from_utf8_lossy(&answer).into_owned(),
    }
}
