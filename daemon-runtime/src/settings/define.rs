//! The macro that turns the settings table (`table.rs`) into code: the [`Options`] and
//! [`Settings`] structs, the table of keys and flags, the config parser's dispatch, the
//! command-line flags, the builder's setters, the resolver and the validation.
//!
//! The table reads:
//!
//! ```text
//! context ctx;   // the name the default expressions use for the `Context`
//!
//! /// Docs of the field and the builder setter.
//! key: Kind => ValueType, setter(into | plain),
//!     default(required EXPR | optional EXPR), flag(FLAG), config(yes | no), help(short | long),
//!     "help line";
//! ```
//!
//! - `setter(into)`: the builder's setter takes `impl Into<ValueType>` (strings, paths);
//!   `setter(plain)`: it takes the type itself, so integer literals infer (`umask(0o027)`).
//! - `required EXPR`: the setting always has a value; `EXPR` (a `ValueType`) is the
//!   built-in one. `optional EXPR`: `EXPR` is an `Option<ValueType>`. Either expression
//!   may use the context and the settings resolved before it (entries resolve in table
//!   order), by key.
//! - `FLAG`: `value("--user", "USER")` (takes a value); `value_or_off("--pid-file",
//!   "FILE", "--no-pid-file", "help")` (and a flag for the kind's "off" value); `switch("--x")`
//!   (present or not: sets `true`); `own("--daemon", "--foreground")` (flags the
//!   command line defines itself, named here for messages); or `none`.
//! - `help(short)`: listed in `-h` as well as `--help`; `help(long)`: only in `--help`.
//!
//! [`Options`]: super::Options
//! [`Settings`]: super::Settings

macro_rules! settings_table {
    (context $ctx:ident; $(
        $(#[doc = $doc:literal])+
        $key:ident: $kind:ident => $ty:ty, setter($setter:ident),
            default($mode:ident $default:expr),
            flag($($flag:tt)*),
            config($config:ident),
            help($shown:ident),
            $help:literal;
    )*) => {
        /// One source's values for the daemon settings; `None` means "this source does not
        /// say".
        ///
        /// The builder, the config file's `[daemon]` section and the command-line flags each
        /// produce one of these; [`Settings`] is what remains after merging them.
        #[derive(Clone, Debug, Default, PartialEq, Eq)]
        #[non_exhaustive]
        #[allow(unused_qualifications)]
        pub struct Options {
            $( $(#[doc = $doc])+ pub $key: Option<$ty>, )*
        }

        /// The settings after merging every source, each with its [`Origin`](crate::Origin).
        #[derive(Clone, Debug, PartialEq, Eq)]
        #[non_exhaustive]
        #[allow(unused_qualifications)]
        pub struct Settings {
            $( $(#[doc = $doc])+ pub $key: settings_table!(@field $mode $ty), )*
        }

        /// Every setting's key, flags, help and whether the config file takes it, in order.
        pub(crate) const TABLE: &[Spec] = &[
            $( Spec {
                key: stringify!($key),
                flag: settings_table!(@flag_name $($flag)*),
                flag_off: settings_table!(@flag_off $($flag)*),
                help: $help,
                config: settings_table!(@yes $config),
            }, )*
        ];

        impl Options {
            /// Sets `key` from its config file value; `None` if no setting has that key.
            #[cfg(feature = "config")]
            pub(crate) fn set_from_toml(
                &mut self,
                key: &str,
                value: &toml::de::DeValue<'_>,
            ) -> Option<Result<(), Mismatch>> {
                match key {
                    $( stringify!($key) => Some(
                        <$kind as Kind>::from_toml(value).map(|v| self.$key = Some(v)),
                    ), )*
                    _ => None,
                }
            }

            /// The values the command line's flags set.
            pub(crate) fn from_matches(matches: &clap::ArgMatches) -> Options {
                Options {
                    $( $key: settings_table!(@read matches, $key, $kind, $($flag)*), )*
                }
            }
        }

        /// The command-line flags of the settings that have one; their help shows the
        /// effective default where `defaults` knows it.
        pub(crate) fn flag_args(defaults: Option<&Settings>) -> Vec<clap::Arg> {
            let mut args = Vec::new();
            $(
                let default = defaults.and_then(|d| {
                    settings_table!(@default_text $mode, $kind, d.$key)
                });
                settings_table!(@args args, $key, $kind, $help, $shown, default, $($flag)*);
            )*
            args
        }

        /// The builder's setters: one per setting, setting the value "in code".
        macro_rules! builder_setters {
            () => {$(
                $(#[doc = $doc])+
                pub fn $key(
                    mut self,
                    value: $crate::settings::settings_table!(@setter_arg $setter $ty),
                ) -> Self {
                    self.code.$key =
                        Some($crate::settings::settings_table!(@setter_value $setter value));
                    self
                }
            )*};
        }
        pub(crate) use builder_setters;

        /// Merges `layers` (lowest priority first) over the built-in defaults (which may
        /// depend on the context) and checks each value.
        pub(crate) fn resolve(
            layers: &[Layer<'_>],
            $ctx: &Context<'_>,
        ) -> Result<Settings, Error> {
            $(
                let $key = settings_table!(
                    @resolve $mode, layers, $key, $kind, $default
                )?;
            )*
            Ok(Settings { $($key,)* })
        }

        impl fmt::Display for Settings {
            /// One `key = value  # origin` line per setting, unset ones included, in the
            /// `[daemon]` section's terms.
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                $( settings_table!(@show f, self, $key, $kind, $mode); )*
                Ok(())
            }
        }
    };

    (@setter_arg into $ty:ty) => { impl Into<$ty> };
    (@setter_arg plain $ty:ty) => { $ty };
    (@setter_value into $value:ident) => { $value.into() };
    (@setter_value plain $value:ident) => { $value };

    (@field required $ty:ty) => { Sourced<$ty> };
    (@field optional $ty:ty) => { Option<Sourced<$ty>> };

    (@yes yes) => { true };
    (@yes no) => { false };

    (@flag_name value($flag:literal, $value_name:literal)) => { Some($flag) };
    (@flag_name value_or_off($flag:literal, $value_name:literal, $off:literal, $off_help:literal)) => { Some($flag) };
    (@flag_name switch($flag:literal)) => { Some($flag) };
    (@flag_name own($flag:literal, $off:literal)) => { Some($flag) };
    (@flag_name none) => { None };

    (@flag_off value_or_off($flag:literal, $value_name:literal, $off:literal, $off_help:literal)) => { Some($off) };
    (@flag_off own($flag:literal, $off:literal)) => { Some($off) };
    (@flag_off $($other:tt)*) => { None };

    (@read $m:ident, $key:ident, $kind:ident, value($flag:literal, $value_name:literal)) => {
        $m.get_one(concat!("daemon-", stringify!($key))).cloned()
    };
    (@read $m:ident, $key:ident, $kind:ident,
        value_or_off($flag:literal, $value_name:literal, $off:literal, $off_help:literal)) => {
        match $m.get_flag(concat!("daemon-no-", stringify!($key))) {
            true => <$kind as Kind>::off(),
            false => $m.get_one(concat!("daemon-", stringify!($key))).cloned(),
        }
    };
    (@read $m:ident, $key:ident, $kind:ident, switch($flag:literal)) => {
        $m.get_flag(concat!("daemon-", stringify!($key))).then_some(true)
    };
    (@read $m:ident, $key:ident, $kind:ident, own($flag:literal, $off:literal)) => { None };
    (@read $m:ident, $key:ident, $kind:ident, none) => { None };

    (@default_text required, $kind:ident, $value:expr) => {
        Some(<$kind as Kind>::show(&$value.value))
    };
    (@default_text optional, $kind:ident, $value:expr) => {
        $value.as_ref().map(|v| <$kind as Kind>::show(&v.value))
    };

    // Each flag is built by a function of `args.rs` that pushes it: inlined here, sixteen
    // `Arg` builder chains took about 50 KiB of stack frame and 14 KiB of code.
    (@args $args:ident, $key:ident, $kind:ident, $help:literal, $shown:ident, $default:ident,
        value($flag:literal, $value_name:literal)) => {
        super::args::push_value(
            &mut $args,
            concat!("daemon-", stringify!($key)),
            &$flag[2..],
            $value_name,
            with_default($help, $default),
            settings_table!(@long_only $shown),
            clap::builder::ValueParser::new(<$kind as Kind>::parse),
        )
    };
    (@args $args:ident, $key:ident, $kind:ident, $help:literal, $shown:ident, $default:ident,
        value_or_off($flag:literal, $value_name:literal, $off:literal, $off_help:literal)) => {{
        settings_table!(@args $args, $key, $kind, $help, $shown, $default,
            value($flag, $value_name));
        super::args::push_off(
            &mut $args,
            concat!("daemon-no-", stringify!($key)),
            &$off[2..],
            $off_help,
            concat!("daemon-", stringify!($key)),
        );
    }};
    (@args $args:ident, $key:ident, $kind:ident, $help:literal, $shown:ident, $default:ident,
        switch($flag:literal)) => {
        super::args::push_switch(
            &mut $args,
            concat!("daemon-", stringify!($key)),
            &$flag[2..],
            with_default($help, $default.filter(|d| d == "true")),
            settings_table!(@long_only $shown),
        )
    };
    (@args $args:ident, $key:ident, $kind:ident, $help:literal, $shown:ident, $default:ident,
        own($flag:literal, $off:literal)) => {
        { let _ = $default; }
    };
    (@args $args:ident, $key:ident, $kind:ident, $help:literal, $shown:ident, $default:ident, none) => {
        { let _ = $default; }
    };

    (@long_only short) => { false };
    (@long_only long) => { true };

    (@resolve required, $layers:ident, $key:ident, $kind:ident, $default:expr) => {
        checked::<$kind>(
            stringify!($key),
            pick::<$kind>($layers, stringify!($key), |o| o.$key.as_ref())
                .unwrap_or_else(|| Sourced::built_in($default)),
        )
    };
    (@resolve optional, $layers:ident, $key:ident, $kind:ident, $default:expr) => {
        pick::<$kind>($layers, stringify!($key), |o| o.$key.as_ref())
            .or_else(|| $default.map(Sourced::built_in))
            .map(|value| checked::<$kind>(stringify!($key), value))
            .transpose()
    };

    (@show $f:ident, $self:ident, $key:ident, $kind:ident, required) => {
        show_line::<$kind>($f, stringify!($key), Some(&$self.$key))?
    };
    (@show $f:ident, $self:ident, $key:ident, $kind:ident, optional) => {
        show_line::<$kind>($f, stringify!($key), $self.$key.as_ref())?
    };
}

pub(crate) use settings_table;
