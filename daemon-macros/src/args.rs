//! The attribute's arguments: `#[daemonize(key = value, ...)]`.
//!
//! [`KEYS`] is the one table of them. A row is a key, the kind of literal it takes and
//! the example messages show; a row of a setting maps onto the builder setter of the same
//! name (`user = "nobody"` becomes `.user("nobody")`), so adding a setting is one row here
//! and that setter in the runtime. The special keys (`config`, `privileged`, `ready`,
//! `args`, `crate`) have code of their own.
//!
//! A value is either a literal, checked here (an empty user name, a relative path or a
//! umask above `0o777` is a compile error at the literal), or any other expression,
//! handed to the builder's setter as written so that rustc checks its type there.
//! Argument errors are recorded and parsing goes on, so one build reports all of them.

use std::collections::BTreeMap;
use std::path::Path as FsPath;

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{ToTokens, quote, quote_spanned};
use syn::meta::ParseNestedMeta;
use syn::parse::{ParseStream, Parser};
use syn::{Expr, Ident, Lit, LitInt, LitStr, Path, Token, UnOp};

use crate::errors::Errors;

/// One argument the attribute accepts: a row of [`KEYS`].
struct Key {
    name: &'static str,
    kind: Kind,
    /// The value messages show, as in `user = "nobody"`.
    example: &'static str,
}

impl Key {
    const fn new(name: &'static str, kind: Kind, example: &'static str) -> Key {
        Key {
            name,
            kind,
            example,
        }
    }

    /// Whether the key is a runtime setting, set by the builder setter of its name.
    fn is_setting(&self) -> bool {
        !matches!(self.kind, Kind::Special)
    }
}

/// What a key's literal may be, and so how it is checked.
#[derive(Clone, Copy)]
enum Kind {
    /// A name, or a numeric id passed as its digits; the text says which.
    NameOrId(&'static str),
    /// A name for messages and default paths: not empty, no `/`.
    Name,
    /// An absolute path.
    Path(PathKind),
    /// An absolute path, or `false` for none: `.no_<key>()`.
    PathOrOff,
    /// A file mode creation mask, at most `0o777`.
    Umask,
    /// Seconds, at most [`MAX_SECONDS`]; with `nonzero`, above zero.
    Seconds { nonzero: bool },
    /// `true` or `false`.
    Bool,
    /// One of the strings of `choices`, each the name of a variant of the runtime's
    /// enum `ty` (`"syslog"` is `LogTarget::Syslog`).
    Choice {
        ty: &'static str,
        choices: &'static [(&'static str, &'static str)],
    },
    /// `log` directives, as in `RUST_LOG`: `"info"`, `"info,hyper=warn"`.
    LogLevel,
    /// A file descriptor number above the standard three.
    Fd,
    /// Not a setting of its own name; handled in [`Args::parse_one`].
    Special,
}

#[derive(Clone, Copy)]
enum PathKind {
    File,
    Directory,
}

/// The largest literal a seconds value takes: one day.
const MAX_SECONDS: u64 = 86_400;

/// The levels of the `log` crate, in `log_level` directives.
const LEVELS: &[&str] = &["off", "error", "warn", "info", "debug", "trace"];

/// Every argument, in the order the docs and messages list them.
const KEYS: &[Key] = &[
    // `user = "nobody"`, `user = 65534` (a uid), or an expression giving a `String`.
    Key::new("user", Kind::NameOrId("a user name or uid"), "\"nobody\""),
    // `group = "nogroup"`, `group = 65534` (a gid), or an expression.
    Key::new(
        "group",
        Kind::NameOrId("a group name or gid"),
        "\"nogroup\"",
    ),
    // `dir = "/var/lib/hello"`: an absolute literal, or an expression giving a path.
    Key::new("dir", Kind::Path(PathKind::Directory), "\"/var/lib/hello\""),
    // `pid_file = "/run/hello.pid"`, `pid_file = false` (none), or an expression such
    // as `my_paths::pid_file()`.
    Key::new("pid_file", Kind::PathOrOff, "\"/run/hello.pid\""),
    // `umask = 0o027` (at most `0o777`), or an expression giving a `u32`.
    Key::new("umask", Kind::Umask, "0o027"),
    // `stdout = "/var/log/hello.log"`, or an expression.
    Key::new(
        "stdout",
        Kind::Path(PathKind::File),
        "\"/var/log/hello.log\"",
    ),
    // `stderr = "/var/log/hello.log"`, or an expression.
    Key::new(
        "stderr",
        Kind::Path(PathKind::File),
        "\"/var/log/hello.log\"",
    ),
    // `chroot = "/var/empty"`, or an expression.
    Key::new("chroot", Kind::Path(PathKind::Directory), "\"/var/empty\""),
    // `stop_timeout = 10` or `2.5` (seconds, at most a day), or a `Duration` expression.
    Key::new("stop_timeout", Kind::Seconds { nonzero: false }, "10"),
    // `start_timeout = 30` (seconds, above zero, at most a day), or a `Duration`.
    Key::new("start_timeout", Kind::Seconds { nonzero: true }, "30"),
    // `name = "hello"` (no `/`), or an expression.
    Key::new("name", Kind::Name, "\"hello\""),
    // `daemon = true` (detach unless `--foreground`) or `false`, or a `bool`.
    Key::new("daemon", Kind::Bool, "true"),
    // `log_target = "syslog"`: where the `log` backend writes; or a `LogTarget`.
    Key::new(
        "log_target",
        Kind::Choice {
            ty: "LogTarget",
            choices: &[
                ("auto", "Auto"),
                ("journal", "Journal"),
                ("syslog", "Syslog"),
                ("file", "File"),
                ("stderr", "Stderr"),
                ("none", "None"),
            ],
        },
        "\"syslog\"",
    ),
    // `log_level = "info"` or `"info,hyper=warn,my_crate::db=trace"`, or an expression.
    Key::new("log_level", Kind::LogLevel, "\"info,hyper=warn\""),
    // `syslog_socket = "/dev/log"`, or an expression.
    Key::new("syslog_socket", Kind::Path(PathKind::File), "\"/dev/log\""),
    // `notify_fd = 3`: s6's notification descriptor, 3 or above; or an expression.
    Key::new("notify_fd", Kind::Fd, "3"),
    // `no_new_privs = true`, or a `bool`.
    Key::new("no_new_privs", Kind::Bool, "true"),
    // `core_dumps = false`, or a `bool`.
    Key::new("core_dumps", Kind::Bool, "false"),
    // `watchdog = "auto"` or `"manual"`, or a `Watchdog`.
    Key::new(
        "watchdog",
        Kind::Choice {
            ty: "Watchdog",
            choices: &[("auto", "Auto"), ("manual", "Manual")],
        },
        "\"manual\"",
    ),
    // `config = "/etc/hello/hello.toml"`: the default config file, or an expression;
    // `.config_file(..)`.
    Key::new("config", Kind::Special, "\"/etc/hello/hello.toml\""),
    // `privileged = bind_socket`: a function returning `Result<T, E>`.
    Key::new("privileged", Kind::Special, "bind_socket"),
    // `ready = "auto"` or `ready = "manual"`: `.readiness(..)`.
    Key::new("ready", Kind::Special, "\"manual\""),
    // `args = daemon`: the handler argument's field holding the `DaemonArgs`.
    Key::new("args", Kind::Special, "daemon"),
    // `crate = ::daemon_runtime`: where the runtime is, when renamed or re-exported.
    Key::new("crate", Kind::Special, "::daemon_runtime"),
];

/// `&["user", "group", ...]`: the keys that are runtime settings, as an expression of
/// type `&'static [&'static str]`, for a test that compares them with the runtime's.
pub(crate) fn setting_keys() -> TokenStream {
    let keys = KEYS.iter().filter(|k| k.is_setting()).map(|k| k.name);
    let name = Ident::new("SETTING_KEYS", Span::mixed_site());
    quote! {{
        const #name: &[&str] = &[#(#keys),*];
        #name
    }}
}

/// One argument: its key as written, for error spans, and its checked value.
pub(crate) struct Arg<T> {
    pub(crate) key: Ident,
    pub(crate) value: T,
}

impl<T> Arg<T> {
    fn of(key: &Ident, value: Option<T>) -> Option<Arg<T>> {
        value.map(|value| Arg {
            key: key.clone(),
            value,
        })
    }
}

/// What a setting's builder setter gets.
pub(crate) enum Value {
    /// A checked literal or the user's expression, passed as it is: `.key(value)`.
    Tokens(TokenStream),
    /// A choice: `.key(krate::Type::Variant)`, the path at the literal's span.
    Variant {
        ty: &'static str,
        variant: &'static str,
        span: Span,
    },
    /// `false` for a path: `.no_key()`.
    Off,
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
    /// The settings, by their row in [`KEYS`].
    settings: BTreeMap<usize, Arg<Value>>,
    pub(crate) config: Option<Arg<TokenStream>>,
    pub(crate) privileged: Option<Arg<Expr>>,
    pub(crate) ready: Option<Arg<Readiness>>,
    pub(crate) args: Option<Arg<Ident>>,
    pub(crate) krate: Option<Arg<Path>>,
    /// Every known key written, good value or not, in order.
    written: Vec<Ident>,
}

impl Args {
    /// The settings, each for the builder setter of its name, in the table's order.
    pub(crate) fn setters(&self) -> impl Iterator<Item = &Arg<Value>> {
        self.settings.values()
    }

    /// The setting `key`, if written with a good value.
    pub(crate) fn setting(&self, key: &str) -> Option<&Arg<Value>> {
        self.settings.values().find(|arg| arg.key == key)
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
        let known = meta.path.get_ident().and_then(|key| {
            let row = KEYS.iter().position(|k| key == k.name)?;
            Some((key.clone(), row))
        });
        let Some((key, row)) = known else {
            errors.spanning(
                &meta.path,
                format!(
                    "unknown `daemonize` argument `{}`; expected one of {}",
                    meta.path.to_token_stream().to_string().replace(' ', ""),
                    list(KEYS.iter().map(|k| k.name))
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
        match KEYS[row].kind {
            Kind::Special => self.parse_special(check),
            kind => {
                if let Some(arg) = Arg::of(&key, check.setting(kind)) {
                    self.settings.insert(row, arg);
                }
            }
        }
        Ok(())
    }

    /// The keys that are not settings of their own name.
    fn parse_special(&mut self, check: Check<'_>) {
        let key = check.key.clone();
        match key.to_string().as_str() {
            "config" => self.config = Arg::of(&key, check.path(PathKind::File)),
            "privileged" => self.privileged = Arg::of(&key, check.function()),
            "ready" => self.ready = Arg::of(&key, check.readiness()),
            "args" => self.args = Arg::of(&key, check.field()),
            "crate" => self.krate = Arg::of(&key, check.crate_path()),
            _ => unreachable!("every special key in KEYS is handled"),
        }
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
fn list(items: impl IntoIterator<Item = impl std::fmt::Display>) -> String {
    items
        .into_iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What `key = ...` looks like, for messages.
fn example(key: &Ident) -> String {
    let row = KEYS.iter().find(|k| key == k.name);
    let example = row.map_or("...", |k| k.example);
    format!("{key} = {example}")
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

/// One value being checked against what its key accepts. Each check returns the value
/// for the generated code, or records why the value is wrong and returns `None`.
struct Check<'a> {
    key: &'a Ident,
    value: &'a Expr,
    errors: &'a mut Errors,
}

impl Check<'_> {
    /// A setting's value, checked as its row's kind says.
    fn setting(self, kind: Kind) -> Option<Value> {
        let tokens = match kind {
            Kind::NameOrId(takes) => self.name_or_id(takes),
            Kind::Name => self.name(),
            Kind::Path(kind) => self.path(kind),
            Kind::PathOrOff => return self.path_or_off(),
            Kind::Umask => self.umask(),
            Kind::Seconds { nonzero } => self.seconds(nonzero),
            Kind::Bool => self.boolean(),
            Kind::Choice { ty, choices } => return self.choice(ty, choices),
            Kind::LogLevel => self.log_level(),
            Kind::Fd => self.fd(),
            Kind::Special => unreachable!("special keys are not settings"),
        };
        tokens.map(Value::Tokens)
    }

    /// The value as written: an expression for rustc to type-check against the setter.
    fn expression(&self) -> Option<TokenStream> {
        Some(self.value.to_token_stream())
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

    fn name_or_id(mut self, takes: &str) -> Option<TokenStream> {
        match literal(self.value) {
            None => self.expression(),
            Some(Lit::Str(s)) if s.value().trim().is_empty() => {
                self.invalid(s, format!("`{}` cannot be empty", self.key))
            }
            Some(Lit::Str(s)) => Some(s.to_token_stream()),
            // A numeric id is passed as its digits: the runtime takes names or ids.
            Some(Lit::Int(i)) => match i.base10_parse::<u32>() {
                Ok(id) => Some(LitStr::new(&id.to_string(), i.span()).to_token_stream()),
                Err(_) => self.invalid(i, format!("`{}` id does not fit in 32 bits", self.key)),
            },
            Some(other) => self.wrong_type(other, takes, Some("a `String`")),
        }
    }

    fn name(mut self) -> Option<TokenStream> {
        let key = self.key;
        match literal(self.value) {
            None => self.expression(),
            Some(Lit::Str(s)) if s.value().is_empty() => {
                self.invalid(s, format!("`{key}` cannot be empty"))
            }
            Some(Lit::Str(s)) if s.value().contains('/') => {
                self.invalid(s, format!("`{key}` cannot contain `/`"))
            }
            Some(Lit::Str(s)) => Some(s.to_token_stream()),
            Some(other) => self.wrong_type(other, "a string", Some("a `String`")),
        }
    }

    fn path(mut self, kind: PathKind) -> Option<TokenStream> {
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
        Some(s.to_token_stream())
    }

    /// A file's path, or `false` for none.
    fn path_or_off(mut self) -> Option<Value> {
        match literal(self.value) {
            Some(Lit::Bool(b)) if !b.value => Some(Value::Off),
            Some(Lit::Bool(b)) => self.invalid(
                b,
                format!(
                    "`{key} = true` is not a path: give the file's path, as in `{}`, or \
                     `{key} = false` for none",
                    example(self.key),
                    key = self.key,
                ),
            ),
            _ => self.path(PathKind::File).map(Value::Tokens),
        }
    }

    fn umask(mut self) -> Option<TokenStream> {
        if let Some(negative) = negative_literal(self.value) {
            return self.invalid(negative, "`umask` cannot be negative");
        }
        match literal(self.value) {
            None => self.expression(),
            Some(Lit::Int(i)) => match i.base10_parse::<u32>() {
                // Written back in octal, which is how masks are read.
                Ok(mask) if mask <= 0o777 => {
                    Some(LitInt::new(&format!("0o{mask:03o}"), i.span()).to_token_stream())
                }
                _ => self.invalid(i, "`umask` is at most `0o777`"),
            },
            Some(other) => self.wrong_type(other, "an integer", Some("a `u32`")),
        }
    }

    /// Seconds, as an integer or float literal, or a `Duration` expression.
    fn seconds(mut self, nonzero: bool) -> Option<TokenStream> {
        if let Some(negative) = negative_literal(self.value) {
            return self.invalid(negative, format!("`{}` cannot be negative", self.key));
        }
        let lit = match literal(self.value) {
            None => return self.expression(),
            Some(lit @ (Lit::Int(_) | Lit::Float(_))) => lit,
            Some(other) => {
                return self.wrong_type(other, "a number of seconds", Some("a `Duration`"));
            }
        };
        let too_long = format!("`{}` is at most {MAX_SECONDS} seconds (one day)", self.key);
        let Some((secs, nanos)) = whole_and_nanos(lit) else {
            return self.invalid(lit, too_long);
        };
        if secs > MAX_SECONDS || (secs == MAX_SECONDS && nanos > 0) {
            return self.invalid(lit, too_long);
        }
        if nonzero && secs == 0 && nanos == 0 {
            return self.invalid(
                self.value,
                format!(
                    "`{}` must be more than zero: the launcher waits that long for the daemon",
                    self.key
                ),
            );
        }
        // A constant `Duration::new` that cannot panic: nanos are below a second.
        Some(quote_spanned!(lit.span()=> ::core::time::Duration::new(#secs, #nanos)))
    }

    fn boolean(mut self) -> Option<TokenStream> {
        match literal(self.value) {
            None => self.expression(),
            Some(Lit::Bool(b)) => Some(b.to_token_stream()),
            Some(other) => self.wrong_type(other, "`true` or `false`", Some("a `bool`")),
        }
    }

    /// One of `choices`, or an expression of the runtime's type `ty`.
    fn choice(mut self, ty: &'static str, choices: &[(&str, &'static str)]) -> Option<Value> {
        let takes = format!(
            "one of {}",
            list(choices.iter().map(|(text, _)| format!("\"{text}\"")))
        );
        match literal(self.value) {
            None => self.expression().map(Value::Tokens),
            Some(Lit::Str(s)) => match choices.iter().find(|(text, _)| s.value() == *text) {
                Some((_, variant)) => Some(Value::Variant {
                    ty,
                    variant,
                    span: s.span(),
                }),
                None => self.invalid(s, format!("`{}` is {takes}", self.key)),
            },
            Some(other) => self.wrong_type(other, &takes, Some(&format!("a `{ty}`"))),
        }
    }

    /// `log` directives: `level` or `target=level`, separated by commas.
    fn log_level(mut self) -> Option<TokenStream> {
        match literal(self.value) {
            None => self.expression(),
            Some(Lit::Str(s)) => match log_directives_error(&s.value()) {
                Some(why) => self.invalid(s, format!("`{}` {why}", self.key)),
                None => Some(s.to_token_stream()),
            },
            Some(other) => {
                self.wrong_type(other, "a string of `log` directives", Some("a `String`"))
            }
        }
    }

    /// A descriptor number: 3 or more (0 to 2 are stdio), and an `int`.
    fn fd(mut self) -> Option<TokenStream> {
        if let Some(negative) = negative_literal(self.value) {
            return self.invalid(negative, format!("`{}` cannot be negative", self.key));
        }
        match literal(self.value) {
            None => self.expression(),
            Some(Lit::Int(i)) => match i.base10_parse::<u32>() {
                Ok(0..=2) => self.invalid(
                    i,
                    format!(
                        "`{}` is 3 or more: descriptors 0, 1 and 2 are stdin, stdout and stderr",
                        self.key
                    ),
                ),
                // Unsuffixed, so that it takes the setter's integer type.
                Ok(fd) if fd <= i32::MAX as u32 => {
                    Some(LitInt::new(&fd.to_string(), i.span()).to_token_stream())
                }
                _ => self.invalid(i, format!("`{}` is below 2^31", self.key)),
            },
            Some(other) => self.wrong_type(other, "a file descriptor number", Some("a `RawFd`")),
        }
    }

    fn function(mut self) -> Option<Expr> {
        match literal(self.value) {
            None => Some(self.value.clone()),
            Some(other) => self.wrong_type(other, "a function that returns `Result<T, E>`", None),
        }
    }

    fn readiness(mut self) -> Option<Readiness> {
        let expected = "`\"auto\"` (ready once the start-up sequence is done) or `\"manual\"` \
                        (ready when the program calls `daemon_runtime::ready()`)";
        match literal(self.value) {
            Some(Lit::Str(s)) if s.value() == "auto" => Some(Readiness::Auto),
            Some(Lit::Str(s)) if s.value() == "manual" => Some(Readiness::Manual),
            Some(Lit::Str(s)) => self.invalid(s, format!("`ready` is {expected}")),
            _ => self.invalid(self.value, format!("`ready` is {expected}")),
        }
    }

    fn field(mut self) -> Option<Ident> {
        match self.value {
            Expr::Path(p) if p.qself.is_none() && p.attrs.is_empty() => match p.path.get_ident() {
                Some(field) => Some(field.clone()),
                None => self.wrong_type(p, "a field name", None),
            },
            other => self.wrong_type(other, "a field name", None),
        }
    }

    fn crate_path(mut self) -> Option<Path> {
        match self.value {
            Expr::Path(p) if p.qself.is_none() && p.attrs.is_empty() => Some(p.path.clone()),
            // `crate = "::daemon_runtime"`, as serde and tokio spell it, works too.
            Expr::Lit(e) => match &e.lit {
                Lit::Str(s) => match s.parse::<Path>() {
                    Ok(mut path) => {
                        respan(&mut path, s.span());
                        Some(path)
                    }
                    Err(_) => self.invalid(s, "`crate` must be a path, such as `::daemon_runtime`"),
                },
                other => self.wrong_type(other, "a path", None),
            },
            other => self.wrong_type(other, "a path", None),
        }
    }
}

/// An integer or float literal of seconds as whole seconds and nanoseconds, or `None`
/// if it does not fit in a `u64` of seconds.
fn whole_and_nanos(lit: &Lit) -> Option<(u64, u32)> {
    match lit {
        Lit::Int(i) => i.base10_parse::<u64>().ok().map(|secs| (secs, 0)),
        Lit::Float(f) => {
            let value = f.base10_parse::<f64>().ok()?;
            let whole = value.trunc();
            if !value.is_finite() || whole >= u64::MAX as f64 {
                return None;
            }
            // Rounded to the nanosecond, which may make a whole second more.
            match ((value - whole) * 1e9).round() as u32 {
                1_000_000_000 => Some((whole as u64 + 1, 0)),
                nanos => Some((whole as u64, nanos)),
            }
        }
        _ => None,
    }
}

/// Why `text` is not a list of `log` directives (`level` or `target=level`, separated
/// by commas, levels in any case), as the end of a sentence; `None` if it is one.
fn log_directives_error(text: &str) -> Option<String> {
    let levels = list(LEVELS);
    let is_level = |word: &str| LEVELS.iter().any(|l| word.eq_ignore_ascii_case(l));
    if text.trim().is_empty() {
        return Some(format!(
            "cannot be empty; give a level, one of {levels}, or directives such as \
             `\"info,hyper=warn\"`"
        ));
    }
    for directive in text.split(',').map(str::trim) {
        let problem = match directive.split_once('=') {
            _ if directive.is_empty() => "is empty".to_owned(),
            None if is_level(directive) => continue,
            None => format!("is not a level; expected one of {levels}, or `target=level`"),
            Some((target, _)) if target.trim().is_empty() => "has no target before `=`".to_owned(),
            Some((target, _)) if target.trim().contains(char::is_whitespace) => {
                "has a space in its target".to_owned()
            }
            Some((_, level)) if is_level(level.trim()) => continue,
            Some((_, level)) => format!(
                "ends in `{}`, which is not a level; expected one of {levels}",
                level.trim()
            ),
        };
        return Some(format!("directive `{directive}` {problem}"));
    }
    None
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

    /// The setting's value as the setter gets it: tokens, `Type::Variant` or `off`.
    fn text(args: &Args, key: &str) -> String {
        match &args.setting(key).unwrap_or_else(|| panic!("{key}")).value {
            Value::Tokens(tokens) => tokens.to_string(),
            Value::Variant { ty, variant, .. } => format!("{ty}::{variant}"),
            Value::Off => "off".to_owned(),
        }
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
        assert_eq!(args.setters().count(), 7);
        assert_eq!(text(&args, "user"), "\"nobody\"");
        assert_eq!(text(&args, "group"), "\"65534\"");
        assert_eq!(text(&args, "umask"), "0o022");
        assert_eq!(
            text(&args, "stop_timeout"),
            ":: core :: time :: Duration :: new (2u64 , 500000000u32)"
        );
        assert_eq!(
            text(&args, "start_timeout"),
            ":: core :: time :: Duration :: new (3u64 , 0u32)"
        );
        assert_eq!(text(&args, "daemon"), "true");
        assert!(matches!(args.ready.unwrap().value, Readiness::Manual));
        assert_eq!(args.args.unwrap().value, "opts");
        assert_eq!(
            args.krate.unwrap().value.to_token_stream().to_string(),
            ":: rt"
        );
    }

    #[test]
    fn new_settings_become_setter_values() {
        let args = parse_ok(quote!(
            log_target = "syslog",
            log_level = "INFO, hyper=warn,my_crate::db=trace",
            syslog_socket = "/dev/log",
            notify_fd = 0x3,
            no_new_privs = true,
            core_dumps = false,
            watchdog = "manual",
            pid_file = false,
            stop_timeout = 86400,
            start_timeout = 86399.5
        ));
        assert_eq!(text(&args, "log_target"), "LogTarget::Syslog");
        assert_eq!(
            text(&args, "log_level"),
            "\"INFO, hyper=warn,my_crate::db=trace\""
        );
        assert_eq!(text(&args, "syslog_socket"), "\"/dev/log\"");
        assert_eq!(text(&args, "notify_fd"), "3");
        assert_eq!(text(&args, "no_new_privs"), "true");
        assert_eq!(text(&args, "core_dumps"), "false");
        assert_eq!(text(&args, "watchdog"), "Watchdog::Manual");
        assert_eq!(text(&args, "pid_file"), "off");
        // The table's order, whatever the attribute's.
        let order: Vec<_> = args.setters().map(|a| a.key.to_string()).collect();
        assert_eq!(
            order,
            [
                "pid_file",
                "stop_timeout",
                "start_timeout",
                "log_target",
                "log_level",
                "syslog_socket",
                "notify_fd",
                "no_new_privs",
                "core_dumps",
                "watchdog"
            ]
        );
    }

    #[test]
    fn expressions_pass_through() {
        let args = parse_ok(quote!(
            pid_file = paths::pid("x"),
            umask = MASK,
            user = who(),
            log_target = target(),
            notify_fd = FD
        ));
        assert_eq!(text(&args, "pid_file"), "paths :: pid (\"x\")");
        assert_eq!(text(&args, "umask"), "MASK");
        assert_eq!(text(&args, "log_target"), "target ()");
        assert_eq!(text(&args, "notify_fd"), "FD");
    }

    #[test]
    fn every_example_checks_out() {
        for key in KEYS {
            let tokens: TokenStream = format!("{} = {}", key.name, key.example).parse().unwrap();
            let mut errors = Errors::default();
            parse(tokens, &mut errors);
            let errors = errors.into_compile_errors();
            assert!(errors.is_empty(), "{}: {errors}", key.name);
        }
    }

    #[test]
    fn keys_are_unique_and_settings_exclude_the_special_keys() {
        for (i, key) in KEYS.iter().enumerate() {
            assert!(KEYS[..i].iter().all(|k| k.name != key.name), "{}", key.name);
        }
        let keys = setting_keys().to_string();
        for special in ["config", "privileged", "ready", "args", "crate"] {
            assert!(!keys.contains(&format!("\"{special}\"")), "{keys}");
        }
        for setting in ["user", "daemon", "log_target", "watchdog", "pid_file"] {
            assert!(keys.contains(&format!("\"{setting}\"")), "{keys}");
        }
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
    fn new_settings_reject_bad_literals() {
        let text = errors_of(quote!(
            log_target = "journald",
            watchdog = 1,
            syslog_socket = "dev/log",
            notify_fd = 2,
            no_new_privs = "yes",
            stop_timeout = 86401,
            start_timeout = 86400.5,
            pid_file = true
        ));
        for expected in [
            "`log_target` is one of `\\\"auto\\\"`, `\\\"journal\\\"`, `\\\"syslog\\\"`, \
             `\\\"file\\\"`, `\\\"stderr\\\"`, `\\\"none\\\"`",
            "`watchdog` takes one of `\\\"auto\\\"`, `\\\"manual\\\"`, as in \
             `watchdog = \\\"manual\\\"`, or an expression giving a `Watchdog`",
            "`syslog_socket` must be an absolute path",
            "`notify_fd` is 3 or more",
            "`no_new_privs` takes `true` or `false`",
            "`stop_timeout` is at most 86400 seconds (one day)",
            "`start_timeout` is at most 86400 seconds (one day)",
            "`pid_file = true` is not a path",
        ] {
            assert!(text.contains(expected), "{expected:?} not in {text}");
        }
        assert!(errors_of(quote!(notify_fd = 2147483648)).contains("`notify_fd` is below 2^31"));
        assert!(errors_of(quote!(notify_fd = -3)).contains("`notify_fd` cannot be negative"));
        assert!(errors_of(quote!(stop_timeout = 1e30)).contains("at most 86400 seconds"));
    }

    #[test]
    fn log_directives() {
        for good in [
            "info",
            "OFF",
            "info,hyper=warn",
            " debug , a::b = Trace ",
            "x=off,error",
        ] {
            assert_eq!(log_directives_error(good), None, "{good}");
        }
        for (bad, why) in [
            ("", "cannot be empty"),
            ("  ", "cannot be empty"),
            (
                "inof",
                "directive `inof` is not a level; expected one of `off`, `error`",
            ),
            ("info,", "directive `` is empty"),
            ("=info", "directive `=info` has no target before `=`"),
            ("a b=info", "directive `a b=info` has a space in its target"),
            (
                "hyper=verbose",
                "directive `hyper=verbose` ends in `verbose`, which is not a level",
            ),
            (
                "hyper=",
                "directive `hyper=` ends in ``, which is not a level",
            ),
        ] {
            let error = log_directives_error(bad).unwrap_or_default();
            assert!(error.starts_with(why), "{bad:?}: {error}");
        }
    }

    #[test]
    fn float_seconds_round_to_nanoseconds() {
        let args = parse_ok(quote!(stop_timeout = 0.9999999999));
        assert_eq!(
            text(&args, "stop_timeout"),
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
