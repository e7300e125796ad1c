//! SSE decoding (in progress).
