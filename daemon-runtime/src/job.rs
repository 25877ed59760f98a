//! The program's part of the start-up sequence: its privileged action, when it is
//! ready, and the descriptors it keeps.

use std::error::Error as StdError;
use std::os::fd::RawFd;

use crate::error::Error;

pub(crate) type BoxError = Box<dyn StdError + Send + Sync>;
type PrivilegedAction<T> = Box<dyn FnOnce() -> Result<T, BoxError>>;

/// When the launching process is told that the daemon is ready.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Readiness {
    /// As soon as the start-up sequence is done (privileges dropped).
    #[default]
    Auto,
    /// When the program calls [`ready`](crate::ready) (for example once it has bound
    /// its sockets), or fails with [`Daemon::fail`](crate::Daemon::fail). Returning from the program before
    /// either also tells the launcher.
    Manual,
}

/// What the start-up sequence runs besides the settings: the program's hooks into it.
pub(crate) struct Job<T> {
    /// Descriptors the daemon keeps (everything else above 2 is closed).
    pub(crate) keep_fds: Vec<RawFd>,
    pub(crate) readiness: Readiness,
    privileged: PrivilegedAction<T>,
    pub(crate) has_privileged: bool,
}

impl Job<()> {
    /// No privileged action, automatic readiness, no descriptors kept.
    pub(crate) fn new() -> Job<()> {
        Job {
            keep_fds: Vec::new(),
            readiness: Readiness::Auto,
            privileged: Box::new(|| Ok(())),
            has_privileged: false,
        }
    }
}

impl<T> Job<T> {
    /// The same job with `action` as its privileged action.
    pub(crate) fn with_privileged<U, E, F>(self, action: F) -> Job<U>
    where
        F: FnOnce() -> Result<U, E> + 'static,
        E: Into<BoxError>,
    {
        Job {
            keep_fds: self.keep_fds,
            readiness: self.readiness,
            privileged: Box::new(move || action().map_err(Into::into)),
            has_privileged: true,
        }
    }

    /// Step 10: the privileged action, as the original user.
    pub(crate) fn run_privileged(self) -> Result<(T, Readiness), Error> {
        if self.has_privileged {
            log::debug!("running the privileged action");
        }
        let value = (self.privileged)().map_err(|source| Error::PrivilegedAction { source })?;
        Ok((value, self.readiness))
    }
}
