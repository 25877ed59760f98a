//! Standard input, output and error of the detached daemon.

use std::fs::File;
use std::os::fd::OwnedFd;

use nix::errno::Errno;
use nix::unistd::{dup2_stderr, dup2_stdin, dup2_stdout};

use crate::error::Error;

/// Points stdin at `/dev/null`, and stdout and stderr at the given log files or
/// `/dev/null`, with `dup2` so that descriptors 0-2 are never left closed for some
/// other file to take their place.
pub(crate) fn redirect_stdio(
    null: &OwnedFd,
    stdout: Option<&File>,
    stderr: Option<&File>,
) -> Result<(), Error> {
    let dup =
        |what: &str, r: Result<(), Errno>| r.map_err(|e| Error::sys(format!("dup2 {what}"), e));
    dup("stdin", dup2_stdin(null))?;
    match stdout {
        Some(file) => dup("stdout", dup2_stdout(file))?,
        None => dup("stdout", dup2_stdout(null))?,
    }
    match stderr {
        Some(file) => dup("stderr", dup2_stderr(file))?,
        None => dup("stderr", dup2_stderr(null))?,
    }
    Ok(())
}
