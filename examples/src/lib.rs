//! Example daemons; see `src/bin`.
