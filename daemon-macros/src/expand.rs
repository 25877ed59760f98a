//! Generating the code: one call into `daemon_runtime::__private` with a builder that
//! holds the attribute's values, and the body moved into an inner function that runs
//! after the fork.

// Input:
//
//     #[daemonize(pid_file = "/run/hello.pid", umask = 0o027)]
//     #[tokio::main]
//     async fn main(cli: Cli) -> io::Result<()> { body }
//
// Output:
//
//     fn main() -> io::Result<()> {
//         #[tokio::main]
//         async fn __daemonize_body(cli: Cli) -> io::Result<()> { body }
//         ::daemon_runtime::__private::main_with_parser::<_, _, io::Result<()>>(
//             ::daemon_runtime::__private::builder()
//                 .pid_file("/run/hello.pid")
//                 .umask(0o027),
//             match ::core::option_env!("CARGO_BIN_NAME") { /* or CARGO_PKG_NAME */ },
//             <Cli as ::daemon_runtime::__private::CommandLine>::parse,
//             move |__daemonize_cli, ()| __daemonize_body(__daemonize_cli),
//         )
//     }
//
// The outer function keeps the name, visibility, return type and other attributes; the
// inner one keeps the parameters with their patterns, `async`, and the runtime
// attribute, so that the async runtime is built inside the daemon. A handler's outer
// function keeps its one parameter (renamed) and reads the daemon flags from it:
// `::daemon_runtime::__private::handler::<_, R>(builder, name,
// ::daemon_runtime::__private::daemon_args(&__daemonize_args.daemon), move |()| ...)`.
//
// Each setting is `.key(value)`; a choice is `.log_target(::daemon_runtime::LogTarget::
// Syslog)`, `pid_file = false` is `.no_pid_file()`. An associated function that uses
// `Self` gets `let __daemonize_body = |cli: Cli| -> R { body };` instead of the inner
// function, and `-> impl Termination` gets `Termination::report(__daemonize_body(..))`.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Ident, Item, ReturnType, Signature, Type};

use crate::args::{self, Args, Readiness, Value};
use crate::errors::Errors;
use crate::item::{self, Form, Function};
use crate::{fallback, validate};

/// The whole attribute: parse, read the function, check, then generate, or fall back to
/// the function unchanged plus every error.
pub(crate) fn daemonize(args: TokenStream, input: TokenStream) -> TokenStream {
    let item = match syn::parse2::<Item>(input) {
        Ok(Item::Fn(item)) => item,
        Ok(other) => return fallback::not_a_function(&other),
        // rustc parsed the item before handing it over; anything syn cannot read is
        // left for rustc to report.
        Err(e) => return e.into_compile_error(),
    };
    let mut errors = Errors::default();
    let args = args::parse(args, &mut errors);
    let function = item::read(&item, &args, &mut errors);
    if let Some(function) = &function {
        validate::check(&args, function, &mut errors);
    }
    match function {
        Some(function) if errors.is_empty() => generate(&args, &function),
        _ => fallback::function(&item, errors),
    }
}

fn generate(args: &Args, function: &Function) -> TokenStream {
    let krate = match &args.krate {
        Some(arg) => arg.value.to_token_stream(),
        None => quote!(::daemon_runtime),
    };
    let builder = builder(&krate, args);
    let (outer_params, call) = runtime_call(&krate, builder, args, function);
    let Function {
        attrs, vis, sig, ..
    } = function;
    let ident = &sig.ident;
    let output = &sig.output;
    let body = body(function);
    quote! {
        #(#attrs)*
        #vis fn #ident(#outer_params) #output {
            #body
            #call
        }
    }
}

/// The body, where the runtime can call it once the daemon runs: an inner function
/// `__daemonize_body` with the signature as written (patterns, `async` and the runtime
/// attribute included).
///
/// An inner function cannot see `Self`, so for an associated function that uses it the
/// body becomes a closure of that name instead. Closures cannot be `async` nor return
/// `impl Trait`: those keep the inner function, and rustc's error says to name the type.
fn body(function: &Function) -> TokenStream {
    let name = Ident::new("__daemonize_body", Span::call_site());
    let Function {
        runtime_attrs,
        sig,
        block,
        ..
    } = function;
    if function.uses_self && runtime_attrs.is_empty() && impl_trait_output(sig).is_none() {
        let params = &sig.inputs;
        let output = &sig.output;
        return quote!(let #name = |#params| #output #block;);
    }
    let mut inner = sig.clone();
    inner.ident = name;
    quote! {
        #(#runtime_attrs)*
        #inner #block
    }
}

/// The call into the runtime that runs the body, and the outer function's parameters.
fn runtime_call(
    krate: &TokenStream,
    builder: TokenStream,
    args: &Args,
    function: &Function,
) -> (TokenStream, TokenStream) {
    let name = binary_name();
    let output = outcome_type(&function.sig);
    match &function.form {
        Form::Bare => {
            let body = body_closure(krate, function, None, None);
            let call = quote! {
                #krate::__private::main_bare::<_, #output>(
                    #builder,
                    #name,
                    ::core::env!("CARGO_PKG_VERSION"),
                    ::core::option_env!("CARGO_PKG_DESCRIPTION"),
                    #body,
                )
            };
            (quote!(), call)
        }
        Form::Parser(cli) => {
            let cli_ty = &cli.ty;
            let parsed = Ident::new("__daemonize_cli", Span::mixed_site());
            let body = body_closure(krate, function, Some(&parsed), Some(&parsed));
            // The parser, through a trait whose message says what the parameter must be,
            // at its type.
            let parse = quote!(<#cli_ty as #krate::__private::CommandLine>::parse);
            let call = quote! {
                #krate::__private::main_with_parser::<_, _, #output>(#builder, #name, #parse, #body)
            };
            (quote!(), call)
        }
        Form::Handler(param) => {
            let ty = &param.ty;
            let arg = Ident::new("__daemonize_args", Span::mixed_site());
            // A missing field is rustc's error at the parameter's type (or at the
            // `args = field` the attribute names). The field name has the type's own
            // span, so that rustc lists the type's fields there and adds no notes about
            // the macro; rustc has no hook for a help line on a missing field.
            let at_param = Span::call_site().located_at(ty.span());
            let field = match &args.args {
                Some(arg) => arg.value.clone(),
                None => Ident::new("daemon", ty.span()),
            };
            let flags = quote_spanned! {at_param=>
                #krate::__private::daemon_args(&#arg.#field)
            };
            let body = body_closure(krate, function, None, Some(&arg));
            let call = quote! {
                #krate::__private::handler::<_, #output>(#builder, #name, #flags, #body)
            };
            (quote!(#arg: #ty), call)
        }
    }
}

/// The binary's name, for messages and default paths; a library's package name.
fn binary_name() -> TokenStream {
    let bin = Ident::new("__daemonize_bin", Span::mixed_site());
    quote! {
        match ::core::option_env!("CARGO_BIN_NAME") {
            ::core::option::Option::Some(#bin) => #bin,
            ::core::option::Option::None => ::core::env!("CARGO_PKG_NAME"),
        }
    }
}

/// The return type, written into the runtime call's generic arguments so that a type
/// that is not an `Outcome` is reported at the return type (`_` there for `impl Trait`).
fn outcome_type(sig: &Signature) -> TokenStream {
    match &sig.output {
        ReturnType::Type(_, ty) if impl_trait_output(sig).is_none() => ty.to_token_stream(),
        ReturnType::Type(_, ty) => quote_spanned!(ty.span()=> _),
        ReturnType::Default => quote!(_),
    }
}

/// `move |cli, value| __daemonize_body(cli, value)`: what the runtime calls in the
/// daemon. It takes `param` (the parsed command line) if given, and the privileged
/// action's value, `()` without one; it passes `arg` and the value to the body. A body
/// that returns `impl Termination` is reported as `main` would be, leaving an exit code.
fn body_closure(
    krate: &TokenStream,
    function: &Function,
    param: Option<&Ident>,
    arg: Option<&Ident>,
) -> TokenStream {
    let body = Ident::new("__daemonize_body", Span::call_site());
    // Named after the parameter that receives it, so that a type mismatch is reported
    // there.
    let value = function.privileged.as_ref().map(|param| {
        Ident::new(
            "__daemonize_value",
            Span::mixed_site().located_at(param.span),
        )
    });
    let value_param = match &value {
        Some(value) => value.to_token_stream(),
        None => quote!(()),
    };
    let params = param
        .map(ToTokens::to_token_stream)
        .into_iter()
        .chain([value_param]);
    let args = arg.into_iter().chain(&value);
    let mut call = quote!(#body(#(#args),*));
    if let Some(ty) = impl_trait_output(&function.sig)
        && is_termination(ty)
    {
        call = quote_spanned!(ty.span()=> ::std::process::Termination::report(#call));
    }
    // The outcome and its failure, if it is one, described where the outcome's type is
    // known: `Report`'s autoref ladder picks an error's `Display` and `source()` chain
    // over `Debug`. Written `&&&` by hand: the ladder is the point, hence the allow.
    let outcome = Ident::new("__daemonize_outcome", Span::mixed_site());
    let failure = Ident::new("__daemonize_failure", Span::mixed_site());
    quote! {
        move |#(#params),*| {
            let #outcome = #call;
            #[allow(unused_imports, clippy::needless_borrow)]
            let #failure = {
                use #krate::__private::{
                    ViaDeref as _, ViaError as _, ViaNothing as _, ViaOutcome as _,
                };
                (&&&#krate::__private::Report(&#outcome)).failure()
            };
            (#outcome, #failure)
        }
    }
}

/// Whether `impl Trait` has the bound `Termination` (by whatever path): a value only
/// `Termination::report` can make sense of.
fn is_termination(ty: &Type) -> bool {
    let Type::ImplTrait(ty) = ty else {
        return false;
    };
    ty.bounds.iter().any(|bound| match bound {
        syn::TypeParamBound::Trait(t) => t
            .path
            .segments
            .last()
            .is_some_and(|s| s.ident == "Termination"),
        _ => false,
    })
}

/// `impl Trait` in `-> impl Trait`.
fn impl_trait_output(sig: &Signature) -> Option<&Type> {
    match &sig.output {
        ReturnType::Type(_, ty) if matches!(**ty, Type::ImplTrait(_)) => Some(ty),
        _ => None,
    }
}

/// `builder().user(..).pid_file(..)...`: the attribute's values, set in code.
fn builder(krate: &TokenStream, args: &Args) -> TokenStream {
    let mut chain = quote!(#krate::__private::builder());
    for setter in args.setters() {
        let key = &setter.key;
        chain.extend(match &setter.value {
            Value::Tokens(value) => quote!(.#key(#value)),
            Value::Variant { ty, variant, span } => {
                let ty = Ident::new(ty, *span);
                let variant = Ident::new(variant, *span);
                quote!(.#key(#krate::#ty::#variant))
            }
            Value::Off => {
                let off = format_ident!("no_{}", key);
                quote!(.#off())
            }
        });
    }
    if let Some(config) = &args.config {
        let value = &config.value;
        chain.extend(quote!(.config_file(#value)));
    }
    if let Some(ready) = &args.ready {
        let readiness = match ready.value {
            Readiness::Auto => quote!(Auto),
            Readiness::Manual => quote!(Manual),
        };
        chain.extend(quote!(.readiness(#krate::Readiness::#readiness)));
    }
    if let Some(privileged) = &args.privileged {
        let action = &privileged.value;
        chain.extend(quote!(.privileged_action(#action)));
    }
    chain
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand(args: TokenStream, item: TokenStream) -> String {
        daemonize(args, item).to_string()
    }

    #[test]
    fn bare_main_calls_main_bare_with_the_builder() {
        let out = expand(
            quote!(umask = 0o27),
            quote!(
                /// Docs stay outside.
                pub fn main() -> std::io::Result<()> {
                    Ok(())
                }
            ),
        );
        assert!(
            out.starts_with(
                "# [doc = r\" Docs stay outside.\"] pub fn main () -> std :: io :: Result < () >"
            ),
            "{out}"
        );
        assert!(
            out.contains("fn __daemonize_body () -> std :: io :: Result < () > { Ok (()) }"),
            "{out}"
        );
        assert!(
            out.contains(
                ":: daemon_runtime :: __private :: main_bare :: < _ , std :: io :: Result < () > >"
            ),
            "{out}"
        );
        assert!(
            out.contains(":: daemon_runtime :: __private :: builder () . umask (0o027)"),
            "{out}"
        );
    }

    #[test]
    fn runtime_attribute_and_async_move_inside() {
        let out = expand(
            quote!(),
            quote!(
                #[inline]
                #[tokio::main(flavor = "current_thread")]
                async fn main() {}
            ),
        );
        assert!(out.starts_with("# [inline] fn main ()"), "{out}");
        assert!(
            out.contains(
                "# [tokio :: main (flavor = \"current_thread\")] async fn __daemonize_body ()"
            ),
            "{out}"
        );
    }

    #[test]
    fn handler_keeps_its_parameter_and_reads_the_flags_field() {
        let out = expand(
            quote!(crate = rt),
            quote!(
                fn serve(ServeArgs { port, .. }: ServeArgs) {}
            ),
        );
        assert!(
            out.starts_with("fn serve (__daemonize_args : ServeArgs)"),
            "{out}"
        );
        assert!(
            out.contains("fn __daemonize_body (ServeArgs { port , .. } : ServeArgs)"),
            "{out}"
        );
        assert!(
            out.contains("rt :: __private :: daemon_args (& __daemonize_args . daemon)"),
            "{out}"
        );
        assert!(
            out.contains(
                "move | () | { let __daemonize_outcome = __daemonize_body (__daemonize_args) ;"
            ),
            "{out}"
        );
        // The failure is described where the outcome's type is known.
        assert!(
            out.contains("(&& & rt :: __private :: Report (& __daemonize_outcome)) . failure ()"),
            "{out}"
        );
    }

    #[test]
    fn errors_keep_the_function_and_report() {
        let out = expand(
            quote!(usr = "x"),
            quote!(
                fn serve(args: A) {
                    body()
                }
            ),
        );
        assert!(out.starts_with("fn serve (args : A) { body () }"), "{out}");
        assert!(out.contains("compile_error"), "{out}");
        // `main` keeps a signature rustc accepts.
        let out = expand(
            quote!(),
            quote!(
                fn main(a: A, b: B) {}
            ),
        );
        assert!(
            out.starts_with(
                "fn main () { # [allow (dead_code)] fn __daemonize_body (a : A , b : B) { } }"
            ),
            "{out}"
        );
    }

    #[test]
    fn parser_comes_through_the_command_line_trait() {
        let out = expand(
            quote!(),
            quote!(
                fn main(cli: Cli) {}
            ),
        );
        assert!(
            out.contains(":: daemon_runtime :: __private :: main_with_parser :: < _ , _ , _ > ("),
            "{out}"
        );
        assert!(
            out.contains("< Cli as :: daemon_runtime :: __private :: CommandLine > :: parse ,"),
            "{out}"
        );
    }

    #[test]
    fn settings_become_setters_choices_paths_and_off() {
        let out = expand(
            quote!(
                daemon = true,
                log_target = "syslog",
                pid_file = false,
                crate = rt
            ),
            quote!(
                fn main() {}
            ),
        );
        // In the table's order, whatever the attribute's.
        let chain = "rt :: __private :: builder () . no_pid_file () . daemon (true) \
                     . log_target (rt :: LogTarget :: Syslog)";
        assert!(out.contains(chain), "{out}");
        assert!(!out.contains("force"), "{out}");
    }

    #[test]
    fn associated_function_using_self_gets_a_closure() {
        let out = expand(
            quote!(),
            quote!(
                fn serve(args: A) -> Result<(), Self::Error> {
                    Self::run(args)
                }
            ),
        );
        assert!(
            out.contains(
                "let __daemonize_body = | args : A | -> Result < () , Self :: Error > \
                 { Self :: run (args) } ;"
            ),
            "{out}"
        );
        // With a runtime attribute, the inner function stays: rustc then says to name
        // the type.
        let out = expand(
            quote!(),
            quote!(
                #[tokio::main]
                async fn serve(args: A) {
                    Self::run(args)
                }
            ),
        );
        assert!(
            out.contains("async fn __daemonize_body (args : A)"),
            "{out}"
        );
    }

    #[test]
    fn impl_termination_is_reported_into_an_exit_code() {
        let out = expand(
            quote!(),
            quote!(
                fn main() -> impl std::process::Termination {
                    Ok::<(), E>(())
                }
            ),
        );
        assert!(out.contains("main_bare :: < _ , _ >"), "{out}");
        assert!(
            out.contains(
                "let __daemonize_outcome = :: std :: process :: Termination :: report \
                 (__daemonize_body ())"
            ),
            "{out}"
        );
    }
}
