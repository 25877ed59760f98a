//! The `#[daemonize]` attribute; see the `daemon-runtime` crate.
