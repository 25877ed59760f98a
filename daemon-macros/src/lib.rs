//! The `#[daemonize]` attribute of `daemon-runtime`. Depend on `daemon-runtime`, which
//! re-exports it: the generated code calls into that crate.
//!
//! One concern per file: `args` parses the attribute's arguments, `item` reads the
//! function and its form, `validate` checks the two together, `expand` generates the
//! code, and `fallback` emits the function unchanged when something is wrong, so that
//! the compiler reports only the attribute's errors.

mod args;
mod errors;
mod expand;
mod fallback;
mod item;
mod validate;

use proc_macro::TokenStream;

/// Makes a function the entry point of a Unix daemon: `--daemon` and the other daemon
/// flags, the config file, and the start-up sequence of `daemon_runtime`, around the
/// function's body.
///
/// ```no_run
/// use daemon_runtime::daemonize;
///
/// #[daemonize(pid_file = "/run/hello.pid", user = "nobody", umask = 0o027)]
/// fn main() -> std::io::Result<()> {
///     // Runs in the daemon (or in the foreground without --daemon), once the PID file
///     // is taken and privileges are dropped.
///     let shutdown = daemon_runtime::shutdown();
///     while !shutdown.wait_timeout(std::time::Duration::from_secs(1)) {
///         println!("serving");
///     }
///     Ok(())
/// }
/// ```
///
/// ```text
/// $ hello --daemon     # detaches; returns once the daemon is ready, or says why not
/// $ hello --status     # "hello is running (pid 4242)"
/// $ hello --stop       # also --restart, --reload, --config FILE, --user, --pid-file ...
/// $ hello              # in the foreground: same checks, PID file and user switch
/// ```
///
/// # Arguments
///
/// | argument | example | meaning (default) |
/// |---|---|---|
/// | `user` | `"nobody"`, `65534` | user to run as, by name or uid; needs root or `CAP_SETUID` (no change) |
/// | `group` | `"nogroup"`, `65534` | group to run as (the user's primary group) |
/// | `dir` | `"/var/lib/hello"` | working directory (`/` when detached) |
/// | `pid_file` | `"/run/hello.pid"`, `false` | PID file, locked while the daemon runs; `false`: none (`/run/<name>.pid` as root, `$XDG_RUNTIME_DIR/<name>.pid` otherwise) |
/// | `umask` | `0o027` | file mode creation mask, at most `0o777` (`0o027`) |
/// | `stdout`, `stderr` | `"/var/log/hello.log"` | the detached daemon's output, appended (`/dev/null`) |
/// | `chroot` | `"/var/empty"` | directory to chroot into before privileges drop (none) |
/// | `stop_timeout` | `10`, `2.5` | seconds `--stop` waits after SIGTERM before SIGKILL, at most 86400 (10) |
/// | `start_timeout` | `30` | seconds the launcher waits for readiness, above zero, at most 86400 (30) |
/// | `name` | `"hello"` | name in messages (the binary's name) |
/// | `daemon` | `true` | `true`: detach without `--daemon`, unless `--foreground` says otherwise; `false`: only with `--daemon` (`false`) |
/// | `log_target` | `"syslog"` | where the `log` backend writes: `"auto"`, `"journal"`, `"syslog"`, `"file"`, `"stderr"` or `"none"` (`"auto"`) |
/// | `log_level` | `"info,hyper=warn"` | `log` directives, comma-separated: a level (`off`, `error`, `warn`, `info`, `debug`, `trace`, in any case) or `target=level`; `RUST_LOG` overrides it, `--log-level` overrides both (`"info"`) |
/// | `syslog_socket` | `"/dev/log"` | the syslog socket (`"/dev/log"`) |
/// | `notify_fd` | `3` | s6's notification descriptor, 3 or above: a newline there says ready (none) |
/// | `no_new_privs` | `true` | whether the daemon sets `PR_SET_NO_NEW_PRIVS` once privileges are dropped (`false`, as systemd's `NoNewPrivileges=`) |
/// | `core_dumps` | `true` | whether the daemon may dump core (`false`, as python-daemon: its memory may hold what it read as root) |
/// | `watchdog` | `"manual"` | systemd's watchdog (`WatchdogSec=`): `"auto"` keeps it fed at half the interval until the program first calls `daemon_runtime::notify::watchdog()`; `"manual"`: only the program does (`"auto"`) |
/// | `config` | `"/etc/hello/hello.toml"` | config file read when `--config` is not given; may be missing (none) |
/// | `privileged` | `bind_socket` | function run as the original user before privileges drop; its `Ok` value goes to the last parameter (none) |
/// | `ready` | `"manual"` | `"manual"`: the launcher waits until the body calls `daemon_runtime::ready()` (`"auto"`) |
/// | `args` | `daemon` | handlers: the parameter's field that holds the `DaemonArgs` (`daemon`) |
/// | `crate` | `::my_runtime` | where `daemon_runtime` is, if renamed or re-exported (`::daemon_runtime`) |
///
/// A value is a literal, checked at compile time, or any expression, which rustc checks
/// against the builder setter of the same name (`config` sets `.config_file(..)`, `ready`
/// sets `.readiness(..)`):
///
/// - Paths (`pid_file`, `stdout`, `stderr`, `dir`, `chroot`, `config`, `syslog_socket`):
///   literals are absolute; for a per-user or computed path pass an expression, such as
///   `pid_file = my_paths::pid_file()` (a relative path from an expression is taken from
///   the launcher's working directory). `pid_file = false` is `.no_pid_file()`.
/// - Seconds (`stop_timeout`, `start_timeout`): integer or float literals up to 86400
///   (a day); an expression gives a `std::time::Duration`.
/// - `umask`: an integer literal up to `0o777`, or a `u32` expression.
/// - `user`, `group`, `name`: non-empty strings (ids for `user` and `group`), or
///   expressions giving a `String`.
/// - Choices (`log_target`, `watchdog`): a string literal names the variant of
///   `daemon_runtime::LogTarget` or `daemon_runtime::Watchdog`; an expression gives one.
/// - `log_level`: a string literal, checked directive by directive, or an expression.
/// - `notify_fd`: an integer literal from 3 to `i32::MAX`, or an expression.
/// - Booleans (`daemon`, `no_new_privs`, `core_dumps`): `true`, `false` or a `bool`.
///
/// Expressions are evaluated in the launching process, before the command line is
/// parsed. The config file's `[daemon]` table and the command-line flags override the
/// attribute's values.
///
/// # Forms
///
/// The function's name and parameters say where the command line comes from. The
/// function may return `()`, `std::process::ExitCode`, `Result<T, E>` with `E: Debug`,
/// or `impl Termination` (reported as `main` would report it, which leaves an exit
/// code); with `ready = "manual"`, a failure returned before `ready()` is what the
/// launcher prints (it exits 69).
///
/// ## `fn main()`
///
/// The runtime builds the whole command line with clap, named after the binary, with
/// `--help` and `--version`. The program has no flags of its own here: its own values
/// come from its sections of the config file (`daemon_runtime::config()`, then
/// `.section::<T>("name")`), or it takes its own parser with `fn main(cli: Cli)`. The
/// first example above is the same as:
///
/// ```no_run
/// use daemon_runtime::{Daemon, DaemonArgs};
///
/// fn main() -> std::io::Result<()> {
///     let args = DaemonArgs::parse_bare("hello", env!("CARGO_PKG_VERSION"), None);
///     // --stop, --status, --reload and a detaching launcher exit inside `launch`.
///     let _daemon = Daemon::builder()
///         .pid_file("/run/hello.pid")
///         .user("nobody")
///         .umask(0o027)
///         .args(args)
///         .launch();
///     // ... the body; dropping `_daemon` at the end removes the PID file
///     Ok(())
/// }
/// ```
///
/// ## `fn main(cli: Cli)`
///
/// `Cli` is the program's own `#[derive(clap::Parser)]` type: the daemon flags join its
/// command (its name, about, version, arguments and subcommands stay), and the body gets
/// the parsed `Cli`.
///
/// ```no_run
/// # use daemon_runtime::daemonize;
/// #[derive(clap::Parser)]
/// #[command(version, about = "Serves on a port")]
/// struct Cli {
///     #[arg(long, default_value_t = 8080)]
///     port: u16,
/// }
///
/// #[daemonize(pid_file = "/run/serve.pid")]
/// fn main(cli: Cli) {
///     println!("serving on {}", cli.port);
/// }
/// ```
///
/// The same without the attribute:
///
/// ```no_run
/// # #[derive(clap::Parser)]
/// # struct Cli { #[arg(long, default_value_t = 8080)] port: u16 }
/// use daemon_runtime::Daemon;
///
/// fn main() {
///     // `--stop`, `--status`, `--reload` are performed in here, and exit.
///     let (cli, _daemon) = Daemon::builder()
///         .pid_file("/run/serve.pid")
///         .launch_with::<Cli>();
///     println!("serving on {}", cli.port);
/// }
/// ```
///
/// ## Subcommand handlers
///
/// On any function other than `main`, the attribute makes a subcommand handler. Its
/// parameter holds the subcommand's arguments, which carry the daemon flags in a field
/// named `daemon` (or as `args = field` says): one line per subcommand. Only annotated
/// subcommands take `--daemon` and detach; `app serve --help` lists the flags.
///
/// ```no_run
/// use clap::{Args, Parser, Subcommand};
/// use daemon_runtime::{DaemonArgs, daemonize};
///
/// #[derive(Parser)]
/// struct Cli {
///     #[command(subcommand)]
///     command: Command,
/// }
///
/// #[derive(Subcommand)]
/// enum Command {
///     Serve(ServeArgs),
///     Status,
/// }
///
/// #[derive(Args)]
/// struct ServeArgs {
///     #[arg(long, default_value_t = 8080)]
///     port: u16,
///     #[command(flatten)]
///     daemon: DaemonArgs, // the one line
/// }
///
/// #[daemonize(pid_file = "/run/app.pid")]
/// fn serve(args: ServeArgs) {
///     println!("serving on {}", args.port);
/// }
///
/// fn main() {
///     match Cli::parse().command {
///         Command::Serve(mut args) => {
///             // Code may set the flag before the call: always detach.
///             args.daemon.daemon = true;
///             serve(args)
///         }
///         Command::Status => println!("never detaches"),
///     }
/// }
/// ```
///
/// The handler without the attribute:
///
/// ```no_run
/// # #[derive(clap::Args)]
/// # struct ServeArgs { port: u16, #[command(flatten)] daemon: daemon_runtime::DaemonArgs }
/// fn serve(args: ServeArgs) {
///     let _daemon = daemon_runtime::Daemon::builder()
///         .pid_file("/run/app.pid")
///         .args(args.daemon.clone())
///         .launch();
///     println!("serving on {}", args.port);
/// }
/// ```
///
/// The program's own `Cli::parse()` reads the handler's arguments before the attribute
/// runs, so two things differ from `fn main`: `app serve --help` shows the runtime's
/// built-in defaults, not the attribute's values; and an argument that `serve` requires
/// to start is written `#[arg(long, required_unless_present_any =
/// DaemonArgs::CONTROL_IDS)] out: Option<PathBuf>`, so that `app serve --stop` and
/// `--status` need none (clap's derive insists on a required field that is not an
/// `Option`).
///
/// A handler may be an associated function (no `self`) whose body uses `Self`. With
/// `async`, write `#[daemonize]` below `#[tokio::main]` for that: above it, the body
/// moves into an inner function, where `Self` is not in scope.
///
/// ## `async fn` with `#[tokio::main]`
///
/// The fork must come before the async runtime starts its threads (the runtime refuses
/// to fork a multi-threaded process). Both orders do that:
///
/// - `#[daemonize]` above `#[tokio::main]`: the attribute moves `#[tokio::main]` (any
///   attribute whose path ends in `main`) onto the inner function that holds the body.
/// - `#[daemonize]` below `#[tokio::main]`: tokio expands first into a plain function
///   whose body builds the runtime, and that body runs in the daemon. tokio refuses
///   `fn main` with parameters, so with `fn main(cli: Cli)` write `#[daemonize]` above.
///
/// ```no_run
/// # use daemon_runtime::daemonize;
/// #[daemonize(pid_file = "/run/hello.pid", ready = "manual")]
/// #[tokio::main]
/// async fn main() {
///     let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await.unwrap();
///     daemon_runtime::ready(); // the launcher exits 0 now
///     tokio::select! {
///         _ = listener.accept() => {}
///         _ = daemon_runtime::shutdown().wait_async() => {}
///     }
/// }
/// ```
///
/// The same without the attribute:
///
/// ```no_run
/// use daemon_runtime::{Daemon, DaemonArgs, Readiness};
///
/// fn main() {
///     let _daemon = Daemon::builder()
///         .pid_file("/run/hello.pid")
///         .readiness(Readiness::Manual)
///         .args(DaemonArgs::parse_bare("hello", "1.0.0", None))
///         .launch();
///     // Only now: the runtime's threads start in the daemon.
///     tokio::runtime::Runtime::new().unwrap().block_on(async {
///         // ... the body
///     })
/// }
/// ```
///
/// ## `daemon = true`
///
/// Detaches without `--daemon`; the same as `.daemon(true)` on the builder. It is a
/// default in code, so `--foreground` still keeps the program in the foreground.
///
/// ## A privileged action
///
/// `privileged = f` runs `f` in the daemon as the user that started it (root, say),
/// before privileges drop; its `Ok` value goes to the function's last parameter, and
/// an `Err` makes the launcher print it and exit 69.
///
/// ```no_run
/// # use daemon_runtime::daemonize;
/// use std::net::TcpListener;
///
/// fn bind() -> std::io::Result<TcpListener> {
///     TcpListener::bind("0.0.0.0:80") // as root
/// }
///
/// #[daemonize(privileged = bind, user = "nobody", ready = "manual")]
/// fn main(listener: TcpListener) -> std::io::Result<()> {
///     // As nobody, with the socket root bound.
///     listener.set_nonblocking(false)?; // an error here reaches the launcher
///     daemon_runtime::ready();
///     for stream in listener.incoming() {
///         drop(stream?);
///     }
///     Ok(())
/// }
/// ```
///
/// With the builder: `.privileged_action(bind)`, then `daemon.take_privileged()`.
///
/// # Errors
///
/// Bad arguments and unsupported functions are compile errors at the token at fault,
/// all reported in one build: an unknown or repeated argument, a literal of the wrong
/// kind, a umask above `0o777`, a relative path literal, an empty name, a timeout above
/// a day, a choice or log level that does not exist, a `notify_fd` below 3; a method
/// (with `self`), a `const`, `unsafe`, `extern` or generic function, a parameter beyond
/// the command line's and the privileged value's, a handler without parameters, an
/// `async fn` without a runtime attribute. The function is then emitted as written, so no other
/// errors follow from the attribute.
///
/// The likeliest mistakes elsewhere are one error each, at the token at fault: a
/// `fn main` parameter that is not a `clap::Parser` (derive it, or name the
/// `privileged = ...` action whose value it takes), a `DaemonArgs` field without
/// `#[command(flatten)]`, a handler's argument type without the `daemon` field (add
/// `#[command(flatten)] daemon: daemon_runtime::DaemonArgs`, or name the field with
/// `args = field`), a return type that is not one of the above.
#[proc_macro_attribute]
pub fn daemonize(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::daemonize(args.into(), item.into()).into()
}

/// The `#[daemonize]` keys that are runtime settings, as a `&'static [&'static str]`
/// expression, for the runtime's test that its settings table and the attribute agree.
/// Not public API.
#[doc(hidden)]
#[proc_macro]
pub fn __setting_keys(_: TokenStream) -> TokenStream {
    args::setting_keys().into()
}
