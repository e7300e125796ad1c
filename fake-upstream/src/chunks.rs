//! Reshaping stream bytes, to test decoders across reads: the same events split at odd places,
//! all in one write, with CRLF line ends, with comments in between.

use bytes::Bytes;

/// All chunks as one: many events in a single write.
pub fn join(chunks: &[Bytes]) -> Bytes {
    let total = chunks.iter().map(Bytes::len).sum();
    let mut all = Vec::with_capacity(total);
    for chunk in chunks {
        all.extend_from_slice(chunk);
    }
    Bytes::from(all)
}

/// The same bytes re-split into chunks of `n` bytes (the last may be shorter), ignoring the
/// original boundaries: with `n = 1` every line end and UTF-8 character is split. `n = 0` is
/// taken as 1.
pub fn split_every(chunks: &[Bytes], n: usize) -> Vec<Bytes> {
    let all = join(chunks);
    let n = n.max(1);
    (0..all.len())
        .step_by(n)
        .map(|start| all.slice(start..(start + n).min(all.len())))
        .collect()
}

/// The same bytes in two chunks, split at byte `offset` (clamped to the length): iterate the
/// offset to test a split at every position, including inside a multi-byte character.
pub fn split_at(chunks: &[Bytes], offset: usize) -> Vec<Bytes> {
    let all = join(chunks);
    let offset = offset.min(all.len());
    vec![all.slice(..offset), all.slice(offset..)]
}

/// Every `\n` turned into `\r\n` (CRLF framing, as some proxies send).
pub fn to_crlf(chunks: &[Bytes]) -> Vec<Bytes> {
    chunks
        .iter()
        .map(|chunk| replace_newlines(chunk, b"\r\n"))
        .collect()
}

/// Every `\n` turned into a lone `\r` (old Mac line ends, allowed by the SSE spec).
pub fn to_cr(chunks: &[Bytes]) -> Vec<Bytes> {
    chunks
        .iter()
        .map(|chunk| replace_newlines(chunk, b"\r"))
        .collect()
}

/// An SSE comment event, `: text` and a blank line (what `: keep-alive` and `: ping` look like).
pub fn sse_comment(text: &str) -> Bytes {
    Bytes::from(format!(": {text}\n\n"))
}

/// The chunks with `extra` inserted between every two of them (e.g. `sse_comment("keep-alive")`).
pub fn interleave(chunks: &[Bytes], extra: &Bytes) -> Vec<Bytes> {
    let mut out = Vec::with_capacity(chunks.len() * 2);
    for (i, chunk) in chunks.iter().enumerate() {
        if i > 0 {
            out.push(extra.clone());
        }
        out.push(chunk.clone());
    }
    out
}

fn replace_newlines(chunk: &[u8], with: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(chunk.len() + chunk.len() / 8);
    for &byte in chunk {
        if byte == b'\n' {
            out.extend_from_slice(with);
        } else {
            out.push(byte);
        }
    }
    Bytes::from(out)
}
