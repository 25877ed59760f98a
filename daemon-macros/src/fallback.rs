//! What to emit when the attribute cannot apply: the user's code, as close to unchanged
//! as compiles, plus the errors. The function still exists (the IDE keeps working, its
//! callers still resolve, its body is still checked) and rustc adds no errors of its own.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::spanned::Spanned;
use syn::{Item, ItemFn};

use crate::errors::Errors;
use crate::item::is_runtime_attr;

/// The function with the errors.
///
/// Any other function is valid Rust as it stands. `main` is not when it takes parameters
/// or is `async` without a runtime attribute, which is what the attribute was for; so its
/// body goes into an unused inner function behind a plain `fn main()`.
pub(crate) fn function(item: &ItemFn, errors: Errors) -> TokenStream {
    let mut tokens = if item.sig.ident == "main" {
        let (runtime_attrs, attrs): (Vec<_>, Vec<_>) =
            item.attrs.iter().partition(|a| is_runtime_attr(a));
        let vis = &item.vis;
        let mut sig = item.sig.clone();
        sig.ident = syn::Ident::new("__daemonize_body", sig.ident.span());
        let block = &item.block;
        quote! {
            #(#attrs)*
            #vis fn main() {
                #[allow(dead_code)]
                #(#runtime_attrs)*
                #sig #block
            }
        }
    } else {
        item.to_token_stream()
    };
    tokens.extend(errors.into_compile_errors());
    tokens
}

/// Something other than a function, unchanged, with the error at its keyword.
pub(crate) fn not_a_function(item: &Item) -> TokenStream {
    let mut errors = Errors::default();
    let message = "`#[daemonize]` applies to a function: `fn main()`, `fn main(cli: Cli)`, or a \
                   subcommand handler such as `fn serve(args: ServeArgs)`";
    match keyword_span(item) {
        Some(span) => errors.at(span, message),
        None => errors.spanning(item, message),
    }
    let mut tokens = item.to_token_stream();
    tokens.extend(errors.into_compile_errors());
    tokens
}

fn keyword_span(item: &Item) -> Option<proc_macro2::Span> {
    Some(match item {
        Item::Const(i) => i.const_token.span,
        Item::Enum(i) => i.enum_token.span,
        Item::ExternCrate(i) => i.extern_token.span,
        Item::ForeignMod(i) => i.abi.extern_token.span,
        Item::Impl(i) => i.impl_token.span,
        Item::Macro(i) => i.mac.path.span(),
        Item::Mod(i) => i.mod_token.span,
        Item::Static(i) => i.static_token.span,
        Item::Struct(i) => i.struct_token.span,
        Item::Trait(i) => i.trait_token.span,
        Item::Type(i) => i.type_token.span,
        Item::Union(i) => i.union_token.span,
        Item::Use(i) => i.use_token.span,
        _ => return None,
    })
}
