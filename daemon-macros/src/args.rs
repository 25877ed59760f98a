//! The attribute's arguments: `#[daemonize(key = value, ...)]`.
//!
//! A value is either a literal, checked here (an empty user name, a relative path or a
//! umask above `0o777` is a compile error at the literal), or any other expression,
//! handed to the builder's setter as written so that rustc checks its type there.
//! Argument errors are recorded and parsing goes on, so one build reports all of them.

use std::path::Path as FsPath;

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{ToTokens, quote_spanned};
use syn::meta::ParseNestedMeta;
use syn::parse::{ParseStream, Parser};
use syn::{Expr, Ident, Lit, LitInt, LitStr, Path, Token, UnOp};

use crate::errors::Errors;

/// Every argument, in the order the docs list them.
pub(crate) const KEYS: &[&str] = &[
    "user",
    "group",
    "dir",
    "pid_file",
    "umask",
    "stdout",
    "stderr",
    "chroot",
    "stop_timeout",
    "start_timeout",
    "name",
    "config",
    "daemon",
    "privileged",
    "ready",
    "args",
    "crate",
];

/// One argument: its key as written, for error spans, and its checked value.
pub(crate) struct Arg<T> {
    pub(crate) key: Ident,
    pub(crate) value: T,
}

/// `ready = "auto"` or `ready = "manual"`.
pub(crate) enum Readiness {
    Auto,
    Manual,
}

/// The arguments whose values checked out. A key written with a bad value is absent
/// here (its error is recorded) but listed in `written`.
#[derive(Default)]
pub(crate) struct Args {
    pub(crate) user: Option<Arg<TokenStream>>,
    pub(crate) group: Option<Arg<TokenStream>>,
    pub(crate) dir: Option<Arg<TokenStream>>,
    pub(crate) pid_file: Option<Arg<TokenStream>>,
    pub(crate) umask: Option<Arg<TokenStream>>,
    pub(crate) stdout: Option<Arg<TokenStream>>,
    pub(crate) stderr: Option<Arg<TokenStream>>,
    pub(crate) chroot: Option<Arg<TokenStream>>,
    pub(crate) stop_timeout: Option<Arg<TokenStream>>,
    pub(crate) start_timeout: Option<Arg<TokenStream>>,
    pub(crate) name: Option<Arg<TokenStream>>,
    pub(crate) config: Option<Arg<TokenStream>>,
    pub(crate) daemon: Option<Arg<TokenStream>>,
    pub(crate) privileged: Option<Arg<Expr>>,
    pub(crate) ready: Option<Arg<Readiness>>,
    pub(crate) args: Option<Arg<Ident>>,
    pub(crate) krate: Option<Arg<Path>>,
    /// Every known key written, good value or not, in order.
    written: Vec<Ident>,
}

impl Args {
    /// The settings that map one to one onto a builder setter of the same name, in the
    /// order of the settings table.
    pub(crate) fn setters(&self) -> impl Iterator<Item = &Arg<TokenStream>> {
        [
            &self.name,
            &self.user,
            &self.group,
            &self.dir,
            &self.pid_file,
            &self.umask,
            &self.stdout,
            &self.stderr,
            &self.chroot,
            &self.stop_timeout,
            &self.start_timeout,
        ]
        .into_iter()
        .flatten()
    }

    /// The key as written, if the attribute has it (whether or not its value was good).
    pub(crate) fn written(&self, key: &str) -> Option<&Ident> {
        self.written.iter().find(|k| *k == key)
    }
}

/// Parses the attribute's arguments, recording every error in `errors`.
pub(crate) fn parse(tokens: TokenStream, errors: &mut Errors) -> Args {
    let mut args = Args::default();
    let parser = syn::meta::parser(|meta| args.parse_one(&meta, errors));
    // A syntax error (a missing comma, an unparsable value) stops the parse; it is
    // reported with whatever was recorded before it.
    if let Err(e) = parser.parse2(tokens) {
        errors.push(e);
    }
    args
}

impl Args {
    fn parse_one(&mut self, meta: &ParseNestedMeta<'_>, errors: &mut Errors) -> syn::Result<()> {
        let known = meta
            .path
            .get_ident()
            .filter(|key| KEYS.iter().any(|k| *key == k));
        let Some(key) = known.cloned() else {
            errors.spanning(
                &meta.path,
                format!(
                    "unknown `daemonize` argument `{}`; expected one of {}",
                    meta.path.to_token_stream().to_string().replace(' ', ""),
                    list(KEYS)
                ),
            );
            return skip_value(meta.input);
        };
        if !meta.input.peek(Token![=]) {
            errors.at(
                key.span(),
                format!(
                    "`daemonize` argument `{key}` takes a value, as in `{}`",
                    example(&key)
                ),
            );
            return skip_value(meta.input);
        }
        let value: Expr = meta.value()?.parse()?;
        if self.written(&key.to_string()).is_some() {
            errors.at(
                key.span(),
                format!("duplicate `daemonize` argument `{key}`"),
            );
            return Ok(());
        }
        self.written.push(key.clone());
        let check = Check {
            key: &key,
            value: &value,
            errors,
        };
        match key.to_string().as_str() {
            // `user = "nobody"`, `user = 65534` (a uid), or an expression giving a `String`.
            "user" => self.user = check.name_or_id(),
            // `group = "nogroup"`, `group = 65534` (a gid), or an expression.
            "group" => self.group = check.name_or_id(),
            // `name = "hello"` (no `/`), or an expression.
            "name" => self.name = check.name(),
            // `dir = "/var/lib/hello"`: an absolute literal, or an expression giving a path.
            "dir" => self.dir = check.path(PathKind::Directory),
            // `pid_file = "/run/hello.pid"`, or `pid_file = my_paths::pid_file()`.
            "pid_file" => self.pid_file = check.path(PathKind::File),
            // `stdout = "/var/log/hello.log"`, or an expression.
            "stdout" => self.stdout = check.path(PathKind::File),
            // `stderr = "/var/log/hello.log"`, or an expression.
            "stderr" => self.stderr = check.path(PathKind::File),
            // `chroot = "/var/empty"`, or an expression.
            "chroot" => self.chroot = check.path(PathKind::Directory),
            // `config = "/etc/hello/hello.toml"`: the default config file, or an expression.
            "config" => self.config = check.path(PathKind::File),
            // `umask = 0o027` (at most `0o777`), or an expression giving a `u32`.
            "umask" => self.umask = check.umask(),
            // `stop_timeout = 10` or `stop_timeout = 2.5` (seconds), or a `Duration` expression.
            "stop_timeout" => self.stop_timeout = check.seconds(false),
            // `start_timeout = 30` (seconds, above zero), or a `Duration` expression.
            "start_timeout" => self.start_timeout = check.seconds(true),
            // `daemon = true` (always detach) or `false` (only with `--daemon`), or a `bool`.
            "daemon" => self.daemon = check.boolean(),
            // `privileged = bind_socket`: a function returning `Result<T, E>`.
            "privileged" => self.privileged = check.function(),
            // `ready = "auto"` or `ready = "manual"`.
            "ready" => self.ready = check.readiness(),
            // `args = daemon`: the handler argument's field holding the `DaemonArgs`.
            "args" => self.args = check.field(),
            // `crate = ::daemon_runtime`: where the runtime is, when renamed or re-exported.
            "crate" => self.krate = check.crate_path(),
            _ => unreachable!("every key in KEYS is handled"),
        }
        Ok(())
    }
}

/// Consumes whatever follows an argument that cannot be used, up to the next comma, so
/// that the arguments after it are still checked.
fn skip_value(input: ParseStream<'_>) -> syn::Result<()> {
    if input.peek(Token![=]) {
        input.parse::<Token![=]>()?;
        input.parse::<Expr>()?;
        return Ok(());
    }
    while !input.is_empty() && !input.peek(Token![,]) {
        input.parse::<TokenTree>()?;
    }
    Ok(())
}

/// `` `a`, `b`, `c` ``.
fn list(items: &[&str]) -> String {
    items
        .iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What `key = ...` looks like, for messages.
fn example(key: &Ident) -> &'static str {
    match key.to_string().as_str() {
        "user" => "user = \"nobody\"",
        "group" => "group = \"nogroup\"",
        "dir" => "dir = \"/var/lib/hello\"",
        "pid_file" => "pid_file = \"/run/hello.pid\"",
        "umask" => "umask = 0o027",
        "stdout" => "stdout = \"/var/log/hello.log\"",
        "stderr" => "stderr = \"/var/log/hello.log\"",
        "chroot" => "chroot = \"/var/empty\"",
        "stop_timeout" => "stop_timeout = 10",
        "start_timeout" => "start_timeout = 30",
        "name" => "name = \"hello\"",
        "config" => "config = \"/etc/hello/hello.toml\"",
        "daemon" => "daemon = true",
        "privileged" => "privileged = bind_socket",
        "ready" => "ready = \"manual\"",
        "args" => "args = daemon",
        _ => "crate = ::daemon_runtime",
    }
}

/// A literal, seen through the invisible group a `macro_rules!` fragment makes.
fn literal(expr: &Expr) -> Option<&Lit> {
    match expr {
        Expr::Lit(e) => Some(&e.lit),
        Expr::Group(g) => literal(&g.expr),
        _ => None,
    }
}

/// `-5`: a negated numeric literal.
fn negative_literal(expr: &Expr) -> Option<&Expr> {
    match expr {
        Expr::Unary(u) if matches!(u.op, UnOp::Neg(_)) && literal(&u.expr).is_some() => Some(expr),
        Expr::Group(g) => negative_literal(&g.expr),
        _ => None,
    }
}

enum PathKind {
    File,
    Directory,
}

/// One value being checked against what its key accepts.
struct Check<'a> {
    key: &'a Ident,
    value: &'a Expr,
    errors: &'a mut Errors,
}

impl Check<'_> {
    fn ok<T>(&self, value: T) -> Option<Arg<T>> {
        Some(Arg {
            key: self.key.clone(),
            value,
        })
    }

    /// The value as written: an expression for rustc to type-check against the setter.
    fn expression(&self) -> Option<Arg<TokenStream>> {
        self.ok(self.value.to_token_stream())
    }

    /// A literal of the wrong kind: says what the key takes, with an example, and which
    /// type an expression must have.
    fn wrong_type<T>(
        &mut self,
        tokens: impl ToTokens,
        takes: &str,
        expression: Option<&str>,
    ) -> Option<T> {
        let or =
            expression.map_or_else(String::new, |ty| format!(", or an expression giving {ty}"));
        self.errors.spanning(
            tokens,
            format!(
                "`{}` takes {takes}, as in `{}`{or}",
                self.key,
                example(self.key)
            ),
        );
        None
    }

    fn invalid<T>(&mut self, tokens: impl ToTokens, message: impl std::fmt::Display) -> Option<T> {
        self.errors.spanning(tokens, message);
        None
    }

    fn name_or_id(mut self) -> Option<Arg<TokenStream>> {
        let takes = if self.key == "user" {
            "a user name or uid"
        } else {
            "a group name or gid"
        };
        match literal(self.value) {
            None => self.expression(),
            Some(Lit::Str(s)) if s.value().trim().is_empty() => {
                self.invalid(s, format!("`{}` cannot be empty", self.key))
            }
            Some(Lit::Str(s)) => self.ok(s.to_token_stream()),
            // A numeric id is passed as its digits: the runtime takes names or ids.
            Some(Lit::Int(i)) => match i.base10_parse::<u32>() {
                Ok(id) => self.ok(LitStr::new(&id.to_string(), i.span()).to_token_stream()),
                Err(_) => self.invalid(i, format!("`{}` id does not fit in 32 bits", self.key)),
            },
            Some(other) => self.wrong_type(other, takes, Some("a `String`")),
        }
    }

    fn name(mut self) -> Option<Arg<TokenStream>> {
        match literal(self.value) {
            None => self.expression(),
            Some(Lit::Str(s)) if s.value().is_empty() => self.invalid(s, "`name` cannot be empty"),
            Some(Lit::Str(s)) if s.value().contains('/') => {
                self.invalid(s, "`name` cannot contain `/`")
            }
            Some(Lit::Str(s)) => self.ok(s.to_token_stream()),
            Some(other) => self.wrong_type(other, "a string", Some("a `String`")),
        }
    }

    fn path(mut self, kind: PathKind) -> Option<Arg<TokenStream>> {
        let s = match literal(self.value) {
            None => return self.expression(),
            Some(Lit::Str(s)) => s,
            Some(other) => {
                return self.wrong_type(other, "an absolute path", Some("a `PathBuf`"));
            }
        };
        let text = s.value();
        let key = self.key;
        if text.is_empty() {
            return self.invalid(s, format!("`{key}` cannot be empty"));
        }
        if !FsPath::new(&text).is_absolute() {
            return self.invalid(
                s,
                format!(
                    "`{key}` must be an absolute path: literals are absolute; for a per-user \
                     or computed path pass an expression, such as `{key} = my_paths::{key}()`"
                ),
            );
        }
        if matches!(kind, PathKind::File)
            && (text.ends_with('/') || FsPath::new(&text).file_name().is_none())
        {
            return self.invalid(s, format!("`{key}` must name a file, not a directory"));
        }
        self.ok(s.to_token_stream())
    }

    fn umask(mut self) -> Option<Arg<TokenStream>> {
        if let Some(negative) = negative_literal(self.value) {
            return self.invalid(negative, "`umask` cannot be negative");
        }
        match literal(self.value) {
            None => self.expression(),
            Some(Lit::Int(i)) => match i.base10_parse::<u32>() {
                Ok(mask) if mask <= 0o777 => {
                    // Written back in octal, which is how masks are read.
                    let lit = LitInt::new(&format!("0o{mask:03o}"), i.span());
                    self.ok(lit.to_token_stream())
                }
                _ => self.invalid(i, "`umask` is at most `0o777`"),
            },
            Some(other) => self.wrong_type(other, "an integer", Some("a `u32`")),
        }
    }

    /// Seconds, as an integer or float literal, or a `Duration` expression.
    fn seconds(mut self, nonzero: bool) -> Option<Arg<TokenStream>> {
        if let Some(negative) = negative_literal(self.value) {
            return self.invalid(negative, format!("`{}` cannot be negative", self.key));
        }
        let (secs, nanos, span) = match literal(self.value) {
            None => return self.expression(),
            Some(Lit::Int(i)) => match i.base10_parse::<u64>() {
                Ok(secs) => (secs, 0u32, i.span()),
                Err(_) => return self.invalid(i, format!("`{}` is too large", self.key)),
            },
            Some(Lit::Float(f)) => {
                let Ok(value) = f.base10_parse::<f64>() else {
                    return self.invalid(f, format!("`{}` is not a number", self.key));
                };
                // Whole seconds and nanoseconds, worked out here so that the generated
                // code is a constant `Duration::new` that cannot panic.
                let whole = value.trunc();
                if !value.is_finite() || whole >= u64::MAX as f64 {
                    return self.invalid(f, format!("`{}` is too large", self.key));
                }
                let nanos = ((value - whole) * 1e9).round() as u32;
                match nanos {
                    1_000_000_000 => (whole as u64 + 1, 0, f.span()),
                    n => (whole as u64, n, f.span()),
                }
            }
            Some(other) => {
                return self.wrong_type(other, "a number of seconds", Some("a `Duration`"));
            }
        };
        if nonzero && secs == 0 && nanos == 0 {
            return self.invalid(
                self.value,
                format!(
                    "`{}` must be more than zero: the launcher waits that long for the daemon",
                    self.key
                ),
            );
        }
        self.ok(quote_spanned!(span=> ::core::time::Duration::new(#secs, #nanos)))
    }

    fn boolean(mut self) -> Option<Arg<TokenStream>> {
        match literal(self.value) {
            None => self.expression(),
            Some(Lit::Bool(b)) => self.ok(b.to_token_stream()),
            Some(other) => self.wrong_type(other, "`true` or `false`", Some("a `bool`")),
        }
    }

    fn function(mut self) -> Option<Arg<Expr>> {
        match literal(self.value) {
            None => self.ok(self.value.clone()),
            Some(other) => self.wrong_type(other, "a function that returns `Result<T, E>`", None),
        }
    }

    fn readiness(mut self) -> Option<Arg<Readiness>> {
        let expected = "`\"auto\"` (ready once the start-up sequence is done) or `\"manual\"` \
                        (ready when the program calls `daemon_runtime::ready()`)";
        match literal(self.value) {
            Some(Lit::Str(s)) if s.value() == "auto" => self.ok(Readiness::Auto),
            Some(Lit::Str(s)) if s.value() == "manual" => self.ok(Readiness::Manual),
            Some(Lit::Str(s)) => self.invalid(s, format!("`ready` is {expected}")),
            _ => {
                self.errors
                    .spanning(self.value, format!("`ready` is {expected}"));
                None
            }
        }
    }

    fn field(mut self) -> Option<Arg<Ident>> {
        match self.value {
            Expr::Path(p) if p.qself.is_none() && p.attrs.is_empty() => match p.path.get_ident() {
                Some(field) => self.ok(field.clone()),
                None => self.wrong_type(p, "a field name", None),
            },
            other => self.wrong_type(other, "a field name", None),
        }
    }

    fn crate_path(mut self) -> Option<Arg<Path>> {
        match self.value {
            Expr::Path(p) if p.qself.is_none() && p.attrs.is_empty() => self.ok(p.path.clone()),
            // `crate = "::daemon_runtime"`, as serde and tokio spell it, works too.
            Expr::Lit(e) => match &e.lit {
                Lit::Str(s) => match s.parse::<Path>() {
                    Ok(mut path) => {
                        respan(&mut path, s.span());
                        self.ok(path)
                    }
                    Err(_) => self.invalid(s, "`crate` must be a path, such as `::daemon_runtime`"),
                },
                other => self.wrong_type(other, "a path", None),
            },
            other => self.wrong_type(other, "a path", None),
        }
    }
}

/// Points every token of a path parsed from a string at that string.
fn respan(path: &mut Path, span: Span) {
    if let Some(colon) = &mut path.leading_colon {
        colon.spans = [span, span];
    }
    for pair in path.segments.pairs_mut() {
        let (segment, punct) = pair.into_tuple();
        segment.ident.set_span(span);
        if let Some(p) = punct {
            p.spans = [span, span];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn parse_ok(tokens: TokenStream) -> Args {
        let mut errors = Errors::default();
        let args = parse(tokens, &mut errors);
        assert!(errors.is_empty(), "{}", errors.into_compile_errors());
        args
    }

    fn errors_of(tokens: TokenStream) -> String {
        let mut errors = Errors::default();
        parse(tokens, &mut errors);
        errors.into_compile_errors().to_string()
    }

    #[test]
    fn literals_become_setter_values() {
        let args = parse_ok(quote!(
            user = "nobody",
            group = 65534,
            umask = 0o22,
            stop_timeout = 2.5,
            start_timeout = 3,
            pid_file = "/run/x.pid",
            daemon = true,
            ready = "manual",
            args = opts,
            crate = "::rt"
        ));
        assert_eq!(args.setters().count(), 6);
        let text = |a: &Option<Arg<TokenStream>>| a.as_ref().unwrap().value.to_string();
        assert_eq!(text(&args.user), "\"nobody\"");
        assert_eq!(text(&args.group), "\"65534\"");
        assert_eq!(text(&args.umask), "0o022");
        assert_eq!(
            text(&args.stop_timeout),
            ":: core :: time :: Duration :: new (2u64 , 500000000u32)"
        );
        assert_eq!(
            text(&args.start_timeout),
            ":: core :: time :: Duration :: new (3u64 , 0u32)"
        );
        assert_eq!(text(&args.daemon), "true");
        assert!(matches!(args.ready.unwrap().value, Readiness::Manual));
        assert_eq!(args.args.unwrap().value, "opts");
        assert_eq!(
            args.krate.unwrap().value.to_token_stream().to_string(),
            ":: rt"
        );
    }

    #[test]
    fn expressions_pass_through() {
        let args = parse_ok(quote!(
            pid_file = paths::pid("x"),
            umask = MASK,
            user = who()
        ));
        assert_eq!(
            args.pid_file.unwrap().value.to_string(),
            "paths :: pid (\"x\")"
        );
        assert_eq!(args.umask.unwrap().value.to_string(), "MASK");
    }

    #[test]
    fn every_error_is_reported() {
        let text = errors_of(quote!(
            usr = "x",
            umask = 0o1000,
            umask = 1,
            pid_file = "run/x.pid",
            user = "",
            daemon = "yes",
            start_timeout = 0,
            stop_timeout = -1,
            ready = "later",
            name = "a/b",
            group
        ));
        for expected in [
            "unknown `daemonize` argument `usr`; expected one of `user`, `group`",
            "`umask` is at most `0o777`",
            "duplicate `daemonize` argument `umask`",
            "`pid_file` must be an absolute path",
            "`user` cannot be empty",
            "`daemon` takes `true` or `false`",
            "`start_timeout` must be more than zero",
            "`stop_timeout` cannot be negative",
            "`ready` is `\\\"auto\\\"`",
            "`name` cannot contain `/`",
            "`daemonize` argument `group` takes a value",
        ] {
            assert!(text.contains(expected), "{expected:?} not in {text}");
        }
    }

    #[test]
    fn float_seconds_round_to_nanoseconds() {
        let args = parse_ok(quote!(stop_timeout = 0.9999999999));
        assert_eq!(
            args.stop_timeout.unwrap().value.to_string(),
            ":: core :: time :: Duration :: new (1u64 , 0u32)"
        );
    }

    #[test]
    fn written_keys_are_remembered_even_when_invalid() {
        let mut errors = Errors::default();
        let args = parse(quote!(privileged = "bind"), &mut errors);
        assert!(!errors.is_empty());
        assert!(args.privileged.is_none());
        assert!(args.written("privileged").is_some());
    }
}
