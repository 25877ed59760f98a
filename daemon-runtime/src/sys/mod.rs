//! Thin, checked layers over system calls, one file per family.

pub(crate) mod fs;
