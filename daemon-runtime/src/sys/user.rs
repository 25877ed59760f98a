//! Resolving the user and group before the fork, and dropping privileges in the daemon.
//!
//! Name lookups may load NSS modules, so they happen in the launching process where an
//! error still reaches the terminal, never after the fork. The drop follows the only
//! safe order: supplementary groups, then the group id, then the user id (once the uid
//! is gone, the process may no longer change its groups), and then a check that root
//! cannot be regained.
//!
//! Who may switch: root, and on Linux also a process that is not root but holds
//! `CAP_SETUID` and `CAP_SETGID` in its effective set (a service manager's
//! `AmbientCapabilities=`, `setpriv --ambient-caps`). The kernel takes a root process's
//! capabilities away when its uids leave 0, but leaves those of a process whose uids
//! were never 0: after the switch they are cleared here explicitly (effective,
//! permitted, inheritable and ambient sets), or `CAP_SETUID` would let the daemon
//! switch back.

use nix::unistd::{Gid, Group, Uid, User, getegid, geteuid, setgid, setuid};

use crate::error::Error;
use crate::settings::Sourced;

/// Who the daemon runs as, resolved to ids.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Identity {
    /// For messages: `nobody (uid 65534)`.
    pub(crate) label: String,
    pub(crate) uid: Uid,
    pub(crate) gid: Gid,
    /// The user's name in the user database, if it has an entry.
    pub(crate) name: Option<String>,
    /// Supplementary groups: the user's groups from the group database.
    pub(crate) groups: Vec<Gid>,
}

/// Resolves `user` and `group` to ids. `Ok(None)` when there is nothing to switch:
/// neither is set, or both already match the running process.
pub(crate) fn resolve(
    user: Option<&Sourced<String>>,
    group: Option<&Sourced<String>>,
) -> Result<Option<Identity>, Error> {
    let group = group.map(lookup_group).transpose()?;
    let identity = match (user, group) {
        (None, None) => return Ok(None),
        (Some(user), group) => user_identity(user, group)?,
        (None, Some(group)) => Identity {
            label: format!("group {} (gid {})", group.name, group.gid),
            uid: geteuid(),
            gid: group.gid,
            name: None,
            groups: vec![group.gid],
        },
    };
    if identity.uid == geteuid() && identity.gid == getegid() && !geteuid().is_root() {
        // Already that user: nothing to drop, and no right to change groups anyway.
        return Ok(None);
    }
    if !may_switch_users() {
        return Err(Error::NotPermitted {
            action: format!("switch to {}", identity.label),
            reason: not_permitted_reason(),
        });
    }
    Ok(Some(identity))
}

/// Whether this process may change its user and groups: root, or (on Linux) a process
/// with `CAP_SETUID` and `CAP_SETGID` in its effective capability set.
fn may_switch_users() -> bool {
    geteuid().is_root() || caps::can_switch_users()
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn not_permitted_reason() -> String {
    format!(
        "only root, or a process with the CAP_SETUID and CAP_SETGID capabilities, may switch \
         users, and this runs as uid {} without them",
        geteuid()
    )
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn not_permitted_reason() -> String {
    format!(
        "only root may switch users, and this runs as uid {}",
        geteuid()
    )
}

/// The user's ids and groups; its primary group unless `group` is given.
fn user_identity(user: &Sourced<String>, group: Option<ResolvedGroup>) -> Result<Identity, Error> {
    let (uid, name, primary) = lookup_user(user)?;
    let gid = match (group, primary) {
        (Some(group), _) => group.gid,
        (None, Some(primary)) => primary,
        (None, None) => {
            return Err(Error::InvalidSetting {
                key: "user",
                value: user.value.clone(),
                reason: "uid has no entry in the user database, so its group is unknown; set \
                         `group` as well"
                    .to_owned(),
                origin: user.origin.clone(),
            });
        }
    };
    let groups = match &name {
        Some(name) => supplementary_groups(name, gid)?,
        None => vec![gid],
    };
    Ok(Identity {
        label: format!(
            "{} (uid {uid}, gid {gid})",
            name.as_deref().unwrap_or(&user.value)
        ),
        uid,
        gid,
        name,
        groups,
    })
}

fn lookup_user(user: &Sourced<String>) -> Result<(Uid, Option<String>, Option<Gid>), Error> {
    let spec = user.value.trim();
    let by_name = User::from_name(spec).map_err(|source| Error::Lookup {
        what: format!("user `{spec}`"),
        source,
    })?;
    if let Some(u) = by_name {
        return Ok((u.uid, Some(u.name), Some(u.gid)));
    }
    let Ok(id) = spec.parse::<u32>() else {
        return Err(Error::NoSuchUser {
            user: user.value.clone(),
            origin: user.origin.clone(),
        });
    };
    let uid = Uid::from_raw(id);
    let entry = User::from_uid(uid).map_err(|source| Error::Lookup {
        what: format!("uid {id}"),
        source,
    })?;
    Ok(match entry {
        Some(u) => (uid, Some(u.name), Some(u.gid)),
        None => (uid, None, None),
    })
}

struct ResolvedGroup {
    name: String,
    gid: Gid,
}

fn lookup_group(group: &Sourced<String>) -> Result<ResolvedGroup, Error> {
    let spec = group.value.trim();
    let by_name = Group::from_name(spec).map_err(|source| Error::Lookup {
        what: format!("group `{spec}`"),
        source,
    })?;
    if let Some(g) = by_name {
        return Ok(ResolvedGroup {
            name: g.name,
            gid: g.gid,
        });
    }
    match spec.parse::<u32>() {
        // A numeric gid need not be in the group database.
        Ok(id) => Ok(ResolvedGroup {
            name: id.to_string(),
            gid: Gid::from_raw(id),
        }),
        Err(_) => Err(Error::NoSuchGroup {
            group: group.value.clone(),
            origin: group.origin.clone(),
        }),
    }
}

#[cfg(not(target_vendor = "apple"))]
fn supplementary_groups(name: &str, gid: Gid) -> Result<Vec<Gid>, Error> {
    let lookup = |source| Error::Lookup {
        what: format!("the groups of user `{name}`"),
        source,
    };
    let c_name = std::ffi::CString::new(name).map_err(|_| lookup(nix::errno::Errno::EINVAL))?;
    let mut groups = nix::unistd::getgrouplist(&c_name, gid).map_err(lookup)?;
    groups.sort_unstable_by_key(|g| g.as_raw());
    groups.dedup();
    Ok(groups)
}

/// macOS resolves a user's groups through Open Directory when `initgroups` runs (see
/// [`set_groups`]); only the primary group is known ahead.
#[cfg(target_vendor = "apple")]
fn supplementary_groups(_name: &str, gid: Gid) -> Result<Vec<Gid>, Error> {
    Ok(vec![gid])
}

#[cfg(not(target_vendor = "apple"))]
fn set_groups(identity: &Identity) -> Result<(), Error> {
    nix::unistd::setgroups(&identity.groups).map_err(|e| Error::sys("setgroups", e))
}

#[cfg(target_vendor = "apple")]
fn set_groups(identity: &Identity) -> Result<(), Error> {
    let r = match &identity.name {
        Some(name) => {
            let name = std::ffi::CString::new(name.as_str())
                .map_err(|_| Error::sys("initgroups", nix::errno::Errno::EINVAL))?;
            // SAFETY: `name` is a valid C string for the duration of the call.
            unsafe { libc::initgroups(name.as_ptr(), identity.gid.as_raw() as libc::c_int) }
        }
        None => {
            let gid = identity.gid.as_raw();
            // SAFETY: one gid, read from a valid local for the duration of the call.
            unsafe { libc::setgroups(1, &gid) }
        }
    };
    nix::errno::Errno::result(r)
        .map(drop)
        .map_err(|e| Error::sys("setgroups", e))
}

/// Switches the calling process to `identity`: supplementary groups, gid, uid, in that
/// order, then checks that none of it can be undone.
///
/// As root, `setgid` and `setuid` set the real, effective and saved ids together.
pub(crate) fn drop_to(identity: &Identity) -> Result<(), Error> {
    set_groups(identity)?;
    setgid(identity.gid).map_err(|e| Error::sys(format!("setgid({})", identity.gid), e))?;
    setuid(identity.uid).map_err(|e| Error::sys(format!("setuid({})", identity.uid), e))?;
    if !identity.uid.is_root() {
        caps::clear()?;
    }
    verify(identity)?;
    log::debug!("switched to {}", identity.label);
    Ok(())
}

fn verify(identity: &Identity) -> Result<(), Error> {
    let broken = |what: &str| Error::NotPermitted {
        action: format!("switch to {}", identity.label),
        reason: format!("{what} after the switch; refusing to run"),
    };
    if !identity.uid.is_root() {
        if setuid(Uid::from_raw(0)).is_ok() {
            return Err(broken("root could be regained"));
        }
        if identity.gid.as_raw() != 0 && setgid(Gid::from_raw(0)).is_ok() {
            return Err(broken("group 0 could be regained"));
        }
    }
    #[cfg(any(
        target_os = "linux",
        target_os = "android",
        target_os = "freebsd",
        target_os = "openbsd"
    ))]
    {
        let uids = nix::unistd::getresuid().map_err(|e| Error::sys("getresuid", e))?;
        let gids = nix::unistd::getresgid().map_err(|e| Error::sys("getresgid", e))?;
        if [uids.real, uids.effective, uids.saved] != [identity.uid; 3] {
            return Err(broken("the real, effective and saved uids differ"));
        }
        if [gids.real, gids.effective, gids.saved] != [identity.gid; 3] {
            return Err(broken("the real, effective and saved gids differ"));
        }
    }
    if !identity.uid.is_root() && caps::any_left() {
        return Err(broken("capabilities are left"));
    }
    #[cfg(not(target_vendor = "apple"))]
    {
        let mut now = nix::unistd::getgroups().map_err(|e| Error::sys("getgroups", e))?;
        now.sort_unstable_by_key(|g| g.as_raw());
        now.dedup();
        if now != identity.groups {
            return Err(broken("the supplementary groups differ from the user's"));
        }
    }
    Ok(())
}

/// Capabilities (Linux): reading the effective set, and clearing every set after the
/// switch. Elsewhere there are none to read or clear.
#[cfg(any(target_os = "linux", target_os = "android"))]
mod caps {
    use crate::error::Error;

    /// `CAP_SETGID` and `CAP_SETUID` (capability numbers 6 and 7).
    const SETID: u64 = (1 << 6) | (1 << 7);

    /// `_LINUX_CAPABILITY_VERSION_3`: 64-bit sets, as two 32-bit halves.
    const VERSION_3: u32 = 0x2008_0522;

    /// `struct __user_cap_header_struct`.
    #[repr(C)]
    struct Header {
        version: u32,
        pid: libc::c_int,
    }

    /// `struct __user_cap_data_struct`.
    #[repr(C)]
    #[derive(Clone, Copy, Default)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }

    /// This process's `/proc/self/status`, where its capability sets are; `None` if it
    /// cannot be read.
    fn status() -> Option<String> {
        std::fs::read_to_string("/proc/self/status").ok()
    }

    /// The capability set `name` (`CapEff`, `CapPrm`, ...) in `status`.
    fn set(status: &str, name: &str) -> Option<u64> {
        let value = status
            .lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))?;
        u64::from_str_radix(value.trim(), 16).ok()
    }

    /// Whether the effective set holds `CAP_SETUID` and `CAP_SETGID`. Without `/proc`,
    /// no: only root may switch then.
    pub(super) fn can_switch_users() -> bool {
        status()
            .and_then(|status| set(&status, "CapEff"))
            .is_some_and(|caps| caps & SETID == SETID)
    }

    /// Whether any capability is left in the effective, permitted or ambient set.
    pub(super) fn any_left() -> bool {
        let Some(status) = status() else {
            return false;
        };
        ["CapEff", "CapPrm", "CapAmb"]
            .iter()
            .any(|name| set(&status, name).is_some_and(|caps| caps != 0))
    }

    /// Clears the ambient set, then the effective, permitted and inheritable sets.
    /// Lowering is always allowed; a process that switched from root has none left
    /// already, and this changes nothing for it.
    pub(super) fn clear() -> Result<(), Error> {
        // SAFETY: prctl(2) with integer arguments only.
        let r = unsafe {
            libc::prctl(
                libc::PR_CAP_AMBIENT,
                libc::PR_CAP_AMBIENT_CLEAR_ALL,
                0,
                0,
                0,
            )
        };
        // EINVAL: a kernel before 4.3, which has no ambient set to clear.
        match nix::errno::Errno::result(r) {
            Ok(_) | Err(nix::errno::Errno::EINVAL) => {}
            Err(e) => return Err(Error::sys("prctl(PR_CAP_AMBIENT_CLEAR_ALL)", e)),
        }
        let header = Header {
            version: VERSION_3,
            pid: 0,
        };
        let data = [Data::default(); 2];
        // SAFETY: capset(2) reads one header and, for version 3, two data structs, all
        // of which live across the call.
        let r = unsafe { libc::syscall(libc::SYS_capset, &raw const header, data.as_ptr()) };
        nix::errno::Errno::result(r)
            .map(drop)
            .map_err(|e| Error::sys("capset (clearing every capability)", e))
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
mod caps {
    use crate::error::Error;

    pub(super) fn can_switch_users() -> bool {
        false
    }

    pub(super) fn any_left() -> bool {
        false
    }

    pub(super) fn clear() -> Result<(), Error> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Origin;

    fn flag(v: &str, flag: &'static str) -> Sourced<String> {
        Sourced {
            value: v.to_owned(),
            origin: Origin::Flag(flag),
        }
    }

    #[test]
    fn unknown_user_names_value_and_origin() {
        let err = resolve(Some(&flag("no-such-user-x", "--user")), None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "no such user `no-such-user-x` (from --user)"
        );
        assert_eq!(err.exit_code(), crate::error::exit::NOUSER);
    }

    #[test]
    fn unknown_group_names_value_and_origin() {
        let err = resolve(None, Some(&flag("no-such-group-x", "--group"))).unwrap_err();
        assert_eq!(
            err.to_string(),
            "no such group `no-such-group-x` (from --group)"
        );
    }

    #[test]
    fn current_user_needs_no_switch() {
        let me = User::from_uid(geteuid()).unwrap().unwrap();
        let identity = resolve(Some(&flag(&me.name, "--user")), None).unwrap();
        if geteuid().is_root() {
            let identity = identity.expect("root switching to root still sets groups");
            assert_eq!(identity.uid, geteuid());
        } else {
            assert_eq!(identity, None);
        }
    }

    #[test]
    fn nobody_resolves_with_primary_group() {
        let Some(nobody) = User::from_name("nobody").unwrap() else {
            // Past the harness's capture, so the skip shows.
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "skipped: no user `nobody` on this system"
            );
            return;
        };
        match resolve(Some(&flag("nobody", "--user")), None) {
            Ok(Some(identity)) => {
                assert_eq!(identity.uid, nobody.uid);
                assert_eq!(identity.gid, nobody.gid);
                assert!(identity.groups.contains(&nobody.gid));
            }
            Err(Error::NotPermitted { .. }) if !geteuid().is_root() => {}
            other => panic!("unexpected {other:?}"),
        }
    }
}
