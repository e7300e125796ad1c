//! NDJSON decoding (in progress).
