//! Hostile queries: a cap on aliases (which multiply work without nesting), and an
//! `extensions.code` for every refusal the GraphQL engine itself makes (syntax,
//! validation, depth, complexity), so clients always get a machine-readable code.

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{ErrorExtensionValues, ServerError, ServerResult, Variables};

use crate::error_code::ClientCode;

/// More aliased fields than this in one request are refused (TOO_MANY_ALIASES).
pub const MAX_ALIASES: usize = 30;

pub struct AliasLimit;

impl ExtensionFactory for AliasLimit {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(AliasLimit)
    }
}

#[async_trait::async_trait]
impl Extension for AliasLimit {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        let aliases = count_aliases(&document);
        if aliases > MAX_ALIASES {
            return Err(coded(
                format!("{aliases} aliased fields; at most {MAX_ALIASES} are allowed"),
                ClientCode::TooManyAliases,
            ));
        }
        Ok(document)
    }
}

fn count_aliases(document: &ExecutableDocument) -> usize {
    let operations = document
        .operations
        .iter()
        .map(|(_, op)| &op.node.selection_set.node);
    let fragments = document
        .fragments
        .values()
        .map(|f| &f.node.selection_set.node);
    operations.chain(fragments).map(aliases_in).sum()
}

fn aliases_in(set: &SelectionSet) -> usize {
    set.items
        .iter()
        .map(|item| match &item.node {
            Selection::Field(f) => {
                usize::from(f.node.alias.is_some()) + aliases_in(&f.node.selection_set.node)
            }
            Selection::InlineFragment(f) => aliases_in(&f.node.selection_set.node),
            Selection::FragmentSpread(_) => 0,
        })
        .sum()
}

pub(super) fn coded(message: String, code: ClientCode) -> ServerError {
    let mut error = ServerError::new(message, None);
    let mut extensions = ErrorExtensionValues::default();
    code.set(&mut extensions);
    error.extensions = Some(extensions);
    error
}

/// Gives every error that has no `extensions.code` one: the engine's own refusals
/// of a request that never reached a resolver.
pub fn code_engine_errors(response: &mut async_graphql::Response) {
    for error in &mut response.errors {
        if ClientCode::is_set(error.extensions.as_ref()) {
            continue;
        }
        // The parser's own bound on nesting (32 selection sets) comes before
        // the depth limits and refuses the same thing.
        let code = if error.message.contains("nested too deep")
            || error.message.contains("recursion depth")
        {
            ClientCode::QueryTooDeep
        } else if error.message.contains("too complex") {
            ClientCode::QueryTooComplex
        } else {
            // Syntax errors, unknown fields, wrong variable types, and the like.
            ClientCode::BadRequest
        };
        code.set(
            error
                .extensions
                .get_or_insert_with(ErrorExtensionValues::default),
        );
    }
}
