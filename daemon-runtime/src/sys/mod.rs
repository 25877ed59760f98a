//! The system calls of the start-up sequence and of control, one module per family
//! (grouped as nix groups them): each a thin, checked wrapper that the steps call.

pub(crate) mod fd;
pub(crate) mod fs;
pub(crate) mod hardening;
pub(crate) mod pidfd;
pub(crate) mod process;
pub(crate) mod procfs;
pub(crate) mod signal;
pub(crate) mod stdio;
pub(crate) mod time;
pub(crate) mod user;
