//! A daemon for the integration tests, built with the builder API. Its flags set up the
//! launching process (threads, leaked descriptors, signal state) and the daemon's
//! behaviour; the tests then look at the daemon through `/proc`, its PID file and its
//! log.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::IntoRawFd;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use daemon_runtime::{Daemon, DaemonArgs, Readiness};

#[derive(Parser, Debug)]
#[command(name = "probe", version)]
struct Cli {
    #[command(flatten)]
    daemon: DaemonArgs,

    /// Log file for the daemon's stdout and stderr.
    #[arg(long)]
    log: Option<PathBuf>,
    /// Name used in messages.
    #[arg(long)]
    name: Option<String>,
    /// Default config file (as if given in code).
    #[arg(long)]
    default_config: Option<PathBuf>,
    /// User set in code (below the config file and the flags).
    #[arg(long)]
    code_user: Option<String>,
    /// Umask set in code.
    #[arg(long)]
    code_umask: Option<String>,
    /// Force this user over every other source.
    #[arg(long)]
    forced_user: Option<String>,

    /// Print the effective settings and exit.
    #[arg(long)]
    print_settings: bool,
    /// Print the `[app]` section of the config file (`key = value` lines) once started.
    #[arg(long)]
    print_app_section: bool,

    /// Start a second thread before daemonizing.
    #[arg(long)]
    spawn_thread: bool,
    /// Open this file without close-on-exec before daemonizing (it must not survive).
    #[arg(long)]
    leak_fd: Option<PathBuf>,
    /// Open this file and keep it open in the daemon with keep_fd.
    #[arg(long)]
    keep_fd: Option<PathBuf>,
    /// Block this signal in the launcher.
    #[arg(long)]
    block_signal: Option<i32>,
    /// Ignore this signal in the launcher.
    #[arg(long)]
    ignore_signal: Option<i32>,

    /// Privileged action: read this file (as the original user) and print its content.
    #[arg(long)]
    privileged_read: Option<PathBuf>,
    /// Privileged action that fails with this message.
    #[arg(long)]
    privileged_fail: Option<String>,

    /// Report readiness only after reading a byte from this FIFO.
    #[arg(long)]
    ready_after: Option<PathBuf>,
    /// Manual readiness that never comes.
    #[arg(long)]
    never_ready: bool,
    /// Manual readiness, reported once "started" is printed: the launcher's exit then
    /// says that the line is in the log.
    #[arg(long)]
    ready_when_started: bool,
    /// Manual readiness; fail with this message instead.
    #[arg(long)]
    fail_start: Option<String>,
    /// Manual readiness; abort (die by SIGABRT) instead.
    #[arg(long)]
    crash_start: bool,

    /// Take a shutdown handle and exit gracefully on SIGTERM (otherwise the runtime's
    /// default: remove the PID file and die of the signal).
    #[arg(long)]
    graceful: bool,
    /// With --graceful: print that shutdown was requested, then hang instead of exiting.
    #[arg(long)]
    hang_after_shutdown: bool,
    /// Ignore SIGTERM once started (stop must escalate to SIGKILL).
    #[arg(long)]
    ignore_term: bool,
    /// Print "reloaded N" on each SIGHUP.
    #[arg(long)]
    reload_hook: bool,
    /// With --reload-hook: also write "reloaded N" to this FIFO after printing it.
    #[arg(long)]
    reload_notify: Option<PathBuf>,
    /// Panic once started, after printing "started".
    #[arg(long)]
    panic: bool,
    /// Log the runtime's debug messages to stderr.
    #[arg(long)]
    verbose: bool,
}

/// Writes every log record to stderr (the log file, once detached).
struct StderrLogger;

impl log::Log for StderrLogger {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        eprintln!("{}: {}", record.level(), record.args());
    }
    fn flush(&self) {}
}

fn main() {
    let cli = Cli::parse();
    if cli.verbose {
        log::set_logger(&StderrLogger).expect("logger");
        log::set_max_level(log::LevelFilter::Debug);
    }
    let mut builder = Daemon::builder().args(cli.daemon.clone());
    if let Some(log) = &cli.log {
        builder = builder.stdout(log).stderr(log);
    }
    if let Some(name) = &cli.name {
        builder = builder.name(name);
    }
    if let Some(path) = &cli.default_config {
        builder = builder.config_file(path);
    }
    if let Some(user) = &cli.code_user {
        builder = builder.user(user);
    }
    if let Some(mask) = &cli.code_umask {
        builder = builder.umask(u32::from_str_radix(mask, 8).expect("octal umask"));
    }
    if let Some(user) = &cli.forced_user {
        let mut forced = daemon_runtime::Options::default();
        forced.user = Some(user.clone());
        builder = builder.force(forced);
    }
    if cli.print_settings {
        match builder.settings() {
            Ok(settings) => print!("{settings}"),
            Err(e) => e.exit("probe"),
        }
        return;
    }
    let manual = cli.ready_after.is_some()
        || cli.never_ready
        || cli.ready_when_started
        || cli.fail_start.is_some()
        || cli.crash_start;
    if manual {
        builder = builder.readiness(Readiness::Manual);
    }

    // Launcher state the daemon must not inherit.
    let _thread = cli
        .spawn_thread
        .then(|| std::thread::spawn(|| std::thread::sleep(Duration::from_secs(3600))));
    if let Some(path) = &cli.leak_fd {
        let file = File::open(path).expect("open leak file");
        nix::fcntl::fcntl(
            &file,
            nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::empty()),
        )
        .expect("clear FD_CLOEXEC");
        // Leaked on purpose: a descriptor the program forgot about.
        let _ = file.into_raw_fd();
    }
    let kept = cli
        .keep_fd
        .as_ref()
        .map(|p| File::open(p).expect("open kept file"));
    if let Some(file) = &kept {
        builder = builder.keep_fd(file);
    }
    if let Some(sig) = cli.block_signal {
        let mut set = nix::sys::signal::SigSet::empty();
        set.add(nix::sys::signal::Signal::try_from(sig).expect("signal"));
        set.thread_block().expect("block signal");
    }
    if let Some(sig) = cli.ignore_signal {
        let sig = nix::sys::signal::Signal::try_from(sig).expect("signal");
        // SAFETY: SIG_IGN runs no code.
        unsafe { nix::sys::signal::signal(sig, nix::sys::signal::SigHandler::SigIgn) }
            .expect("ignore signal");
    }

    match (&cli.privileged_read, &cli.privileged_fail) {
        (Some(path), _) => {
            let path = path.clone();
            let mut daemon = builder
                .privileged_action(move || File::open(&path))
                .launch();
            // Read as the daemon's user, through the descriptor opened as root.
            let mut content = String::new();
            daemon
                .take_privileged()
                .expect("privileged value")
                .read_to_string(&mut content)
                .expect("read through the privileged descriptor");
            println!("privileged={}", content.trim());
            run(cli, daemon, manual)
        }
        (None, Some(message)) => {
            let message = message.clone();
            let daemon = builder
                .privileged_action(move || Err::<(), _>(message))
                .launch();
            run(cli, daemon, manual)
        }
        (None, None) => {
            let daemon = builder.launch();
            run(cli, daemon, manual)
        }
    }
}

/// The daemon's life; dropping `daemon` at the end removes the PID file.
fn run<T>(cli: Cli, daemon: Daemon<T>, manual: bool) {
    let shutdown = cli.graceful.then(|| daemon.shutdown());
    if cli.reload_hook {
        let count = std::sync::atomic::AtomicU64::new(0);
        let notify = cli.reload_notify.clone();
        daemon_runtime::on_reload(move || {
            let n = count.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
            println!("reloaded {n}");
            let _ = std::io::stdout().flush();
            if let Some(fifo) = &notify {
                let _ = std::fs::OpenOptions::new()
                    .write(true)
                    .open(fifo)
                    .and_then(|mut f| writeln!(f, "reloaded {n}"));
            }
        });
    }
    if cli.ignore_term {
        // SAFETY: SIG_IGN runs no code.
        unsafe {
            nix::sys::signal::signal(
                nix::sys::signal::Signal::SIGTERM,
                nix::sys::signal::SigHandler::SigIgn,
            )
        }
        .expect("ignore SIGTERM");
    }
    if cli.print_app_section {
        let config = daemon.config().expect("a config file was read");
        if let Some(app) = config.table().get("app").and_then(|v| v.as_table()) {
            for (k, v) in app {
                println!("app.{k} = {v:?}");
            }
        }
    }
    println!(
        "started pid={} detached={}",
        daemon.pid(),
        daemon.is_detached()
    );
    let _ = std::io::stdout().flush();
    if manual {
        if cli.crash_start {
            std::process::abort();
        }
        if let Some(message) = &cli.fail_start {
            daemon.fail(message);
        }
        if let Some(fifo) = &cli.ready_after {
            let mut byte = [0u8; 1];
            File::open(fifo)
                .and_then(|mut f| f.read_exact(&mut byte))
                .expect("read the go-ahead from the FIFO");
        }
        if !cli.never_ready {
            daemon_runtime::ready();
        }
    }
    if cli.panic {
        panic!("probe panics on request");
    }
    match shutdown {
        Some(shutdown) => {
            shutdown.wait();
            println!("shutdown requested by {:?}", shutdown.signal());
            let _ = std::io::stdout().flush();
            if cli.hang_after_shutdown {
                loop {
                    std::thread::park();
                }
            }
            drop(daemon);
        }
        None => loop {
            // Wait for signals; the runtime's handlers decide what they do.
            std::thread::park();
        },
    }
}
