//! Independent errors, collected so that the user sees all of them in one build.

use proc_macro2::{Span, TokenStream};
use std::fmt::Display;

/// Every error found so far, combined into one `syn::Error`.
#[derive(Default)]
pub(crate) struct Errors {
    all: Option<syn::Error>,
}

impl Errors {
    /// Records an error at `span`.
    pub(crate) fn at(&mut self, span: Span, message: impl Display) {
        self.push(syn::Error::new(span, message));
    }

    /// Records an error that covers all of `tokens` (first to last token).
    pub(crate) fn spanning(&mut self, tokens: impl quote::ToTokens, message: impl Display) {
        self.push(syn::Error::new_spanned(tokens, message));
    }

    /// Records an error, such as one from a parser.
    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.all {
            Some(all) => all.combine(error),
            None => self.all = Some(error),
        }
    }

    /// Records every error of `other`.
    pub(crate) fn append(&mut self, other: Errors) {
        if let Some(e) = other.all {
            self.push(e);
        }
    }

    /// Whether nothing went wrong.
    pub(crate) fn is_empty(&self) -> bool {
        self.all.is_none()
    }

    /// One `compile_error!` per error, each at its own span.
    pub(crate) fn into_compile_errors(self) -> TokenStream {
        self.all
            .map(syn::Error::into_compile_error)
            .unwrap_or_default()
    }
}
