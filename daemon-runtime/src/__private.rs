//! Support for the code `#[daemonize]` generates.
//!
//! Not public API: anything here may change in any release. The generated code is one
//! call into this module with the attribute's values; the clap, config and start-up
//! logic all live in the runtime.

use std::error::Error as StdError;
use std::fmt::Debug;
use std::marker::PhantomData;
use std::ops::Deref;
use std::process::ExitCode;

use clap::Parser;

use crate::builder::Builder;
use crate::cli::{DaemonArgs, Parsed};
use crate::daemon::{Daemon, report_failure, startup_pending};
use crate::error::exit;
use crate::settings::Settings;

/// A process handle that a reused pid cannot stand in for (a pidfd where the kernel
/// has them); the integration tests and the benchmark use the runtime's own.
pub use crate::sys::pidfd::Process;

/// A builder whose code-level values are reported as coming from `#[daemonize]`.
pub fn builder() -> Builder<()> {
    Daemon::builder().set_by_attribute()
}

/// What a `#[daemonize]` function may return: whether it failed, so that a launcher
/// still waiting for readiness can print it, and the log has it.
#[diagnostic::on_unimplemented(
    message = "a `#[daemonize]` function must return `()`, `Result<_, E>`, `ExitCode` or `impl Termination`, not `{Self}`",
    label = "this return type"
)]
pub trait Outcome {
    /// The failure to report, if this outcome is one.
    fn failure(&self) -> Option<String>;

    /// Whether returning it from `main` makes Rust print it with `Debug` (an `Err`):
    /// the runtime has reported it already, with `Display` and its causes.
    fn is_err(&self) -> bool {
        false
    }
}

impl Outcome for () {
    fn failure(&self) -> Option<String> {
        None
    }
}

impl Outcome for ExitCode {
    fn failure(&self) -> Option<String> {
        (*self != ExitCode::SUCCESS).then(|| "the program exited with a failure status".to_owned())
    }
}

impl<T, E: Debug> Outcome for Result<T, E> {
    fn failure(&self) -> Option<String> {
        // An error that is not a `std::error::Error`: as Rust prints one returned from
        // `main`.
        self.as_ref().err().map(|e| format!("{e:?}"))
    }

    fn is_err(&self) -> bool {
        self.is_err()
    }
}

/// The outcome of the body, looked at by the generated code where its type is known:
/// `(&&&Report(&outcome)).failure()` picks the most telling description it has
/// (autoref specialization, tried in this order: [`ViaError`] on `&&Report`,
/// [`ViaDeref`] on `&&&Report`, [`ViaOutcome`] on `&Report`, [`ViaNothing`] on
/// `Report`). The last takes any type, so that a return type that is not an
/// [`Outcome`] is reported once, by [`Outcome`]'s message.
pub struct Report<'a, R>(pub &'a R);

/// An `Err` whose error is a `std::error::Error`: its `Display` and its `source()` chain.
pub trait ViaError {
    /// The failure, if the outcome is one.
    fn failure(&self) -> Option<String>;
}

impl<T, E: StdError> ViaError for &&Report<'_, Result<T, E>> {
    fn failure(&self) -> Option<String> {
        self.0.as_ref().err().map(|e| chain(e))
    }
}

/// An `Err` holding a boxed error, or one that derefs to an error (`anyhow::Error`):
/// the same as [`ViaError`], through the box.
pub trait ViaDeref {
    /// The failure, if the outcome is one.
    fn failure(&self) -> Option<String>;
}

impl<T, E> ViaDeref for &&&Report<'_, Result<T, E>>
where
    E: Deref,
    E::Target: StdError,
{
    fn failure(&self) -> Option<String> {
        self.0.as_ref().err().map(|e| chain(&**e))
    }
}

/// Any other [`Outcome`]: its own description.
pub trait ViaOutcome {
    /// The failure, if the outcome is one.
    fn failure(&self) -> Option<String>;
}

impl<R: Outcome> ViaOutcome for &Report<'_, R> {
    fn failure(&self) -> Option<String> {
        self.0.failure()
    }
}

/// Not an [`Outcome`] at all: the bound on the runtime's entry points reports that.
pub trait ViaNothing {
    /// Nothing.
    fn failure(&self) -> Option<String>;
}

impl<R> ViaNothing for Report<'_, R> {
    fn failure(&self) -> Option<String> {
        None
    }
}

/// `error: cause: cause of the cause`.
fn chain<E: StdError + ?Sized>(error: &E) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// `fn main()`: the runtime's own command line.
pub fn main_bare<T, R: Outcome>(
    builder: Builder<T>,
    name: &'static str,
    version: &'static str,
    about: Option<&'static str>,
    body: impl FnOnce(T) -> (R, Option<String>),
) -> R {
    let builder = builder.default_name(name);
    let defaults = builder.help_defaults();
    let cmd = DaemonArgs::command_with(name, version, about, defaults.as_ref());
    let args = DaemonArgs::parse_command(cmd);
    run(builder, args, body)
}

/// `fn main(cli: Cli)`: the program's parser plus the daemon flags. The generated code
/// passes `<Cli as CommandLine>::parse`, so that a parameter that is not a parser is
/// reported at its type with [`CommandLine`]'s message.
pub fn main_with_parser<C, T, R: Outcome>(
    builder: Builder<T>,
    name: &'static str,
    parse: fn(Option<&Settings>) -> Parsed<C>,
    body: impl FnOnce(C, T) -> (R, Option<String>),
) -> R {
    let builder = builder.default_name(name);
    match parse(builder.help_defaults().as_ref()) {
        Parsed::Start(cli, args) => run(builder, args, |value| body(cli, value)),
        Parsed::Control(args) => builder.args(args).control(),
    }
}

/// The parameter of `fn main(cli: Cli)`: the program's own `clap::Parser`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a command-line parser: `#[daemonize] fn main` takes the program's `#[derive(clap::Parser)]` type",
    label = "not a `clap::Parser`",
    note = "derive `clap::Parser` for it; or, if this parameter takes the value of a privileged action, name the action: `#[daemonize(privileged = bind_socket)]`"
)]
pub trait CommandLine: Sized {
    /// Parses the command line, the daemon flags added to the program's own, with
    /// `--help` showing `defaults`.
    fn parse(defaults: Option<&Settings>) -> Parsed<Self>;
}

// Not recommended, so that rustc reports the trait's message rather than `clap::Parser`'s.
#[diagnostic::do_not_recommend]
impl<C: Parser> CommandLine for C {
    fn parse(defaults: Option<&Settings>) -> Parsed<C> {
        DaemonArgs::parse_with_from::<C, _, _>(std::env::args_os(), defaults)
    }
}

/// A subcommand handler whose arguments carry `DaemonArgs`.
pub fn handler<T, R: Outcome>(
    builder: Builder<T>,
    name: &'static str,
    args: DaemonArgs,
    body: impl FnOnce(T) -> (R, Option<String>),
) -> R {
    run(builder.default_name(name), args, body)
}

/// The daemon flags of a handler's arguments, copied out before the arguments move into
/// the body. Taking `&DaemonArgs` makes rustc check the field's type at the parameter.
pub fn daemon_args(args: &DaemonArgs) -> DaemonArgs {
    args.clone()
}

/// A `DaemonArgs` field that is not flattened. Nothing implements it: it exists for its
/// message. (Without the supertraits, rustc replaces the label with its own and suggests
/// borrowing the field.)
#[diagnostic::on_unimplemented(
    message = "a `DaemonArgs` field needs `#[command(flatten)]`",
    label = "add `#[command(flatten)]` above this field",
    note = "write `#[command(flatten)] daemon: daemon_runtime::DaemonArgs`"
)]
pub trait Flattened: Send + Sync + 'static {}

/// clap's derive asks a field without `#[command(flatten)]` for a value parser. This one
/// is a function whose value, `NotFlattened`, is `Send + Sync` (as clap requires) only if
/// `DaemonArgs: Flattened`: forgetting the attribute is one error with [`Flattened`]'s
/// message at the field, instead of clap's list of seven unmet bounds. A function
/// because clap's only `TypedValueParser` impl for one is the path rustc follows to the
/// end; with a struct of ours it stops at the ambiguity.
#[doc(hidden)]
impl clap::builder::ValueParserFactory for DaemonArgs {
    type Parser = fn(&str) -> Result<NotFlattened<DaemonArgs>, clap::Error>;

    fn value_parser() -> Self::Parser {
        |_| Err(clap::Error::new(clap::error::ErrorKind::InvalidValue))
    }
}

/// The value a [`DaemonArgs`] value parser would give; never built. The raw pointer makes
/// it neither `Send` nor `Sync` but through the impls below, which need `T: Flattened`.
#[derive(Clone)]
pub struct NotFlattened<T>(PhantomData<*const T>);

// SAFETY: `NotFlattened` holds no data (a `PhantomData`) and is never built; the impl is
// there only to put `T: Flattened`, which nothing implements, in the value parser's way.
unsafe impl<T: Flattened> Send for NotFlattened<T> {}
// SAFETY: as for `Send`: no data, never built.
unsafe impl<T: Flattened> Sync for NotFlattened<T> {}

fn run<T, R: Outcome>(
    builder: Builder<T>,
    args: DaemonArgs,
    body: impl FnOnce(T) -> (R, Option<String>),
) -> R {
    let mut daemon = builder.args(args).launch();
    let value = daemon
        .take_privileged()
        .expect("the privileged action's value is taken once");
    let (outcome, failure) = body(value);
    if let Some(failure) = &failure {
        report(failure);
    }
    let pending = startup_pending().then(|| {
        failure.unwrap_or_else(|| {
            "the program returned before it reported ready (daemon_runtime::ready)".to_owned()
        })
    });
    // The PID file goes before the launcher hears of a failure: nothing is left behind.
    drop(daemon);
    if let Some(message) = pending {
        report_failure(exit::UNAVAILABLE, &message);
    }
    if outcome.is_err() {
        // Returned from `main`, Rust would print the error again, with `Debug`.
        std::process::exit(1);
    }
    outcome
}

/// Whatever happens to the launcher, the log has the failure (a detached daemon's
/// stderr is `/dev/null` or its log file): with the runtime's logger, at crit; without
/// it, on stderr as Rust would print it (but with `Display`), and through the program's
/// own logger.
fn report(failure: &str) {
    if !crate::logger::installed() {
        eprintln!("Error: {failure}");
    }
    crate::logger::fatal(failure);
}
