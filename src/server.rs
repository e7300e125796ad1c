//! Start-up and shutdown (in progress).
