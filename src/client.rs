//! The CLI client commands (in progress).
