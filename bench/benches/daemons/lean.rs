//! `tick_macro` without daemon-runtime's default `config` feature, for the size row.
//!
//! Cargo resolves features once per build: in this package, where `tick_macro` and
//! `tick_builder` use the default features, daemon-runtime is compiled once, with
//! `config`. So the program without it is a package of its own, `bench/lean`
//! (`daemon-bench-lean`, binary `tick_macro_noconfig`, the same source file as
//! `tick_macro`), which the harness builds alone, in the profile and target directory
//! `cargo bench` uses. A build that selects more packages (`--workspace`) would unify
//! `config` back in; [`build`] checks the result instead of trusting the build: the
//! binary must not offer `--config`, and `tick_macro` must.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The name of its row in the table.
pub(crate) const NAME: &str = "macro (no config)";

/// Builds `tick_macro_noconfig` and returns its canonical path; panics, saying why, if
/// it cannot be built or if it was built with the `config` feature after all.
pub(crate) fn build() -> PathBuf {
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/lean/Cargo.toml");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| env!("CARGO").into());
    let with_config = Path::new(env!("CARGO_BIN_EXE_tick_macro"));
    // `bench` is the profile `cargo bench` builds with. The binary must land beside the
    // other systems, so the build gets the same target directory and target.
    let mut cmd = Command::new(&cargo);
    cmd.args(["build", "--quiet", "--profile", "bench", "--bins"])
        .arg("--manifest-path")
        .arg(manifest)
        .stdin(Stdio::null());
    if let Some((target_dir, triple)) = target_of(with_config) {
        cmd.arg("--target-dir").arg(target_dir);
        if let Some(triple) = triple {
            cmd.arg("--target").arg(triple);
        }
    }
    let status = cmd
        .status()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", cargo.to_string_lossy()));
    assert!(
        status.success(),
        "cargo build of {manifest} failed: {status}"
    );
    let exe = with_config.with_file_name("tick_macro_noconfig");
    assert!(
        offers_config(with_config),
        "{}: `--help` shows no `--config`; the check below proves nothing",
        with_config.display()
    );
    assert!(
        !offers_config(&exe),
        "{}: built with daemon-runtime's `config` feature (its `--help` shows `--config`); \
         the size row would be wrong",
        exe.display()
    );
    crate::system::binary(&exe.to_string_lossy())
}

/// The target directory a binary of this build lies in (the ancestor Cargo tagged with
/// `CACHEDIR.TAG`), and the target triple if the build named one
/// (`<dir>/<triple>/release/` rather than `<dir>/release/`).
fn target_of(exe: &Path) -> Option<(&Path, Option<&std::ffi::OsStr>)> {
    let profile_dir = exe.parent()?;
    let dir = profile_dir
        .ancestors()
        .skip(1)
        .find(|d| d.join("CACHEDIR.TAG").is_file())?;
    let above = profile_dir.parent()?;
    let triple = (above != dir).then(|| above.file_name()).flatten();
    Some((dir, triple))
}

/// Whether the program's `--help` lists `--config`.
fn offers_config(exe: &Path) -> bool {
    let output = Command::new(exe)
        .arg("--help")
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {} --help: {e}", exe.display()));
    assert!(
        output.status.success(),
        "{} --help failed: {}",
        exe.display(),
        output.status
    );
    String::from_utf8_lossy(&output.stdout).contains("--config")
}
