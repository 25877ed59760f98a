//! The rendering: which directives appear for which settings, and the quoting.

use std::os::unix::ffi::OsStrExt;
use std::process::Command;

use super::*;
use crate::cli::{Action, DaemonArgs};
use crate::{Builder, Daemon};

const EXE: &str = "/usr/bin/hello";
const SYSTEMD: ServiceKind = ServiceKind::Systemd {
    reload: Reload::PidFile,
};
const NOTIFY: ServiceKind = ServiceKind::Systemd {
    reload: Reload::Notify,
};

/// The settings and flags of `hello` with `flags` on its command line.
fn hello(flags: &[&str], code: impl FnOnce(Builder) -> Builder) -> (Settings, Vec<GivenFlag>) {
    let matches = DaemonArgs::command("hello", "1", None)
        .try_get_matches_from(std::iter::once("hello").chain(flags.iter().copied()))
        .unwrap();
    let args = DaemonArgs::from_matches(&matches).unwrap();
    let given = args.given.clone();
    let settings = code(Daemon::builder().name("hello").args(args))
        .settings()
        .unwrap();
    (settings, given)
}

fn render_hello(
    kind: ServiceKind,
    flags: &[&str],
    code: impl FnOnce(Builder) -> Builder,
) -> Result<String, UnitError> {
    let (settings, given) = hello(flags, code);
    let config = Some(Path::new("/etc/hello/hello.toml"));
    render_with(&kind, &settings, Path::new(EXE), config, &given)
}

fn service(code: impl FnOnce(Builder) -> Builder) -> String {
    render_hello(NOTIFY, &[], code).unwrap()
}

fn lines(text: &str) -> Vec<&str> {
    text.lines().collect()
}

fn has(text: &str, line: &str) -> bool {
    text.lines().any(|l| l == line)
}

fn key(text: &str, key: &str) -> bool {
    text.lines().any(|l| l.starts_with(&format!("{key}=")))
}

#[test]
fn unit_kinds_parse_and_print_back() {
    for text in [
        "systemd",
        "systemd=notify-reload",
        "systemd-activated",
        "systemd-activated=notify-reload",
        "sysv",
        "systemd-socket=8080",
        "systemd-socket=0.0.0.0:8080,[::]:8080",
        "systemd-socket=web=0.0.0.0:8080",
        "systemd-socket=/run/hello/a=b.sock",
    ] {
        assert_eq!(ServiceKind::parse(text).unwrap().to_string(), text);
    }
    assert_eq!(
        ServiceKind::parse("systemd-socket=web=[::]:80,/run/h.sock"),
        Ok(ServiceKind::SystemdSocket {
            name: Some("web".into()),
            listen: vec!["[::]:80".into(), "/run/h.sock".into()],
        })
    );
    // A path with `=` is an address, not a name.
    let ServiceKind::SystemdSocket { name, .. } =
        ServiceKind::parse("systemd-socket=/run/a=b.sock").unwrap()
    else {
        panic!("not a socket")
    };
    assert_eq!(name, None);
    assert_eq!(ServiceKind::parse("systemd"), Ok(SYSTEMD));
    assert_eq!(ServiceKind::parse("systemd=notify-reload"), Ok(NOTIFY));
    let err = ServiceKind::parse("systemd=kill").unwrap_err();
    assert!(err.contains("unknown reload method `kill`"), "{err}");
    assert!(ServiceKind::parse("sysv=1").is_err());
    let err = ServiceKind::parse("upstart").unwrap_err();
    assert!(err.contains("unknown service file `upstart`"), "{err}");
    assert!(err.contains("systemd-socket=[NAME=]ADDR"), "{err}");
    let err = ServiceKind::parse("systemd-socket").unwrap_err();
    assert!(err.contains("systemd-socket=0.0.0.0:8080"), "{err}");
    assert!(ServiceKind::parse("systemd-socket=").is_err());
    assert!(ServiceKind::parse("systemd-socket=80,,81").is_err());
}

/// The words `sh` makes of `line`.
fn sh_words(line: &str) -> Vec<String> {
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("printf '%s\\0' {line}"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    text.split_terminator('\0').map(str::to_owned).collect()
}

const AWKWARD: [&str; 9] = [
    "/usr/bin/hello",
    "/opt/my app/bin",
    "it's",
    "say \"hi\"",
    "back\\slash",
    "50%",
    "$HOME",
    "*",
    "",
];

#[test]
fn unit_sh_quoting_survives_the_shell() {
    let words: Vec<String> = AWKWARD.iter().map(|w| w.to_string()).collect();
    assert_eq!(sh_words(&sh_command(&words)), words);
    assert_eq!(sh_command(&["it's".into()]), r"'it'\''s'");
    assert_eq!(
        sh_command(&["/usr/bin/x".into(), "--user".into()]),
        "/usr/bin/x --user"
    );
}

#[test]
fn unit_systemd_quoting() {
    let words: Vec<String> = AWKWARD.iter().map(|w| w.to_string()).collect();
    assert_eq!(
        systemd_command(&words),
        r#"/usr/bin/hello "/opt/my app/bin" "it's" "say \"hi\"" "back\\slash" "50%%" "$$HOME" "*" """#
    );
    // The executable: specifiers expand there, variables do not.
    let exe = ["/opt/50% $x/hello".to_owned(), "$x".to_owned()];
    assert_eq!(systemd_command(&exe), r#""/opt/50%% $x/hello" "$$x""#);
    assert_eq!(specifiers("/var/log/100%"), "/var/log/100%%");
    assert_eq!(timespan(Duration::from_secs(10)), "10s");
    assert_eq!(timespan(Duration::from_millis(2500)), "2500ms");
    assert_eq!(timespan(Duration::from_nanos(1)), "1ms");
    // Zero is "no timeout" to systemd: the runtime's "at once" is the least it takes.
    assert_eq!(timespan(Duration::ZERO), "1ms");
}

#[test]
fn unit_service_runs_in_the_foreground_and_reloads_by_notify() {
    let unit = service(|b| b);
    let unit = lines(&unit);
    assert_eq!(
        unit[0],
        "# hello.service, generated by `/usr/bin/hello --config /etc/hello/hello.toml \
         --print-service systemd=notify-reload`"
    );
    for line in [
        "[Unit]",
        "Description=hello",
        "After=network.target",
        "[Service]",
        "Type=notify-reload",
        "ExecStart=/usr/bin/hello --config /etc/hello/hello.toml --foreground --no-pid-file",
        "UMask=0027",
        "TimeoutStartSec=30s",
        "TimeoutStopSec=10s",
        "Restart=on-failure",
        "ProtectSystem=full",
        "ProtectHome=yes",
        "PrivateTmp=yes",
        "[Install]",
        "WantedBy=multi-user.target",
    ] {
        assert!(unit.contains(&line), "missing {line:?} in {unit:#?}");
    }
    let text = unit.join("\n");
    for absent in [
        "ExecReload",
        "RuntimeDirectory",
        "User",
        "Group",
        "WorkingDirectory",
        "StandardOutput",
        "StandardError",
        "ReadWritePaths",
        "NoNewPrivileges",
        "LockPersonality",
        "Requires",
    ] {
        assert!(!key(&text, absent), "unexpected {absent} in {text}");
    }
}

#[test]
fn unit_service_reloads_through_its_pid_file_on_older_systemd() {
    let unit = render_hello(SYSTEMD, &[], |b| b).unwrap();
    for line in [
        "Type=notify",
        "ExecStart=/usr/bin/hello --config /etc/hello/hello.toml --foreground \
         --pid-file /run/hello/hello.pid",
        "ExecReload=/usr/bin/hello --config /etc/hello/hello.toml \
         --pid-file /run/hello/hello.pid --reload",
        "RuntimeDirectory=hello",
    ] {
        assert!(has(&unit, line), "missing {line:?} in {unit}");
    }
    assert!(!unit.contains("kill"), "{unit}");
}

#[test]
fn unit_service_takes_user_group_dir_logs_and_timeouts_from_the_settings() {
    let unit = service(|b| {
        b.user("nobody")
            .group("nogroup")
            .dir("/srv/hello")
            .umask(0o077)
            .stdout("/var/log/hello/out.log")
            .stderr("/var/log/hello/100%.log")
            .stop_timeout(Duration::from_millis(2500))
            .start_timeout(Duration::from_secs(5))
    });
    for line in [
        "User=nobody",
        "Group=nogroup",
        "WorkingDirectory=/srv/hello",
        "UMask=0077",
        "StandardOutput=append:/var/log/hello/out.log",
        "StandardError=append:/var/log/hello/100%%.log",
        "TimeoutStopSec=2500ms",
        "TimeoutStartSec=5s",
        "ProtectHome=yes",
    ] {
        assert!(has(&unit, line), "missing {line:?} in {unit}");
    }
    // Only what falls under ProtectSystem=full needs an exception.
    assert!(!key(&unit, "ReadWritePaths"), "{unit}");
}

#[test]
fn unit_service_leaves_chroot_and_the_user_switch_to_the_runtime() {
    let unit = service(|b| b.user("nobody").chroot("/srv/jail").dir("/data"));
    assert!(
        !key(&unit, "User") && !key(&unit, "WorkingDirectory"),
        "{unit}"
    );
    assert!(!key(&unit, "RootDirectory"), "{unit}");
    assert!(
        unit.contains("# chroot: the program starts as root"),
        "{unit}"
    );
}

#[test]
fn unit_service_hardening_gives_way_to_the_paths_it_uses() {
    let unit = service(|b| b.stderr("/etc/hello/log/err.log").dir("/home/hello"));
    assert!(has(&unit, "ReadWritePaths=-/etc/hello/log"), "{unit}");
    assert!(!key(&unit, "ProtectHome"), "{unit}");
    // A config file (read only) in a home directory.
    let (settings, _) = hello(&[], |b| b);
    let config = Some(Path::new("/root/hello.toml"));
    let unit = render(&NOTIFY, &settings, Path::new(EXE), config).unwrap();
    assert!(has(&unit, "ProtectHome=read-only"), "{unit}");
    // The user's home: root's is /root.
    let unit = service(|b| b.user("root"));
    assert!(!key(&unit, "ProtectHome"), "{unit}");
    let unit = service(|b| b.stdout("/tmp/hello.log"));
    assert!(!key(&unit, "PrivateTmp"), "{unit}");
    let unit = service(|b| {
        b.stdout("/var/log/my logs/out.log")
            .stderr("/etc/a b/err.log")
    });
    assert!(has(&unit, "ReadWritePaths=\"-/etc/a b\""), "{unit}");
    let err = render_hello(NOTIFY, &[], |b| b.stderr("/etc/it's/err.log")).unwrap_err();
    assert!(
        err.to_string()
            .contains("ReadWritePaths= cannot hold quotes"),
        "{err}"
    );
}

#[test]
fn unit_service_sets_no_new_privs_only_when_the_setting_does() {
    let (settings, given) = hello(&[], |b| b);
    let exe = Path::new(EXE);
    let mut p = prepare(&NOTIFY, &settings, exe, None, &given).unwrap();
    assert!(!p.render(&NOTIFY).unwrap().contains("NoNew"));
    p.nnp = true;
    let unit = p.render(&NOTIFY).unwrap();
    for line in [
        "NoNewPrivileges=yes",
        "LockPersonality=yes",
        "RestrictSUIDSGID=yes",
    ] {
        assert!(has(&unit, line), "missing {line:?} in {unit}");
    }
}

#[test]
fn unit_activated_service_and_its_socket() {
    let unit = render_hello(
        ServiceKind::SystemdActivated {
            reload: Reload::Notify,
        },
        &[],
        |b| b,
    )
    .unwrap();
    for line in [
        "Requires=hello.socket",
        "After=network.target hello.socket",
        "Also=hello.socket",
    ] {
        assert!(has(&unit, line), "missing {line:?} in {unit}");
    }
    let kind = ServiceKind::parse("systemd-socket=web=0.0.0.0:8080,/run/hello/100%.sock").unwrap();
    let socket = render_hello(kind, &[], |b| b).unwrap();
    let socket = lines(&socket);
    assert_eq!(
        socket,
        [
            "# hello.socket, generated by `/usr/bin/hello --config /etc/hello/hello.toml \
             --print-service 'systemd-socket=web=0.0.0.0:8080,/run/hello/100%.sock'`",
            "[Unit]",
            "Description=hello listening sockets",
            "",
            "[Socket]",
            "ListenStream=0.0.0.0:8080",
            "ListenStream=/run/hello/100%%.sock",
            "FileDescriptorName=web",
            "Service=hello.service",
            "",
            "[Install]",
            "WantedBy=sockets.target",
        ]
    );
    let kind = ServiceKind::SystemdSocket {
        name: None,
        listen: vec!["a b".into()],
    };
    let err = render_hello(kind, &[], |b| b).unwrap_err();
    assert!(
        err.to_string().contains("the listen address `a b`"),
        "{err}"
    );
}

#[test]
fn unit_flags_given_are_passed_again_but_the_pid_file_is_the_units_own() {
    let flags = [
        "--user",
        "nobody",
        "--umask=077",
        "--pid-file",
        "/run/x.pid",
        "--dir",
        "/srv",
    ];
    let unit = render_hello(NOTIFY, &flags, |b| b).unwrap();
    assert!(
        has(
            &unit,
            "ExecStart=/usr/bin/hello --config /etc/hello/hello.toml --user nobody --dir /srv \
             --umask 077 --foreground --no-pid-file"
        ),
        "{unit}"
    );
    // The comment's command prints this very unit again.
    assert!(
        unit.starts_with(
            "# hello.service, generated by `/usr/bin/hello --config /etc/hello/hello.toml \
             --user nobody --dir /srv --pid-file /run/x.pid --umask 077 --print-service \
             systemd=notify-reload`\n"
        ),
        "{unit}"
    );
    let unit = render_hello(NOTIFY, &["--user=-x"], |b| b);
    assert!(unit.unwrap().contains(" --user=-x "));
}

#[test]
fn unit_pid_file_flags_exist_to_be_left_out() {
    assert!(
        crate::settings::flag_args(None)
            .iter()
            .any(|arg| arg.get_long() == Some(OWN_FLAGS[0]))
    );
}

#[test]
fn unit_sysv_script_runs_the_binarys_own_actions() {
    let script = render_hello(ServiceKind::Sysv, &["--pid-file", "/run/h/h.pid"], |b| b).unwrap();
    assert!(
        script.starts_with("#!/bin/sh\n# /etc/init.d/hello, generated by `"),
        "{script}"
    );
    for line in [
        "### BEGIN INIT INFO",
        "# Provides:          hello",
        "# Default-Start:     2 3 4 5",
        "### END INIT INFO",
        "set -- /usr/bin/hello --config /etc/hello/hello.toml --pid-file /run/h/h.pid",
        "\texec \"$@\" --daemon",
        "stop) exec \"$@\" --stop ;;",
        "status) exec \"$@\" --status ;;",
        "reload) exec \"$@\" --reload ;;",
        "restart|force-reload)",
        "\texec \"$@\" --restart",
    ] {
        assert!(has(&script, line), "missing {line:?} in {script}");
    }
    // Without a PID file setting, the script still names one for every action.
    let script = render_hello(ServiceKind::Sysv, &[], |b| b).unwrap();
    assert!(has(
        &script,
        "set -- /usr/bin/hello --config /etc/hello/hello.toml --pid-file /run/hello.pid"
    ));
    let script = render_hello(ServiceKind::Sysv, &[], |b| {
        b.pid_file("/var/run/hello/h.pid")
    });
    assert!(
        script
            .unwrap()
            .contains(" --pid-file /var/run/hello/h.pid\n")
    );
    let (settings, _) = hello(&[], |b| b.user("it's me"));
    let exe = Path::new("/opt/my app/hello");
    let script = render(&ServiceKind::Sysv, &settings, exe, None).unwrap();
    assert!(
        has(
            &script,
            "set -- '/opt/my app/hello' --pid-file /run/hello.pid"
        ),
        "{script}"
    );
    assert_eq!(sh_words("'/opt/my app/hello'"), ["/opt/my app/hello"]);
}

#[test]
fn unit_values_that_cannot_be_written_are_errors_naming_them() {
    let err = |kind: ServiceKind, flags: &[&str], code: fn(Builder) -> Builder| {
        render_hello(kind, flags, code).unwrap_err().to_string()
    };
    let e = err(NOTIFY, &["--dir", "data"], |b| b);
    assert_eq!(
        e,
        "cannot write dir (from --dir) `data` into a systemd unit: the path is relative, \
         and a service manager starts the program from /"
    );
    let e = err(ServiceKind::Sysv, &["--pid-file", "x.pid"], |b| b);
    assert!(
        e.starts_with("cannot write pid_file (from --pid-file) `x.pid` into an init script"),
        "{e}"
    );
    let e = err(NOTIFY, &[], |b| b.name("my app"));
    assert!(
        e.starts_with("cannot write the name (set in code) `my app`"),
        "{e}"
    );
    let e = err(NOTIFY, &[], |b| b.user("a b"));
    assert!(
        e.contains("user (set in code) `a b`") && e.ends_with("it contains whitespace"),
        "{e}"
    );
    let e = err(ServiceKind::Sysv, &["--user", "a\nb"], |b| b);
    assert_eq!(
        e,
        r"cannot write --user `a\nb` into an init script: it contains a control character"
    );
    let e = err(NOTIFY, &[], |b| b.stdout("/var/log/a\nb"));
    assert!(
        e.contains(r"`/var/log/a\nb`") && e.ends_with("a control character"),
        "{e}"
    );
}

#[test]
fn unit_binary_paths_that_cannot_be_written_are_errors() {
    let (settings, _) = hello(&[], |b| b);
    let exe = Path::new("/opt/it's/hello");
    let e = render(&NOTIFY, &settings, exe, None).unwrap_err();
    assert_eq!(
        e.to_string(),
        "cannot write the binary's path `/opt/it's/hello` into a systemd unit: systemd \
         refuses an executable path with a quote or a backslash"
    );
    // An init script takes it.
    assert!(render(&ServiceKind::Sysv, &settings, exe, None).is_ok());
    let e = render(&NOTIFY, &settings, Path::new("hello"), None);
    assert!(
        e.unwrap_err()
            .to_string()
            .contains("the binary's path `hello`")
    );
    let exe = Path::new(OsStr::from_bytes(b"/usr/bin/\xff"));
    let e = render(&ServiceKind::Sysv, &settings, exe, None).unwrap_err();
    assert!(e.to_string().ends_with("it is not valid UTF-8"), "{e}");
}

#[test]
fn unit_print_service_is_an_exclusive_action() {
    let cmd = DaemonArgs::command("x", "0", None);
    let m = cmd
        .clone()
        .try_get_matches_from(["x", "--print-service", "systemd-socket=8080"])
        .unwrap();
    let args = DaemonArgs::from_matches(&m).unwrap();
    assert_eq!(
        args.action(),
        Action::PrintService(ServiceKind::SystemdSocket {
            name: None,
            listen: vec!["8080".into()]
        })
    );
    for other in ["--stop", "--daemon", "--status", "--reload", "--restart"] {
        let err = cmd
            .clone()
            .try_get_matches_from(["x", "--print-service", "sysv", other])
            .unwrap_err();
        assert_eq!(
            err.kind(),
            clap::error::ErrorKind::ArgumentConflict,
            "{other}"
        );
    }
    let err = cmd
        .clone()
        .try_get_matches_from(["x", "--print-service", "launchd"])
        .unwrap_err();
    assert_eq!(err.kind(), clap::error::ErrorKind::ValueValidation);
    let help = cmd.clone().render_help().to_string();
    assert!(help.contains("--print-service <KIND>"), "{help}");
    let help = cmd.clone().render_long_help().to_string();
    assert!(help.contains("systemd-activated"), "{help}");
}
