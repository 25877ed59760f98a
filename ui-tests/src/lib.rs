//! Compile-fail and compile-pass cases for `#[daemonize]`, run by `tests/ui.rs` with
//! trybuild (`tests/ui/fail/*.rs` must fail with the `.stderr` next to them,
//! `tests/ui/pass/*.rs` must build and run). Regenerate the `.stderr` files with
//! `TRYBUILD=overwrite cargo test -p ui-tests`, then read every change.
//!
//! The runtime is re-exported so that a case can reach it through another crate, as a
//! program that re-exports it would (`crate = ::ui_tests::daemon_runtime`).

pub use daemon_runtime;
