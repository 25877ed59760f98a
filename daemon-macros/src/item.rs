//! The annotated function: which of the forms it is, and what moves where.
//!
//! The form follows from the name and the parameters. `privileged = f` adds one
//! trailing parameter, which receives `f`'s `Ok` value:
//!
//! | function                               | form                                        |
//! |----------------------------------------|---------------------------------------------|
//! | `fn main()`                            | [`Form::Bare`]: the runtime's command line  |
//! | `fn main(cli: Cli)`                    | [`Form::Parser`]: `Cli` plus the daemon flags |
//! | `fn serve(args: ServeArgs)` (any name) | [`Form::Handler`]: `args.daemon` holds the flags |

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{Attribute, Block, FnArg, ItemFn, PatType, Signature, Type, Visibility};

use crate::args::Args;
use crate::errors::Errors;

/// How the function gets its command line.
pub(crate) enum Form {
    /// `fn main()`.
    Bare,
    /// `fn main(cli: Cli)`, `Cli` being the program's `clap::Parser`.
    Parser(Param),
    /// `fn serve(args: ServeArgs)`, `ServeArgs` carrying a `DaemonArgs` field.
    Handler(Param),
}

/// A parameter, for the outer function's signature and for error spans.
pub(crate) struct Param {
    pub(crate) ty: Box<Type>,
    /// The whole `pattern: Type`.
    pub(crate) span: Span,
}

impl Param {
    fn new(arg: &PatType) -> Param {
        Param {
            ty: arg.ty.clone(),
            span: arg.span(),
        }
    }
}

/// The function, split into what stays on the outer function and what moves into the
/// inner one that holds the body.
pub(crate) struct Function {
    /// Attributes that stay on the outer function (docs, lints, `cfg`, ...).
    pub(crate) attrs: Vec<Attribute>,
    /// Async runtime attributes (`#[tokio::main]`): they move to the inner function, so
    /// the runtime is built after the fork.
    pub(crate) runtime_attrs: Vec<Attribute>,
    pub(crate) vis: Visibility,
    /// The signature as written; the inner function keeps it, patterns and all.
    pub(crate) sig: Signature,
    pub(crate) block: Box<Block>,
    pub(crate) form: Form,
    /// The trailing parameter that receives the privileged action's value.
    pub(crate) privileged: Option<Param>,
    /// Whether the signature or the body names `Self`: an associated function, whose
    /// body cannot move into an inner function.
    pub(crate) uses_self: bool,
}

/// An async runtime's entry attribute: `#[tokio::main]`, `#[async_std::main]`, ...
///
/// Only `main`: a `#[tokio::test]` moved into a function body would be a test the
/// harness cannot see, and a test that daemonizes forks the test harness.
pub(crate) fn is_runtime_attr(attr: &Attribute) -> bool {
    attr.path()
        .segments
        .last()
        .is_some_and(|segment| segment.ident == "main")
}

/// Reads `item` into a [`Function`], recording every reason it cannot be one.
pub(crate) fn read(item: &ItemFn, args: &Args, all_errors: &mut Errors) -> Option<Function> {
    let mut errors = Errors::default();
    let sig = &item.sig;
    check_signature(sig, &mut errors);
    let (runtime_attrs, attrs): (Vec<_>, Vec<_>) =
        item.attrs.iter().cloned().partition(is_runtime_attr);
    if let Some(asyncness) = &sig.asyncness
        && runtime_attrs.is_empty()
    {
        errors.at(
            asyncness.span,
            "`#[daemonize]` on an `async fn` needs an async runtime attribute such as \
             `#[tokio::main]` below it",
        );
    }
    let Some(mut params) = typed_params(sig, &mut errors) else {
        // A method: what the other parameters would mean is beside the point.
        all_errors.append(errors);
        return None;
    };
    let privileged = privileged_param(sig, &mut params, args, &mut errors);
    let form = form(sig, &params, privileged.is_some(), &mut errors);
    let fits = errors.is_empty();
    all_errors.append(errors);
    match form {
        Some(form) if fits => Some(Function {
            attrs,
            runtime_attrs,
            vis: item.vis.clone(),
            sig: item.sig.clone(),
            block: item.block.clone(),
            form,
            privileged,
            uses_self: names_self(item.sig.to_token_stream())
                || names_self(item.block.to_token_stream()),
        }),
        _ => None,
    }
}

/// Whether `tokens` have the identifier `Self` anywhere. A nested `impl` block's `Self`
/// counts too, which only means a closure where an inner function would have done.
fn names_self(tokens: TokenStream) -> bool {
    tokens.into_iter().any(|tree| match tree {
        TokenTree::Ident(ident) => ident == "Self",
        TokenTree::Group(group) => names_self(group.stream()),
        TokenTree::Punct(_) | TokenTree::Literal(_) => false,
    })
}

/// What no form accepts: `const`, `unsafe`, `extern`, generic and variadic functions.
fn check_signature(sig: &Signature, errors: &mut Errors) {
    if let Some(constness) = &sig.constness {
        errors.at(
            constness.span,
            "`#[daemonize]` cannot apply to a `const fn`: it starts a process at run time",
        );
    }
    if let syn::Safety::Unsafe(unsafety) = &sig.safety {
        errors.at(
            unsafety.span,
            "`#[daemonize]` cannot apply to an `unsafe fn`",
        );
    }
    if let Some(abi) = &sig.abi {
        errors.spanning(abi, "`#[daemonize]` cannot apply to an `extern` function");
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        errors.spanning(
            &sig.generics,
            "`#[daemonize]` cannot apply to a generic function: the runtime calls it once, with \
             the parsed command line",
        );
    }
    if let Some(variadic) = &sig.variadic {
        errors.spanning(
            variadic,
            "`#[daemonize]` cannot apply to a variadic function",
        );
    }
}

/// The parameters, or `None` (and the error) for a method, which has a receiver.
fn typed_params<'a>(sig: &'a Signature, errors: &mut Errors) -> Option<Vec<&'a PatType>> {
    let mut params = Vec::new();
    for input in &sig.inputs {
        match input {
            FnArg::Typed(arg) => params.push(arg),
            FnArg::Receiver(receiver) => {
                errors.spanning(
                    receiver,
                    "`#[daemonize]` applies to free functions, not methods",
                );
                return None;
            }
        }
    }
    Some(params)
}

/// With `privileged = ...`, takes the trailing parameter that receives the action's
/// value off `params`.
fn privileged_param(
    sig: &Signature,
    params: &mut Vec<&PatType>,
    args: &Args,
    errors: &mut Errors,
) -> Option<Param> {
    let key = args.written("privileged")?;
    let is_main = sig.ident == "main";
    // A handler's arguments come first; the privileged value is what follows them.
    let before_value = usize::from(!is_main);
    if params.len() > before_value {
        return params.pop().map(Param::new);
    }
    let which = if is_main {
        "a parameter, which `main` lacks"
    } else {
        "a parameter after the subcommand's arguments"
    };
    errors.at(
        sig.paren_token.span.join(),
        format!(
            "`{key} = ...` hands the action's value to {which}; add one, such as \
             `listener: std::net::TcpListener`"
        ),
    );
    None
}

/// The form the name and the remaining parameters make, if they make one.
fn form(
    sig: &Signature,
    params: &[&PatType],
    privileged: bool,
    errors: &mut Errors,
) -> Option<Form> {
    let second = if privileged {
        "the value of `privileged = ...` comes last"
    } else {
        "only a `privileged = ...` action adds one more, for its value"
    };
    match (sig.ident == "main", params) {
        (true, []) => Some(Form::Bare),
        (true, [cli]) => Some(Form::Parser(Param::new(cli))),
        (false, [args]) => Some(Form::Handler(Param::new(args))),
        (true, [_, extra, ..]) => {
            errors.spanning(
                extra,
                format!(
                    "unexpected parameter: `#[daemonize] fn main` takes at most the program's \
                     `#[derive(clap::Parser)]` type; {second}"
                ),
            );
            None
        }
        (false, [_, extra, ..]) => {
            errors.spanning(
                extra,
                format!(
                    "unexpected parameter: a `#[daemonize]` handler takes its subcommand's \
                     arguments; {second}"
                ),
            );
            None
        }
        (false, []) => {
            errors.at(
                sig.paren_token.span.join(),
                format!(
                    "`#[daemonize]` on a function other than `main` makes a subcommand \
                     handler, which takes the subcommand's arguments: `fn {}(args: ServeArgs)`, \
                     where `ServeArgs` has a field \
                     `#[command(flatten)] daemon: daemon_runtime::DaemonArgs`",
                    sig.ident
                ),
            );
            None
        }
    }
}
