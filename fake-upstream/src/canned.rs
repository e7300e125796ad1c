//! Canned default replies for every protocol path: what the example server and the load
//! benchmark answer.
//!
//! Built and serialized once; serving one clones reference counts only. Each chat path answers
//! JSON or a stream by the request's `"stream"` flag, Ollama's `/api/chat` streaming unless told
//! `"stream": false`, as the real servers do.

use std::io;
use std::time::Duration;

use serde_json::{json, Value};

use crate::reply::Reply;
use crate::server::{FakeUpstream, Options};
use crate::{anthropic, ollama, openai};

/// The shape of the canned answers.
#[derive(Clone, Debug)]
pub struct Canned {
    /// Text pieces in a streamed answer (one chunk each), and words in a plain one.
    pub stream_chunks: usize,
    /// Pause between two chunks of a streamed answer.
    pub chunk_pause: Duration,
    /// Wait before answering (before the headers, for a stream): upstream latency.
    pub delay: Duration,
}

impl Default for Canned {
    fn default() -> Canned {
        Canned {
            stream_chunks: 8,
            chunk_pause: Duration::ZERO,
            delay: Duration::ZERO,
        }
    }
}

impl Canned {
    /// Sets every canned reply as its path's default on `fake`.
    pub fn install(&self, fake: &FakeUpstream) {
        for (path, reply) in self.replies() {
            fake.set_default(path, reply);
        }
    }

    /// Each path with its canned reply: `/v1/messages`, `/v1/chat/completions` (and
    /// `/chat/completions` for base URLs that already end in `/v1`), `/api/chat`, `/v1/models`
    /// (and `/models`), `/api/tags`, `/api/version`.
    pub fn replies(&self) -> Vec<(&'static str, Reply)> {
        let owned: Vec<String> = (0..self.stream_chunks)
            .map(|i| format!("word{i} "))
            .collect();
        let pieces: Vec<&str> = owned.iter().map(String::as_str).collect();
        let text = pieces.concat();
        let count = pieces.len() as u64;

        let messages = Reply::if_stream(
            self.stream(Reply::sse(anthropic::stream_text(
                anthropic::MODEL,
                &pieces,
            ))),
            anthropic::reply(anthropic::message(&text, anthropic::Usage::new(12, count))),
        );
        let usage = openai::Usage::new(12, count);
        let completions = Reply::if_stream(
            self.stream(Reply::sse(openai::stream_text(
                openai::MODEL,
                &pieces,
                Some(usage),
            ))),
            openai::reply(openai::completion(&text, usage)),
        );
        let chat = Reply::unless_stream_false(
            self.stream(Reply::ndjson(ollama::stream_text(ollama::MODEL, &pieces))),
            Reply::json(200, ollama::chat(&text, ollama::Usage::new(26, count))),
        );
        let models = Reply::json(200, models_for_both());
        vec![
            ("/v1/messages", self.delayed(messages)),
            ("/v1/chat/completions", self.delayed(completions.clone())),
            ("/chat/completions", self.delayed(completions)),
            ("/api/chat", self.delayed(chat)),
            ("/v1/models", models.clone()),
            ("/models", models),
            (
                "/api/tags",
                Reply::json(200, ollama::tags(&["llama3.2:latest", "qwen3:latest"])),
            ),
            (
                "/api/version",
                Reply::json(200, ollama::version(ollama::VERSION)),
            ),
        ]
    }

    fn stream(&self, stream: crate::StreamReply) -> Reply {
        stream.pause(self.chunk_pause).into()
    }

    fn delayed(&self, reply: Reply) -> Reply {
        if self.delay.is_zero() {
            reply
        } else {
            reply.delayed(self.delay)
        }
    }
}

/// One `/v1/models` body that both an Anthropic and an OpenAI client accept: each item carries
/// both vendors' fields, and the page has both list shapes' top-level fields.
fn models_for_both() -> Value {
    let ids = [
        anthropic::MODEL,
        "claude-haiku-4-5-20251001",
        openai::MODEL,
        "gpt-4.1-mini",
    ];
    let data: Vec<Value> = ids
        .iter()
        .map(|id| {
            json!({
                "id": id,
                "object": "model",
                "type": "model",
                "display_name": id,
                "created": openai::CREATED,
                "created_at": "2025-09-29T00:00:00Z",
                "owned_by": "system",
            })
        })
        .collect();
    json!({
        "object": "list",
        "data": data,
        "has_more": false,
        "first_id": ids.first(),
        "last_id": ids.last(),
    })
}

impl FakeUpstream {
    /// A fake for load: recording off, the [`Canned`] replies as defaults.
    pub async fn start_fast(options: Options, canned: &Canned) -> io::Result<FakeUpstream> {
        let fake = FakeUpstream::start_with(Options {
            record_requests: false,
            ..options
        })
        .await?;
        canned.install(&fake);
        Ok(fake)
    }
}
