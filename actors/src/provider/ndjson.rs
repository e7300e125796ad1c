//! A newline-delimited JSON line splitter for Ollama's streams.
//!
//! Lines are split on `\n`, a trailing `\r` is dropped, blank lines are skipped, and a partial line
//! is carried across reads as bytes, so a UTF-8 character split between two reads is kept whole.

/// Incremental splitter: feed it reads, collect complete lines.
#[derive(Debug, Default)]
pub struct NdjsonDecoder {
    partial: Vec<u8>,
}

impl NdjsonDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds the next bytes and appends every line they complete (without its line end).
    pub fn feed(&mut self, bytes: &[u8], out: &mut Vec<String>) {
        let mut rest = bytes;
        while let Some(pos) = rest.iter().position(|&b| b == b'\n') {
            self.partial.extend_from_slice(&rest[..pos]);
            rest = &rest[pos + 1..];
            let line = std::mem::take(&mut self.partial);
            push_line(&line, out);
        }
        self.partial.extend_from_slice(rest);
    }

    /// The stream ended: appends a final line that had no line end.
    pub fn finish(&mut self, out: &mut Vec<String>) {
        let line = std::mem::take(&mut self.partial);
        push_line(&line, out);
    }
}

fn push_line(line: &[u8], out: &mut Vec<String>) {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.iter().all(u8::is_ascii_whitespace) {
        return;
    }
    out.push(String::from_utf8_lossy(line).into_owned());
}
