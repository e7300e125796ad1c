//! Assertions on what the contract fixes for every response: the error JSON, the request id,
//! and OpenAI-format SSE streams.

use serde_json::Value;

use super::http::Resp;

/// The six keys of every error object, as API.md lists them.
const ERROR_KEYS: [&str; 6] = ["type", "code", "message", "param", "provider", "request_id"];

/// Asserts that `resp` is the contract's error: `status`, a JSON body
/// `{"error":{"type","code","message","param","provider","request_id"}}` whose `message` is
/// `message` word for word, and `request_id` equal to the `x-request-id` header. Returns the
/// inner `error` object for further checks.
pub fn assert_error(resp: &Resp, status: u16, message: &str) -> Value {
    let error = assert_error_shape(resp, status);
    assert_eq!(
        error["message"].as_str(),
        Some(message),
        "error message not word for word:\n{resp}"
    );
    error
}

/// Like [`assert_error`] for errors whose message the contract leaves free (403, 409, 400):
/// the status and the shape, and a message that says something.
pub fn assert_error_shape(resp: &Resp, status: u16) -> Value {
    assert_eq!(resp.status, status, "unexpected status:\n{resp}");
    assert_eq!(
        resp.content_type(),
        "application/json",
        "an error is JSON:\n{resp}"
    );
    let body = resp.json();
    let error = body["error"].clone();
    let object = error
        .as_object()
        .unwrap_or_else(|| panic!("no `error` object:\n{resp}"));
    for key in ERROR_KEYS {
        assert!(object.contains_key(key), "error lacks `{key}`:\n{resp}");
    }
    assert!(
        error["type"].as_str().is_some_and(|t| !t.is_empty()),
        "error `type` must be a non-empty string:\n{resp}"
    );
    assert!(
        error["message"].as_str().is_some_and(|m| !m.is_empty()),
        "error `message` must say something:\n{resp}"
    );
    let id = assert_request_id(resp);
    assert_eq!(
        error["request_id"].as_str(),
        Some(id.as_str()),
        "`request_id` must equal the x-request-id header:\n{resp}"
    );
    error
}

/// Asserts that the response carries an `x-request-id` of the form `req_…` and returns it.
pub fn assert_request_id(resp: &Resp) -> String {
    let id = resp
        .header("x-request-id")
        .unwrap_or_else(|| panic!("no x-request-id header:\n{resp}"));
    assert!(
        id.starts_with("req_") && id.len() > 4,
        "x-request-id should look like `req_…`, got {id:?}"
    );
    id
}

/// An OpenAI-format SSE stream, parsed: the JSON of every `data:` line before `[DONE]`, and
/// whether `[DONE]` ended it.
#[derive(Debug)]
pub struct SseStream {
    pub chunks: Vec<Value>,
    pub done: bool,
}

impl SseStream {
    /// The `content` deltas of choice 0, joined.
    pub fn text(&self) -> String {
        self.chunks
            .iter()
            .filter_map(|chunk| chunk["choices"][0]["delta"]["content"].as_str())
            .collect()
    }

    /// The last `finish_reason` any chunk gave.
    pub fn finish_reason(&self) -> Option<String> {
        self.chunks
            .iter()
            .filter_map(|chunk| chunk["choices"][0]["finish_reason"].as_str())
            .next_back()
            .map(str::to_owned)
    }

    /// The chunks that carry a non-null `usage`.
    pub fn usage_chunks(&self) -> Vec<&Value> {
        self.chunks
            .iter()
            .filter(|chunk| chunk.get("usage").is_some_and(|u| !u.is_null()))
            .collect()
    }
}

/// Parses an OpenAI chat completions stream and checks what every such stream must hold:
/// `text/event-stream`, each `data:` line JSON until `data: [DONE]`, nothing after it, every
/// chunk a `chat.completion.chunk` with one `id`, and the first delta carrying
/// `role: "assistant"` (the OpenAI SDK expects it).
pub fn sse_chunks(resp: &Resp) -> SseStream {
    assert_eq!(resp.status, 200, "stream status:\n{resp}");
    assert_eq!(
        resp.content_type(),
        "text/event-stream",
        "stream type:\n{resp}"
    );
    let mut chunks = Vec::new();
    let mut done = false;
    for line in resp.text.lines() {
        let Some(data) = line.strip_prefix("data:") else {
            continue;
        };
        let data = data.trim();
        assert!(!done, "data after [DONE]:\n{}", resp.text);
        if data == "[DONE]" {
            done = true;
            continue;
        }
        let chunk: Value = serde_json::from_str(data)
            .unwrap_or_else(|e| panic!("chunk is not JSON ({e}): {data}\n{}", resp.text));
        chunks.push(chunk);
    }
    assert!(done, "stream must end with `data: [DONE]`:\n{}", resp.text);
    assert!(!chunks.is_empty(), "empty stream:\n{}", resp.text);
    let id = chunks[0]["id"].clone();
    for chunk in &chunks {
        assert_eq!(chunk["object"], "chat.completion.chunk", "chunk: {chunk}");
        assert_eq!(chunk["id"], id, "one id per stream: {chunk}");
    }
    assert_eq!(
        chunks[0]["choices"][0]["delta"]["role"], "assistant",
        "the first chunk carries role assistant:\n{}",
        resp.text
    );
    SseStream { chunks, done }
}

/// An SSE body as `(event name, data)` pairs, in order. `data` is the JSON it holds, or the text
/// itself when it is not JSON (`[DONE]`).
pub fn sse_events(text: &str) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for block in text.split("\n\n").filter(|b| !b.trim().is_empty()) {
        let mut event = String::new();
        let mut data = String::new();
        for line in block.lines() {
            if let Some(name) = line.strip_prefix("event: ") {
                event = name.to_string();
            } else if let Some(piece) = line.strip_prefix("data: ") {
                data.push_str(piece);
            }
        }
        let value = serde_json::from_str(&data).unwrap_or(Value::String(data));
        out.push((event, value));
    }
    out
}
