//! Deadlines: every wait in the runtime (the launcher's wait for readiness, `--stop`'s
//! wait for the exit, the shutdown handle's timed wait) is measured against one.
//!
//! A duration from the outside can be huge (`start_timeout = 1e19`): `Instant + Duration`
//! would panic on overflow, so a deadline that cannot be represented is "never".

use std::time::{Duration, Instant};

use nix::poll::PollTimeout;

/// A point in time that a wait must not pass; possibly never.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Deadline(Option<Instant>);

impl Deadline {
    /// `timeout` from now.
    pub(crate) fn after(timeout: Duration) -> Deadline {
        Deadline(Instant::now().checked_add(timeout))
    }

    /// No deadline at all.
    pub(crate) const NEVER: Deadline = Deadline(None);

    /// The time left, zero once passed; `None` for a deadline that never comes.
    pub(crate) fn remaining(&self) -> Option<Duration> {
        self.0
            .map(|at| at.saturating_duration_since(Instant::now()))
    }

    /// Whether the deadline has passed.
    pub(crate) fn passed(&self) -> bool {
        self.remaining().is_some_and(|left| left.is_zero())
    }

    /// The time left as a `poll(2)` timeout: rounded up to a whole millisecond, so a wait
    /// does not wake just before the deadline and spin; capped at poll's maximum, after
    /// which the caller polls again.
    pub(crate) fn poll_timeout(&self) -> PollTimeout {
        match self.remaining() {
            None => PollTimeout::NONE,
            Some(left) => {
                let ms = left.as_nanos().div_ceil(1_000_000);
                PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_timeouts_never_overflow() {
        let never = Deadline::after(Duration::MAX);
        assert_eq!(never, Deadline::NEVER);
        assert!(!never.passed());
        assert_eq!(never.poll_timeout(), PollTimeout::NONE);
        let far = Deadline::after(Duration::from_secs(1 << 40));
        assert_eq!(far.poll_timeout(), PollTimeout::MAX);
    }

    #[test]
    fn a_past_deadline_has_passed() {
        let now = Deadline::after(Duration::ZERO);
        assert!(now.passed());
        assert_eq!(now.remaining(), Some(Duration::ZERO));
        assert_eq!(now.poll_timeout(), PollTimeout::ZERO);
    }

    #[test]
    fn poll_timeouts_round_up() {
        let soon = Deadline::after(Duration::from_micros(1500));
        let ms: i32 = soon.poll_timeout().into();
        assert!((1..=2).contains(&ms), "{ms}");
    }
}
