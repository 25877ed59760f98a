//! Re-exports the runtime for the UI tests.
pub use daemon_runtime;
