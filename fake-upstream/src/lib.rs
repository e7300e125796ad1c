//! Fake upstream (in progress).
