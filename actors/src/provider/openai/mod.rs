//! The openai wire protocol (in progress).
