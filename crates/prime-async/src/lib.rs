//! Arrives with its own issue; see the workspace README.
#![forbid(unsafe_code)]
