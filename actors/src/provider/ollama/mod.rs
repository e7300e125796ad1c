//! The ollama wire protocol (in progress).
