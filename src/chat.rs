//! `moxxy chat AGENT`: an interactive chat with an agent of a running server.
//!
//! Each line typed is one turn, streamed: the reply is printed as it arrives. The chat continues
//! one conversation (`--conversation ID` picks up an earlier one); `/new` starts another, `/quit`
//! or end of input (Ctrl-D) leaves. Ctrl-C while a reply is coming stops that reply — the request
//! is dropped, which cancels the turn on the server — and the chat goes on; Ctrl-C at the prompt
//! leaves. Errors are the API's one-line message. Input may be piped: each line is a turn.

use std::io::{BufRead, IsTerminal, Write};
use std::time::Duration;

use moxxy_actors::provider::sse::{SseDecoder, SseEvent};
use serde_json::{json, Value};
use tokio::sync::mpsc;

use crate::client::{base_url, call, runtime, ClientError};

/// What the user typed.
enum Input {
    Line(String),
    End,
}

/// How a reply ended.
enum Outcome {
    Done,
    Stopped,
    Failed(String),
}

/// Runs the chat until the user leaves.
pub fn run(agent: String, conversation: Option<String>) -> Result<(), ClientError> {
    runtime()?.block_on(chat(agent, conversation))
}

async fn chat(agent: String, mut conversation: Option<String>) -> Result<(), ClientError> {
    // The agent must exist before anything is typed.
    let info = call(reqwest::Method::GET, &format!("/v1/agents/{agent}"), None).await?;
    let interactive = std::io::stdin().is_terminal();
    if interactive {
        println!(
            "Chatting with {agent} ({}). /new starts a new conversation, /quit or Ctrl-D leaves; \
             Ctrl-C stops a reply.",
            info["model"].as_str().unwrap_or("?")
        );
    }
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| ClientError::Usage(e.to_string()))?;
    let mut lines = read_lines();
    loop {
        if interactive {
            print!("you> ");
            flush();
        }
        let line = tokio::select! {
            line = lines.recv() => match line {
                Some(Input::Line(line)) => line,
                Some(Input::End) | None => break,
            },
            _ = tokio::signal::ctrl_c() => break,
        };
        let line = line.trim();
        match line {
            "" => continue,
            "/quit" | "/exit" => break,
            "/new" => {
                conversation = None;
                println!("(a new conversation starts with the next message)");
                continue;
            }
            _ => {}
        }
        print!("{agent}> ");
        flush();
        let turn = send_turn(&client, &agent, line, &mut conversation);
        let outcome = tokio::select! {
            outcome = turn => outcome,
            _ = tokio::signal::ctrl_c() => Outcome::Stopped,
        };
        match outcome {
            Outcome::Done => println!(),
            Outcome::Stopped => println!("\n(stopped)"),
            Outcome::Failed(message) => {
                println!();
                eprintln!("error: {message}");
            }
        }
        flush();
    }
    if interactive {
        println!();
    }
    Ok(())
}

/// Reads stdin on its own thread (reads block), line by line.
fn read_lines() -> mpsc::UnboundedReceiver<Input> {
    let (tx, rx) = mpsc::unbounded_channel();
    std::thread::spawn(move || {
        let stdin = std::io::stdin();
        for line in stdin.lock().lines() {
            match line {
                Ok(line) => {
                    if tx.send(Input::Line(line)).is_err() {
                        return;
                    }
                }
                Err(_) => break,
            }
        }
        let _ = tx.send(Input::End);
    });
    rx
}

/// One streamed turn: prints the reply as it arrives; remembers the conversation.
async fn send_turn(
    client: &reqwest::Client,
    agent: &str,
    text: &str,
    conversation: &mut Option<String>,
) -> Outcome {
    let url = base_url();
    let mut body = json!({"content": text, "stream": true});
    if let Some(id) = conversation.as_deref() {
        body["conversation_id"] = json!(id);
    }
    let mut request = client
        .post(format!("{url}/v1/agents/{agent}/messages"))
        .json(&body);
    if let Ok(token) = std::env::var("MOXXY_TOKEN") {
        request = request.bearer_auth(token.trim());
    }
    let mut response = match request.send().await {
        Ok(response) => response,
        Err(_) => return Outcome::Failed(ClientError::Unreachable { url }.to_string()),
    };
    if !response.status().is_success() {
        let status = response.status();
        let value: Value = response.json().await.unwrap_or(Value::Null);
        return Outcome::Failed(
            value["error"]["message"]
                .as_str()
                .map_or_else(|| format!("the server answered {status}"), str::to_string),
        );
    }
    let mut decoder = SseDecoder::new();
    let mut events = Vec::new();
    loop {
        let chunk = match response.chunk().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => return Outcome::Failed("the reply ended early".into()),
            Err(e) => return Outcome::Failed(format!("the reply broke off: {e}")),
        };
        decoder.feed(&chunk, &mut events);
        for event in events.drain(..) {
            if let Some(outcome) = show(&event, conversation) {
                return outcome;
            }
        }
    }
}

/// Prints one event; answers how the reply ended when it did.
fn show(event: &SseEvent, conversation: &mut Option<String>) -> Option<Outcome> {
    let data: Value = serde_json::from_str(&event.data).unwrap_or(Value::Null);
    match event.event.as_str() {
        "start" => {
            *conversation = data["conversation_id"].as_str().map(str::to_string);
        }
        "text" => {
            print!("{}", data["text"].as_str().unwrap_or(""));
            flush();
        }
        "tool_call" => {
            print!(
                "\n[tool call {} {}]",
                data["name"].as_str().unwrap_or("?"),
                data["arguments"]
            );
            flush();
        }
        "done" => return Some(Outcome::Done),
        "error" => {
            return Some(Outcome::Failed(
                data["error"]["message"]
                    .as_str()
                    .unwrap_or("the reply failed")
                    .to_string(),
            ))
        }
        _ => {}
    }
    None
}

fn flush() {
    let _ = std::io::stdout().flush();
}
