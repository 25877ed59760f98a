//! Which records pass: a `RUST_LOG`-style directive string.

use std::error::Error as StdError;
use std::fmt;
use std::str::FromStr;

use log::{Level, LevelFilter};

/// The level names a directive accepts, most quiet first.
const LEVELS: &str = "off, error, warn, info, debug, trace";

/// Which records are logged: a default level and per-target levels, parsed from a
/// directive string in the form `RUST_LOG` uses.
///
/// `warn,hyper=error,my_crate::db=trace` logs warnings and errors in general, only
/// errors from `hyper` and everything from `my_crate::db` and its submodules. Directives
/// are separated by commas; each is a level (the default for targets no other directive
/// matches) or `target=level`. A target matches itself and the targets below it on `::`
/// boundaries (`my_crate` matches `my_crate::db` but not `my_crate_extra`), and the
/// longest matching target wins. Levels are `off error warn info debug trace`, in any
/// case. Without a bare level, targets that no directive names are off, as with
/// `RUST_LOG`; the empty string gives the default, `info`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogFilter {
    default: LevelFilter,
    /// Longest target first, so the first match is the most specific one.
    targets: Vec<(String, LevelFilter)>,
}

impl LogFilter {
    /// A filter that lets records at `level` and above through, from every target.
    pub const fn new(level: LevelFilter) -> Self {
        LogFilter {
            default: level,
            targets: Vec::new(),
        }
    }

    /// Whether a record at `level` from `target` passes.
    pub fn enabled(&self, level: Level, target: &str) -> bool {
        level <= self.level_for(target)
    }

    /// The most verbose level any directive allows: what `log::set_max_level` gets, so
    /// that records no directive could let through cost nothing at the call site.
    pub fn max_level(&self) -> LevelFilter {
        self.targets
            .iter()
            .map(|(_, level)| *level)
            .fold(self.default, Ord::max)
    }

    fn level_for(&self, target: &str) -> LevelFilter {
        self.targets
            .iter()
            .find(|(prefix, _)| is_under(target, prefix))
            .map_or(self.default, |(_, level)| *level)
    }
}

impl Default for LogFilter {
    /// `info`: what a daemon's administrator expects without asking for more.
    fn default() -> Self {
        LogFilter::new(LevelFilter::Info)
    }
}

/// Whether `target` is `prefix` or a module below it.
fn is_under(target: &str, prefix: &str) -> bool {
    target
        .strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
}

impl FromStr for LogFilter {
    type Err = FilterError;

    fn from_str(s: &str) -> Result<Self, FilterError> {
        if s.trim().is_empty() {
            // `RUST_LOG=` is how shell scripts usually clear the variable.
            return Ok(LogFilter::default());
        }
        let mut default = LevelFilter::Off;
        let mut targets: Vec<(String, LevelFilter)> = Vec::new();
        for directive in s.split(',').map(str::trim).filter(|d| !d.is_empty()) {
            let bad = |reason| FilterError {
                directive: directive.to_owned(),
                reason,
            };
            match directive.split_once('=') {
                None => default = parse_level(directive).ok_or(bad(Reason::NotALevel))?,
                Some((target, level)) => {
                    let target = target.trim();
                    if target.is_empty() {
                        return Err(bad(Reason::EmptyTarget));
                    }
                    let level = parse_level(level.trim()).ok_or(bad(Reason::BadLevel))?;
                    // A later directive for the same target replaces the earlier one.
                    targets.retain(|(t, _)| t != target);
                    targets.push((target.to_owned(), level));
                }
            }
        }
        targets.sort_by_key(|(target, _)| std::cmp::Reverse(target.len()));
        Ok(LogFilter { default, targets })
    }
}

impl fmt::Display for LogFilter {
    /// The filter as a directive string that parses back to the same filter.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.default.as_str().to_ascii_lowercase())?;
        for (target, level) in &self.targets {
            write!(f, ",{target}={}", level.as_str().to_ascii_lowercase())?;
        }
        Ok(())
    }
}

fn parse_level(s: &str) -> Option<LevelFilter> {
    // log's parser takes exactly the six names, in any case.
    s.parse().ok()
}

/// A log filter directive that does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError {
    directive: String,
    reason: Reason,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reason {
    NotALevel,
    EmptyTarget,
    BadLevel,
}

impl FilterError {
    /// The directive at fault, as written.
    pub fn directive(&self) -> &str {
        &self.directive
    }
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let directive = &self.directive;
        match self.reason {
            Reason::NotALevel => write!(
                f,
                "invalid log directive `{directive}`: expected a level ({LEVELS}) or `target=level`"
            ),
            Reason::EmptyTarget => write!(
                f,
                "invalid log directive `{directive}`: the target before `=` is empty"
            ),
            Reason::BadLevel => write!(
                f,
                "invalid log directive `{directive}`: the level after `=` must be one of {LEVELS}"
            ),
        }
    }
}

impl StdError for FilterError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(s: &str) -> LogFilter {
        s.parse().unwrap_or_else(|e| panic!("{s:?}: {e}"))
    }

    #[test]
    fn a_bare_level_applies_to_every_target() {
        let f = filter("warn");
        assert!(f.enabled(Level::Warn, "anything::at_all"));
        assert!(f.enabled(Level::Error, "x"));
        assert!(!f.enabled(Level::Info, "x"));
        assert_eq!(f.max_level(), LevelFilter::Warn);
    }

    #[test]
    fn the_longest_matching_target_wins() {
        let f = filter("warn,hyper=error,my_crate=info,my_crate::db=trace");
        assert!(f.enabled(Level::Trace, "my_crate::db"));
        assert!(f.enabled(Level::Trace, "my_crate::db::pool"));
        assert!(f.enabled(Level::Info, "my_crate::http"));
        assert!(!f.enabled(Level::Debug, "my_crate::http"));
        assert!(!f.enabled(Level::Warn, "hyper::client"));
        assert!(f.enabled(Level::Warn, "tokio"));
        assert_eq!(f.max_level(), LevelFilter::Trace);
    }

    #[test]
    fn targets_match_on_module_boundaries_only() {
        let f = filter("off,my_crate=debug");
        assert!(f.enabled(Level::Debug, "my_crate"));
        assert!(f.enabled(Level::Debug, "my_crate::a"));
        assert!(!f.enabled(Level::Error, "my_crate_extra"));
        assert!(!f.enabled(Level::Error, "my_cr"));
        // `my_crate:` is not a module boundary either.
        assert!(!f.enabled(Level::Error, "my_crate:x"));
    }

    #[test]
    fn the_order_of_directives_does_not_decide_specificity() {
        assert_eq!(
            filter("a::b=trace,a=error"),
            filter("a=error,a::b=trace"),
            "sorted by target length, not by position"
        );
        // For one target, the later directive wins, as does a later bare level.
        let f = filter("a=error,info,a=debug,warn");
        assert!(f.enabled(Level::Debug, "a"));
        assert!(!f.enabled(Level::Info, "b"));
    }

    #[test]
    fn levels_are_case_insensitive_and_targets_are_not() {
        let f = filter("WARN,My_Crate=Trace");
        assert!(f.enabled(Level::Trace, "My_Crate"));
        assert!(!f.enabled(Level::Trace, "my_crate"));
        assert!(f.enabled(Level::Warn, "my_crate"));
    }

    #[test]
    fn off_silences_a_target_and_without_a_bare_level_others_are_off() {
        let f = filter("info,noisy=off");
        assert!(!f.enabled(Level::Error, "noisy::x"));
        assert!(f.enabled(Level::Info, "quiet"));

        let f = filter("my_crate=debug");
        assert!(f.enabled(Level::Debug, "my_crate"));
        assert!(!f.enabled(Level::Error, "other"));
        assert_eq!(f.max_level(), LevelFilter::Debug);

        assert_eq!(filter("off").max_level(), LevelFilter::Off);
    }

    #[test]
    fn empty_input_and_empty_directives() {
        assert_eq!(filter(""), LogFilter::default());
        assert_eq!(filter("  "), LogFilter::default());
        assert_eq!(filter("info,"), filter("info"));
        assert_eq!(filter(" warn , a = debug "), filter("warn,a=debug"));
    }

    #[test]
    fn errors_name_the_directive_and_the_valid_levels() {
        let e = "info,loud".parse::<LogFilter>().unwrap_err();
        assert_eq!(e.directive(), "loud");
        assert_eq!(
            e.to_string(),
            "invalid log directive `loud`: expected a level (off, error, warn, info, debug, \
             trace) or `target=level`"
        );
        let e = "db=verbose".parse::<LogFilter>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid log directive `db=verbose`: the level after `=` must be one of off, error, \
             warn, info, debug, trace"
        );
        let e = "=info".parse::<LogFilter>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid log directive `=info`: the target before `=` is empty"
        );
        assert!("warning".parse::<LogFilter>().is_err());
        assert!("a=3".parse::<LogFilter>().is_err());
    }

    #[test]
    fn display_round_trips() {
        for s in ["warn,hyper=error,my_crate::db=trace", "off", "a=debug"] {
            let f = filter(s);
            assert_eq!(filter(&f.to_string()), f, "{s} -> {f}");
        }
    }
}
