//! What a raw socket sees: TCP resets, and whole responses in a single write.
#![allow(clippy::unwrap_used)]

use std::io::ErrorKind;
use std::time::{Duration, Instant};

use bytes::Bytes;
use moxxy_fake_upstream::{Canned, FakeUpstream, Options, Reply};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const REQUEST: &[u8] = b"GET /api/version HTTP/1.1\r\nhost: fake\r\n\r\n";

/// Reads until the peer closes or fails; returns the bytes and how it ended.
async fn read_to_end(stream: &mut TcpStream) -> (Vec<u8>, std::io::Result<()>) {
    let mut all = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) => return (all, Ok(())),
            Ok(n) => all.extend_from_slice(&buf[..n]),
            Err(error) => return (all, Err(error)),
        }
    }
}

#[tokio::test]
async fn reset_is_a_tcp_reset_before_any_byte() {
    let fake = FakeUpstream::start().await.unwrap();
    fake.push("/api/version", Reply::reset());
    let mut stream = TcpStream::connect(fake.addr()).await.unwrap();
    stream.write_all(REQUEST).await.unwrap();
    let (bytes, end) = read_to_end(&mut stream).await;
    assert!(bytes.is_empty(), "{}", String::from_utf8_lossy(&bytes));
    assert_eq!(end.unwrap_err().kind(), ErrorKind::ConnectionReset);
}

#[tokio::test]
async fn a_cut_stream_ends_in_a_tcp_reset_after_its_chunks() {
    let fake = FakeUpstream::start().await.unwrap();
    let chunks = vec![Bytes::from("data: 0\n\n"), Bytes::from("data: 1\n\n")];
    fake.push("/api/version", Reply::sse(chunks).cut_after(1));
    let mut stream = TcpStream::connect(fake.addr()).await.unwrap();
    stream.write_all(REQUEST).await.unwrap();
    let (bytes, end) = read_to_end(&mut stream).await;
    let text = String::from_utf8(bytes).unwrap();
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
    assert!(text.contains("transfer-encoding: chunked"), "{text}");
    assert!(text.ends_with("9\r\ndata: 0\n\n\r\n"), "{text:?}");
    assert_eq!(end.unwrap_err().kind(), ErrorKind::ConnectionReset);
}

/// Each response on a keep-alive connection must come in one read: head and body written
/// together, so no segment waits for the client's delayed ACK.
#[tokio::test]
async fn a_whole_response_comes_in_one_read() {
    let fake = FakeUpstream::start().await.unwrap();
    let body = json!({"version": "0.12.3", "pad": "x".repeat(2000)});
    fake.set_default("/api/version", Reply::json(200, body.clone()));
    let expected_body = body.to_string();
    let mut stream = TcpStream::connect(fake.addr()).await.unwrap();
    let mut buf = vec![0u8; 64 * 1024];
    for _ in 0..20 {
        stream.write_all(REQUEST).await.unwrap();
        let n = stream.read(&mut buf).await.unwrap();
        let text = std::str::from_utf8(&buf[..n]).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(
            head.contains(&format!("content-length: {}", expected_body.len())),
            "{head}"
        );
        assert_eq!(body, expected_body, "the body did not come with its head");
    }
}

/// With a 40 ms delayed-ACK stall per response, 200 round trips would take 8 s.
#[tokio::test]
async fn keep_alive_round_trips_do_not_stall_in_fast_mode() {
    let fake = FakeUpstream::start_fast(Options::default(), &Canned::default())
        .await
        .unwrap();
    let mut stream = TcpStream::connect(fake.addr()).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let request = b"POST /v1/chat/completions HTTP/1.1\r\nhost: fake\r\ncontent-type: application/json\r\ncontent-length: 15\r\n\r\n{\"model\":\"gpt\"}";
    let mut buf = vec![0u8; 64 * 1024];
    let started = Instant::now();
    for _ in 0..200 {
        stream.write_all(request).await.unwrap();
        let n = stream.read(&mut buf).await.unwrap();
        assert!(buf[..n].starts_with(b"HTTP/1.1 200 OK\r\n"));
        assert!(buf[..n].ends_with(b"}"), "response split across reads");
    }
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(fake.requests_served(), 200);
    assert!(fake.requests().is_empty(), "fast mode must not record");
}
