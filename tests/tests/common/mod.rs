//! The probe daemon, as the tests start it.

#![allow(dead_code, unreachable_pub)]

use std::path::PathBuf;
use std::process::{Command, Output};

use daemon_tests::{Killer, Scratch, expect_code, read_pid_file, run};

/// The probe binary, with its PID file in `scratch` and the scratch path in its
/// command line (so strays can be found). Its log goes nowhere unless a test says
/// otherwise (`--log-target`): this machine has no syslog, and a detached daemon with
/// none warns about it on every start, which tests counting stderr lines would see.
pub fn probe(scratch: &Scratch) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_probe"));
    cmd.arg("--pid-file").arg(pid_file(scratch));
    cmd.args(["--log-target", "none"]);
    cmd
}

pub fn pid_file(scratch: &Scratch) -> PathBuf {
    scratch.join("probe.pid")
}

/// A daemon a test started; killed when dropped.
pub struct Started {
    pub pid: u32,
    pub launcher: Output,
    pub killer: Killer,
}

/// Runs `cmd` (which should detach), expects exit 0, and returns the daemon named by
/// the PID file.
pub fn start(scratch: &Scratch, cmd: &mut Command) -> Started {
    let launcher = run(cmd);
    expect_code(&launcher, 0);
    let pid = read_pid_file(&pid_file(scratch)).expect("the PID file names the daemon");
    Started {
        pid,
        launcher,
        killer: Killer::new(pid),
    }
}

/// Runs a launcher that must fail with `code`; returns its one line of stderr, after
/// checking that nothing it started is still running and no PID file is left.
pub fn fails(scratch: &Scratch, cmd: &mut Command, code: i32) -> String {
    let out = run(cmd);
    expect_code(&out, code);
    let strays = daemon_tests::processes_mentioning(&scratch.marker());
    assert!(strays.is_empty(), "stray processes left: {strays:?}");
    let path = pid_file(scratch);
    assert!(
        !path.exists() || std::fs::read_to_string(&path).unwrap().is_empty(),
        "a PID file naming someone was left behind"
    );
    one_line(&out)
}

/// The launcher's standard error, which must be exactly one line; without its newline.
pub fn one_line(output: &Output) -> String {
    let stderr = daemon_tests::text(&output.stderr);
    assert_eq!(
        stderr.lines().count(),
        1,
        "one line expected on stderr, got {stderr:?} (stdout {:?})",
        daemon_tests::text(&output.stdout)
    );
    stderr.trim_end().to_owned()
}

/// A root-only secret, `private/secret` (the directory mode 0700, the file 0600): what an
/// attacker would like root to write to, and must never see changed.
pub struct Secret {
    pub path: PathBuf,
    pub dir: PathBuf,
    content: Vec<u8>,
    modified: std::time::SystemTime,
}

impl Secret {
    pub fn new(scratch: &Scratch) -> Secret {
        use std::os::unix::fs::PermissionsExt;
        let dir = scratch.join("private");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        let path = dir.join("secret");
        let content = b"root's secret\n".to_vec();
        std::fs::write(&path, &content).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let modified = std::fs::metadata(&path).unwrap().modified().unwrap();
        Secret {
            path,
            dir,
            content,
            modified,
        }
    }

    /// Panics unless the secret is as it was and nothing new appeared beside it.
    pub fn assert_untouched(&self) {
        let meta = std::fs::symlink_metadata(&self.path).unwrap();
        assert!(meta.file_type().is_file());
        assert_eq!(
            std::fs::read(&self.path).unwrap(),
            self.content,
            "the secret changed"
        );
        assert_eq!(
            meta.modified().unwrap(),
            self.modified,
            "the secret was written"
        );
        let names: Vec<_> = std::fs::read_dir(&self.dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["secret"], "files appeared in the private directory");
    }
}

/// A directory owned by `nobody` in `scratch`: the service user's `/run/app` or
/// `/var/log/app`, where the attacker (that user) plants things.
pub fn nobodys_dir(scratch: &Scratch, name: &str) -> PathBuf {
    let dir = scratch.join(name);
    std::fs::create_dir(&dir).unwrap();
    let (uid, gid) = daemon_tests::nobody();
    std::os::unix::fs::chown(&dir, Some(uid), Some(gid)).unwrap();
    dir
}

/// Runs `program args` as `nobody`, which must succeed: the attacker's own moves.
pub fn as_attacker(program: &str, args: &[&std::ffi::OsStr]) {
    let out = run(daemon_tests::as_nobody(Command::new(program).args(args)));
    expect_code(&out, 0);
}

/// `ln -s target link`, run by `nobody`.
pub fn plant_symlink(target: &std::path::Path, link: &std::path::Path) {
    as_attacker("ln", &["-s".as_ref(), target.as_os_str(), link.as_os_str()]);
}

/// `unshare --pid --fork --mount-proc --kill-child pidns ARGS`: the `pidns` helper as
/// PID 1 of a new PID namespace, where a dead daemon's pid is given to a stranger.
/// Everything in the namespace dies with it, also when `run` kills a hung `unshare`
/// (`--kill-child`).
pub fn in_pid_namespace(args: &[&std::ffi::OsStr]) -> Output {
    run(Command::new("unshare")
        .args(["--pid", "--fork", "--mount-proc", "--kill-child"])
        .arg(env!("CARGO_BIN_EXE_pidns"))
        .args(args))
}

/// The pid `pidns` put the stranger at, from its report.
pub fn stranger(report: &str) -> u32 {
    report
        .lines()
        .find_map(|l| l.strip_prefix("stranger pid="))
        .unwrap_or_else(|| panic!("no stranger in {report}"))
        .parse()
        .unwrap()
}
