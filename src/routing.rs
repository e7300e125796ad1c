//! Model routing (in progress).
