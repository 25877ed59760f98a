//! The clap `Arg`s of the settings' flags, one function per shape of flag.
//!
//! Out of line on purpose: `flag_args` expands to one call per setting, and inlining
//! sixteen `Arg` builder chains there cost about 50 KiB of stack frame (pages the daemon
//! inherits from the launcher) and 14 KiB of code.

use clap::builder::ValueParser;
use clap::{Arg, ArgAction};

/// `--flag VALUE`, read by `parser`.
#[inline(never)]
pub(super) fn push_value(
    args: &mut Vec<Arg>,
    id: &'static str,
    long: &'static str,
    value_name: &'static str,
    help: String,
    long_only: bool,
    parser: ValueParser,
) {
    args.push(
        Arg::new(id)
            .long(long)
            .value_name(value_name)
            .help(help)
            .hide_short_help(long_only)
            .value_parser(parser),
    );
}

/// The `--no-...` flag that turns the setting `on_id` off; listed in `--help` only.
#[inline(never)]
pub(super) fn push_off(
    args: &mut Vec<Arg>,
    id: &'static str,
    long: &'static str,
    help: &'static str,
    on_id: &'static str,
) {
    args.push(
        Arg::new(id)
            .long(long)
            .help(help)
            .hide_short_help(true)
            .action(ArgAction::SetTrue)
            .conflicts_with(on_id),
    );
}

/// `--flag`, present or not.
#[inline(never)]
pub(super) fn push_switch(
    args: &mut Vec<Arg>,
    id: &'static str,
    long: &'static str,
    help: String,
    long_only: bool,
) {
    args.push(
        Arg::new(id)
            .long(long)
            .help(help)
            .hide_short_help(long_only)
            .action(ArgAction::SetTrue),
    );
}
