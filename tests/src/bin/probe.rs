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

    /// Once started, try to read this file (an absolute path outside the chroot)
    /// through every open directory descriptor, with `openat(fd, "../../…/FILE")`, and
    /// print what came of it: `escaped through fd N: CONTENT` or `no way out: N
    /// directory descriptors`. Printed before "started".
    #[arg(long)]
    escape: Option<PathBuf>,
    /// Open this file before starting and close its descriptor number once started, as
    /// dropping the `File` does in a release build: a descriptor owned by a live object,
    /// closed by the daemon's close-all, whose number the runtime must not have reused
    /// for anything of its own. (Dropping the `File` itself would abort a debug build,
    /// whose standard library checks that an owned descriptor is still open.)
    #[arg(long)]
    late_drop: Option<PathBuf>,
    /// With --graceful: wait with `wait_timeout` in a loop of 100 ms waits (which spins
    /// if the shutdown pipe was closed under it) instead of `wait`.
    #[arg(long)]
    wait_timeout: bool,
    /// With --reload-hook: the hook's first run registers a second hook with
    /// `on_reload`, from inside the hook; that one prints "nested N" (and writes it to
    /// --reload-notify).
    #[arg(long)]
    nested_reload_hook: bool,
    /// Once started, print `env: NAME=VALUE` for each environment variable whose name
    /// starts with this prefix, then `env: end` (before "started"): what the program's
    /// own children would inherit. (`/proc/PID/environ` keeps showing what was there
    /// at exec.)
    #[arg(long)]
    print_env: Option<String>,
    /// Manual readiness; once started, fork a child that keeps the readiness channel
    /// open (and does nothing else), and exit: the launcher then hears neither "ready"
    /// nor end of file, and its start timeout runs out after the daemon is gone.
    #[arg(long)]
    orphan_start: bool,
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
        || cli.crash_start
        || cli.orphan_start;
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
    let late = cli
        .late_drop
        .as_ref()
        .map(|p| File::open(p).expect("open the file dropped late"));
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
            run(cli, daemon, manual, late)
        }
        (None, Some(message)) => {
            let message = message.clone();
            let daemon = builder
                .privileged_action(move || Err::<(), _>(message))
                .launch();
            run(cli, daemon, manual, late)
        }
        (None, None) => {
            let daemon = builder.launch();
            run(cli, daemon, manual, late)
        }
    }
}

/// The daemon's life; dropping `daemon` at the end removes the PID file.
fn run<T>(cli: Cli, daemon: Daemon<T>, manual: bool, late: Option<File>) {
    let shutdown = cli.graceful.then(|| daemon.shutdown());
    if cli.reload_hook {
        install_reload_hook(cli.reload_notify.clone(), cli.nested_reload_hook);
    }
    if let Some(file) = late {
        // Closes whatever descriptor has the number the file had before the start; EBADF
        // if none has.
        // SAFETY: close(2) of a plain number; whatever it closes is what this flag tests.
        unsafe { libc::close(file.into_raw_fd()) };
    }
    if let Some(prefix) = &cli.print_env {
        for (name, value) in std::env::vars_os() {
            if name.to_string_lossy().starts_with(prefix.as_str()) {
                println!("env: {}={}", name.display(), value.display());
            }
        }
        println!("env: end");
    }
    if let Some(target) = &cli.escape {
        println!("{}", try_escape(target));
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
        if cli.orphan_start {
            orphan_start();
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
            if cli.wait_timeout {
                while !shutdown.wait_timeout(Duration::from_millis(100)) {}
            } else {
                shutdown.wait();
            }
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

/// Prints "reloaded N" on each SIGHUP (and writes it to `notify`); with `nested`, the
/// first run registers a second hook from inside the hook.
fn install_reload_hook(notify: Option<PathBuf>, nested: bool) {
    let count = std::sync::atomic::AtomicU64::new(0);
    daemon_runtime::on_reload(move || {
        let n = count.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        note(&format!("reloaded {n}"), notify.as_deref());
        if nested && n == 1 {
            let notify = notify.clone();
            let runs = std::sync::atomic::AtomicU64::new(0);
            daemon_runtime::on_reload(move || {
                let n = runs.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                note(&format!("nested {n}"), notify.as_deref());
            });
        }
    });
}

/// Prints `line`, then writes it to the FIFO `notify`: once the test reads it there,
/// it is in the log too.
fn note(line: &str, notify: Option<&std::path::Path>) {
    println!("{line}");
    let _ = std::io::stdout().flush();
    if let Some(fifo) = notify {
        let _ = std::fs::OpenOptions::new()
            .write(true)
            .open(fifo)
            .and_then(|mut f| writeln!(f, "{line}"));
    }
}

/// Tries to read `target` through each open directory descriptor: what a daemon in a
/// chroot could do with a directory descriptor from outside the jail.
fn try_escape(target: &std::path::Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    let relative = target.strip_prefix("/").unwrap_or(target);
    // Enough `..` to climb from any directory to the real root; `..` of `/` is `/`.
    let mut path = "../".repeat(64).into_bytes();
    path.extend_from_slice(relative.as_os_str().as_bytes());
    let path = std::ffi::CString::new(path).expect("no NUL in the path");
    let limit = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
        .map_or(1024, |(soft, _)| soft.min(1 << 16)) as i32;
    let mut dirs = 0;
    for fd in 0..limit {
        // SAFETY: `stat` is plain data; all-zero bytes are a valid value.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: fstat(2) writes one `stat` into a live local; a descriptor that is not
        // open fails with EBADF.
        if unsafe { libc::fstat(fd, &raw mut st) } != 0
            || st.st_mode & libc::S_IFMT != libc::S_IFDIR
        {
            continue;
        }
        dirs += 1;
        // SAFETY: openat(2) with a NUL-terminated path that outlives the call.
        let opened = unsafe { libc::openat(fd, path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
        if opened >= 0 {
            use std::os::fd::FromRawFd;
            // SAFETY: openat just returned this descriptor; nothing else owns it.
            let mut file = unsafe { File::from_raw_fd(opened) };
            let mut content = String::new();
            let _ = file.read_to_string(&mut content);
            return format!("escaped through fd {fd}: {}", content.trim());
        }
    }
    format!("no way out: {dirs} directory descriptors")
}

/// Forks a child that keeps every descriptor (the readiness channel among them) and
/// waits for ever, then ends this process at once.
fn orphan_start() -> ! {
    // SAFETY: the child only calls pause(2) and _exit(2), which are async-signal-safe,
    // so the other threads' locks do not matter to it.
    match unsafe { nix::unistd::fork() }.expect("fork") {
        nix::unistd::ForkResult::Child => loop {
            // SAFETY: pause(2) only waits for a signal.
            unsafe { libc::pause() };
        },
        // SAFETY: _exit(2) ends the process without running anything of ours.
        nix::unistd::ForkResult::Parent { .. } => unsafe { libc::_exit(0) },
    }
}
