//! Checks between the arguments, and between the arguments and the function's form.

use crate::args::{Args, Value};
use crate::errors::Errors;
use crate::item::{Form, Function};

/// Records whatever does not fit together.
pub(crate) fn check(args: &Args, function: &Function, errors: &mut Errors) {
    if let Some(key) = args.written("args")
        && !matches!(function.form, Form::Handler(_))
    {
        errors.at(
            key.span(),
            "`args` applies to subcommand handlers only; `fn main` gets the daemon flags from \
             the command line itself",
        );
    }

    // The same value (literal or expression) for the PID file and a log file: the
    // daemon's output would overwrite its pid.
    if let Some(Value::Tokens(pid_file)) = args.setting("pid_file").map(|arg| &arg.value) {
        for log in [args.setting("stdout"), args.setting("stderr")]
            .into_iter()
            .flatten()
        {
            if let Value::Tokens(value) = &log.value
                && value.to_string() == pid_file.to_string()
            {
                errors.spanning(
                    value,
                    format!(
                        "`{}` names the same file as `pid_file`: the daemon's output would \
                         overwrite its pid",
                        log.key
                    ),
                );
            }
        }
    }
}
