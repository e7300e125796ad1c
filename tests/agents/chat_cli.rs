//! `moxxy chat AGENT` as a user runs it, input piped: the reply is printed as it streams, turns
//! continue one conversation, `/new` starts another, Ctrl-C stops a reply and the chat goes on.

use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use moxxy_fake_upstream::{openai, Reply};

use super::e2e::TestServer;
use super::{create_agent, requests, start};

const ROUTE: &str = "/v1/chat/completions";

/// `moxxy chat AGENT` beside `server`, with pipes; its stdout is collected as it comes.
fn spawn_chat(server: &TestServer, token: &str, agent: &str) -> (Child, Arc<Mutex<String>>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_moxxy"))
        .args(["chat", agent])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("MOXXY_URL", server.url())
        .env("MOXXY_TOKEN", token)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = Arc::new(Mutex::new(String::new()));
    let mut stdout = child.stdout.take().unwrap();
    let sink = Arc::clone(&out);
    std::thread::spawn(move || {
        let mut buf = [0u8; 1024];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    (child, out)
}

/// Waits (at most 10 s) until the output holds `text`.
async fn until_printed(out: &Arc<Mutex<String>>, text: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !out.lock().unwrap().contains(text) {
        assert!(
            Instant::now() < deadline,
            "never printed {text:?}; printed so far: {:?}",
            out.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Waits (at most 10 s) for the chat to exit; answers its stderr.
async fn until_exit(child: &mut Child) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut stderr = String::new();
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut stderr)
                .unwrap();
            assert!(status.success(), "moxxy chat failed: {stderr}");
            return stderr;
        }
        assert!(Instant::now() < deadline, "moxxy chat did not exit");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn piped_lines_stream_replies_in_one_conversation_and_new_starts_another() {
    let (server, admin) = start(None).await;
    create_agent(&server, &admin, "helper", "openai/gpt-4.1").await;
    let stream = |pieces: &[&str]| Reply::sse(openai::stream_text(openai::MODEL, pieces, None));
    server.fake().push(ROUTE, stream(&["Hello", " there", "!"]));
    server.fake().push(ROUTE, stream(&["Second", " reply"]));
    server.fake().push(ROUTE, stream(&["Fresh", " start"]));

    let (mut child, out) = spawn_chat(&server, &admin, "helper");
    child
        .stdin
        .as_mut()
        .unwrap()
        .write_all(b"Hi\nAgain\n/new\nThird\n")
        .unwrap();
    drop(child.stdin.take());
    let stderr = until_exit(&mut child).await;
    let printed = out.lock().unwrap().clone();
    assert!(printed.contains("helper> Hello there!\n"), "{printed}");
    assert!(printed.contains("helper> Second reply\n"), "{printed}");
    assert!(printed.contains("helper> Fresh start\n"), "{printed}");
    assert!(stderr.is_empty(), "{stderr}");

    let sent = requests(server.fake(), ROUTE);
    assert_eq!(sent.len(), 3);
    assert_eq!(
        sent[1].json()["messages"].as_array().unwrap().len(),
        4,
        "the same conversation"
    );
    assert_eq!(
        sent[2].json()["messages"].as_array().unwrap().len(),
        2,
        "/new started afresh"
    );
    let listed = server
        .api(&admin)
        .get("/v1/agents/helper/conversations")
        .await
        .expect(200)
        .json();
    assert_eq!(listed["data"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn ctrl_c_stops_the_reply_and_the_chat_goes_on() {
    let (server, admin) = start(None).await;
    create_agent(&server, &admin, "helper", "openai/gpt-4.1").await;
    // The first reply sends one piece, then nothing: only Ctrl-C ends it.
    server.fake().push(
        ROUTE,
        Reply::sse(openai::stream_text(
            openai::MODEL,
            &["Once upon", " a time"],
            None,
        ))
        .stall_after(2),
    );
    server.fake().push(
        ROUTE,
        Reply::sse(openai::stream_text(
            openai::MODEL,
            &["Shorter", " one"],
            None,
        )),
    );
    let (mut child, out) = spawn_chat(&server, &admin, "helper");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"Tell me a long story\n").unwrap();
    stdin.flush().unwrap();
    // The piece printed before the reply is over: it streams.
    until_printed(&out, "helper> Once upon").await;

    let pid = libc::pid_t::try_from(child.id()).unwrap();
    // SAFETY: `kill` has no memory effects; `pid` is our own child, not yet reaped.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
    until_printed(&out, "(stopped)").await;

    stdin.write_all(b"A short one then\n").unwrap();
    drop(stdin);
    until_exit(&mut child).await;
    let printed = out.lock().unwrap().clone();
    assert!(printed.contains("helper> Shorter one\n"), "{printed}");

    // The stopped turn kept its user message, marked incomplete; the next one is whole.
    let listed = server
        .api(&admin)
        .get("/v1/agents/helper/conversations")
        .await
        .expect(200)
        .json();
    let id = listed["data"][0]["id"].as_str().unwrap();
    let stored = server
        .api(&admin)
        .get(&format!("/v1/agents/helper/conversations/{id}"))
        .await
        .expect(200)
        .json();
    let messages = stored["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 3, "{stored}");
    assert_eq!(messages[0]["incomplete"], true);
    assert_eq!(messages[2]["content"], "Shorter one");
}

#[tokio::test]
async fn an_unknown_agent_is_the_apis_message() {
    let (server, admin) = start(None).await;
    let output = server
        .cli(
            &["chat", "ghost"],
            &[("MOXXY_URL", server.url()), ("MOXXY_TOKEN", &admin)],
        )
        .await;
    assert!(!output.status.success());
    assert!(
        output.stderr.contains("moxxy: Agent 'ghost' not found"),
        "{output}"
    );
}
