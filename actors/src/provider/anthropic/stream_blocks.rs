//! Content blocks of an Anthropic stream being written, from unified events whose indexes may
//! come from any protocol.
//!
//! Anthropic clients expect one block at a time (`content_block_start`, deltas, `…_stop`),
//! numbered 0, 1, 2… The unified events number parts by first appearance, and an OpenAI-style
//! source may interleave them (two tool calls whose argument fragments alternate). So:
//!
//! - Each source index gets a block, numbered on the wire in the order blocks are started.
//! - Events of the open block are written at once. Events of a new index are queued; the open
//!   block is closed to make way only when nothing more can belong to it: text and thinking at
//!   once (more text for a closed index simply opens a new block of the same kind), a tool call
//!   only once its arguments form complete JSON, since a tool call cannot be split. Queued blocks
//!   are then written, buffered content first.
//! - At the end of the answer everything is closed in order.
//!
//! In the common case (one part after the other) this streams everything as it comes; only
//! interleaved tool calls are held back until they can be written whole and in order.

use std::collections::{HashSet, VecDeque};

use serde_json::{json, Value};

use super::json::new_id;
use crate::provider::sse::write_event;

/// A piece of content for the block of one source index.
#[derive(Debug, Clone)]
pub(super) enum Piece {
    Text(String),
    Thinking(String),
    Signature(String),
    Redacted(String),
    Tool {
        id: Option<String>,
        name: Option<String>,
        arguments: String,
    },
}

/// A block's content collected while it waits in the queue.
#[derive(Debug)]
enum Body {
    Text(String),
    Thinking {
        text: String,
        signature: Option<String>,
    },
    Redacted(String),
    Tool {
        id: String,
        name: String,
        arguments: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Thinking,
    Redacted,
    Tool,
}

impl Body {
    fn new(piece: Piece) -> Self {
        match piece {
            Piece::Text(text) => Body::Text(text),
            Piece::Thinking(text) => Body::Thinking {
                text,
                signature: None,
            },
            Piece::Signature(signature) => Body::Thinking {
                text: String::new(),
                signature: Some(signature),
            },
            Piece::Redacted(data) => Body::Redacted(data),
            Piece::Tool {
                id,
                name,
                arguments,
            } => Body::Tool {
                id: id.unwrap_or_default(),
                name: name.unwrap_or_default(),
                arguments,
            },
        }
    }

    fn kind(&self) -> Kind {
        match self {
            Body::Text(_) => Kind::Text,
            Body::Thinking { .. } => Kind::Thinking,
            Body::Redacted(_) => Kind::Redacted,
            Body::Tool { .. } => Kind::Tool,
        }
    }

    fn append(&mut self, piece: Piece) {
        match (self, piece) {
            (Body::Text(text), Piece::Text(more)) => text.push_str(&more),
            (Body::Thinking { text, .. }, Piece::Thinking(more)) => text.push_str(&more),
            (Body::Thinking { signature, .. }, Piece::Signature(s)) => *signature = Some(s),
            (
                Body::Tool {
                    id,
                    name,
                    arguments,
                },
                Piece::Tool {
                    id: new_id,
                    name: new_name,
                    arguments: more,
                },
            ) => {
                if let Some(new_id) = new_id.filter(|_| id.is_empty()) {
                    *id = new_id;
                }
                if let Some(new_name) = new_name.filter(|_| name.is_empty()) {
                    *name = new_name;
                }
                arguments.push_str(&more);
            }
            _ => {}
        }
    }
}

impl Piece {
    /// Whether this piece can continue a block of `kind`.
    fn continues(&self, kind: Kind) -> bool {
        matches!(
            (self, kind),
            (Piece::Text(_), Kind::Text)
                | (Piece::Thinking(_) | Piece::Signature(_), Kind::Thinking)
                | (Piece::Tool { .. }, Kind::Tool)
        )
    }

    /// Whether this piece, arriving for a block already closed, can only be lost: a signature has
    /// nothing left to sign and argument fragments cannot be added to a finished call.
    fn needs_its_block(&self) -> bool {
        match self {
            Piece::Signature(_) => true,
            Piece::Tool { id, name, .. } => id.is_none() && name.is_none(),
            _ => false,
        }
    }
}

/// The block currently open on the wire.
#[derive(Debug)]
struct Open {
    source: u32,
    wire: u32,
    kind: Kind,
    /// A tool call's arguments so far, to tell when they are complete.
    arguments: String,
}

impl Open {
    /// Whether nothing more can belong to this block, so another may start.
    fn closable(&self) -> bool {
        match self.kind {
            Kind::Tool => {
                // A JSON object ends with `}`: checking that first keeps this cheap.
                self.arguments.trim_end().ends_with('}')
                    && serde_json::from_str::<Value>(&self.arguments).is_ok()
            }
            Kind::Text | Kind::Thinking | Kind::Redacted => true,
        }
    }
}

/// The blocks of one streamed answer.
#[derive(Debug, Default)]
pub(super) struct Blocks {
    open: Option<Open>,
    queue: VecDeque<(u32, Body)>,
    closed: HashSet<u32>,
    next_wire: u32,
}

impl Blocks {
    /// Adds a piece for source index `source` and writes what can be written.
    pub(super) fn push(&mut self, source: u32, piece: Piece, out: &mut Vec<u8>) {
        if let Some(open) = self.open.as_mut().filter(|o| o.source == source) {
            if piece.continues(open.kind) {
                write_piece(open, piece, out);
                self.advance(out);
                return;
            }
        }
        let queued = self
            .queue
            .iter_mut()
            .rev()
            .find(|(s, body)| *s == source && piece.continues(body.kind()));
        if let Some((_, body)) = queued {
            body.append(piece);
        } else if self.closed.contains(&source) && piece.needs_its_block() {
            // Nothing can be done with it (see `needs_its_block`); no source Moxxy decodes
            // sends this.
        } else {
            self.queue.push_back((source, Body::new(piece)));
        }
        self.advance(out);
    }

    /// Closes the open block and writes every queued one: the answer is complete.
    pub(super) fn close_all(&mut self, out: &mut Vec<u8>) {
        loop {
            if self.open.is_some() {
                self.close_open(out);
            } else if let Some((source, body)) = self.queue.pop_front() {
                self.start(source, body, out);
            } else {
                return;
            }
        }
    }

    fn advance(&mut self, out: &mut Vec<u8>) {
        loop {
            match &self.open {
                None => match self.queue.pop_front() {
                    Some((source, body)) => self.start(source, body, out),
                    None => return,
                },
                Some(open) if !self.queue.is_empty() && open.closable() => self.close_open(out),
                Some(_) => return,
            }
        }
    }

    fn start(&mut self, source: u32, body: Body, out: &mut Vec<u8>) {
        let wire = self.next_wire;
        self.next_wire += 1;
        let mut open = Open {
            source,
            wire,
            kind: body.kind(),
            arguments: String::new(),
        };
        let (block, pieces) = match body {
            Body::Text(text) => (json!({"type": "text", "text": ""}), vec![Piece::Text(text)]),
            Body::Thinking { text, signature } => {
                let mut pieces = vec![Piece::Thinking(text)];
                pieces.extend(signature.map(Piece::Signature));
                (
                    json!({"type": "thinking", "thinking": "", "signature": ""}),
                    pieces,
                )
            }
            Body::Redacted(data) => (json!({"type": "redacted_thinking", "data": data}), vec![]),
            Body::Tool {
                id,
                name,
                arguments,
            } => {
                let id = if id.is_empty() { new_id("toolu_") } else { id };
                let block = json!({"type": "tool_use", "id": id, "name": name, "input": {}});
                let piece = Piece::Tool {
                    id: None,
                    name: None,
                    arguments,
                };
                (block, vec![piece])
            }
        };
        let start = json!({"type": "content_block_start", "index": wire, "content_block": block});
        write_event(out, Some("content_block_start"), &start.to_string());
        for piece in pieces {
            write_piece(&mut open, piece, out);
        }
        self.open = Some(open);
    }

    fn close_open(&mut self, out: &mut Vec<u8>) {
        if let Some(open) = self.open.take() {
            let stop = json!({"type": "content_block_stop", "index": open.wire});
            write_event(out, Some("content_block_stop"), &stop.to_string());
            self.closed.insert(open.source);
        }
    }
}

/// Writes a piece of the open block as a `content_block_delta` (nothing for empty content).
fn write_piece(open: &mut Open, piece: Piece, out: &mut Vec<u8>) {
    let delta = match piece {
        Piece::Text(text) if !text.is_empty() => json!({"type": "text_delta", "text": text}),
        Piece::Thinking(text) if !text.is_empty() => {
            json!({"type": "thinking_delta", "thinking": text})
        }
        Piece::Signature(signature) if !signature.is_empty() => {
            json!({"type": "signature_delta", "signature": signature})
        }
        Piece::Tool { arguments, .. } if !arguments.is_empty() => {
            open.arguments.push_str(&arguments);
            json!({"type": "input_json_delta", "partial_json": arguments})
        }
        _ => return,
    };
    let event = json!({"type": "content_block_delta", "index": open.wire, "delta": delta});
    write_event(out, Some("content_block_delta"), &event.to_string());
}
