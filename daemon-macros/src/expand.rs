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
//         ::daemon_runtime::__private::main_with_parser::<Cli, _, _>(
//             ::daemon_runtime::__private::builder()
//                 .pid_file("/run/hello.pid")
//                 .umask(0o027),
//             match ::core::option_env!("CARGO_BIN_NAME") { /* or CARGO_PKG_NAME */ },
//             |__daemonize_cli, ()| __daemonize_body(__daemonize_cli),
//         )
//     }
//
// The outer function keeps the name, visibility, return type and other attributes; the
// inner one keeps the parameters with their patterns, `async`, and the runtime
// attribute, so that the async runtime is built inside the daemon. A handler's outer
// function keeps its one parameter (renamed) and reads the daemon flags from it.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Ident, Item, ReturnType, Type};

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
    let body = Ident::new("__daemonize_body", Span::call_site());
    let builder = builder(&krate, args);
    let bin = Ident::new("__daemonize_bin", Span::mixed_site());
    let name = quote! {
        match ::core::option_env!("CARGO_BIN_NAME") {
            ::core::option::Option::Some(#bin) => #bin,
            ::core::option::Option::None => ::core::env!("CARGO_PKG_NAME"),
        }
    };
    // The return type, written into the runtime call's generic arguments so that a type
    // that is not an `Outcome` is reported at the return type.
    let output = match &function.sig.output {
        ReturnType::Type(_, ty) if !matches!(**ty, Type::ImplTrait(_)) => ty.to_token_stream(),
        _ => quote!(_),
    };
    // The privileged action's value, named after the parameter that receives it, so
    // that a type mismatch is reported there.
    let value = match &function.privileged {
        Some(param) => Ident::new(
            "__daemonize_value",
            Span::mixed_site().located_at(param.span),
        ),
        None => Ident::new("__daemonize_value", Span::mixed_site()),
    };
    let privileged = function.privileged.is_some();

    let (outer_params, call) = match &function.form {
        Form::Bare => {
            let body = if privileged {
                quote!(|#value| #body(#value))
            } else {
                quote!(|()| #body())
            };
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
            let body = if privileged {
                quote!(|#parsed, #value| #body(#parsed, #value))
            } else {
                quote!(|#parsed, ()| #body(#parsed))
            };
            let call = quote! {
                #krate::__private::main_with_parser::<#cli_ty, _, #output>(#builder, #name, #body)
            };
            (quote!(), call)
        }
        Form::Handler(param) => {
            let ty = &param.ty;
            let arg = Ident::new("__daemonize_args", Span::mixed_site());
            // A missing field is rustc's error at the parameter's type (or at the
            // `args = field` the attribute names).
            let at_param = Span::call_site().located_at(ty.span());
            let field = match &args.args {
                Some(arg) => arg.value.clone(),
                None => Ident::new("daemon", at_param),
            };
            let flags = quote_spanned! {at_param=>
                #krate::__private::daemon_args(&#arg.#field)
            };
            let body = if privileged {
                quote!(move |#value| #body(#arg, #value))
            } else {
                quote!(move |()| #body(#arg))
            };
            let call = quote! {
                #krate::__private::handler::<_, #output>(#builder, #name, #flags, #body)
            };
            (quote!(#arg: #ty), call)
        }
    };

    let Function {
        attrs,
        runtime_attrs,
        vis,
        sig,
        block,
        ..
    } = function;
    let ident = &sig.ident;
    let output = &sig.output;
    let mut inner = sig.clone();
    inner.ident = body;
    quote! {
        #(#attrs)*
        #vis fn #ident(#outer_params) #output {
            #(#runtime_attrs)*
            #inner #block
            #call
        }
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
            out.contains("move | () | __daemonize_body (__daemonize_args)"),
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
}
