//! How deep a query may nest. Introspection is bounded apart from the data:
//! the standard introspection queries (graphql-js `getIntrospectionQuery()`,
//! Python gql's schema fetch) nest 13 to 15 fields deep through `ofType`
//! chains, which the data limit would refuse, while their cost is a walk of the
//! in-memory schema. What makes introspection expensive is nesting its lists
//! (`fields { type { fields ...`), each level multiplying the answer by the
//! schema's width; that is bounded as graphql-js's `MaxIntrospectionDepthRule`
//! bounds it, so a client that passes graphql-js's own validation passes here.

use std::collections::HashSet;
use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{ServerResult, Variables};

use super::limits::coded;
use crate::error_code::ClientCode;

/// Data fields nested deeper than this are refused (QUERY_TOO_DEEP).
pub const MAX_DEPTH: usize = 12;

/// Fields under `__schema` or `__type`, counted from them, nested deeper than
/// this are refused: graphql-js 16.15's query reaches 15 (nine `ofType`s under
/// `types { fields { args { type`), which leaves room for a client with a
/// few more.
pub const MAX_INTROSPECTION_DEPTH: usize = 20;

/// Introspection lists nested this many times are refused (graphql-js's
/// `MAX_LISTS_DEPTH`: the standard queries nest them at most twice).
const MAX_INTROSPECTION_LISTS: usize = 3;

/// The introspection fields that answer a list of types' members.
const INTROSPECTION_LISTS: [&str; 4] = ["fields", "interfaces", "possibleTypes", "inputFields"];

pub struct DepthLimit;

impl ExtensionFactory for DepthLimit {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(DepthLimit)
    }
}

#[async_trait::async_trait]
impl Extension for DepthLimit {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        check(&document).map_err(|message| coded(message, ClientCode::QueryTooDeep))?;
        Ok(document)
    }
}

/// The depths found along one path of the document.
#[derive(Clone, Copy, Default)]
struct Path {
    /// Data fields above (introspection fields not counted).
    data: usize,
    /// Inside `__schema`/`__type`: fields from it, and introspection lists.
    introspection: Option<(usize, usize)>,
}

/// Refuses a document nested too deep, with a message saying how.
fn check(document: &ExecutableDocument) -> Result<(), String> {
    let walker = Walker { document };
    for (_, operation) in document.operations.iter() {
        let mut visiting = HashSet::new();
        walker.selection_set(
            &operation.node.selection_set.node,
            Path::default(),
            &mut visiting,
        )?;
    }
    Ok(())
}

struct Walker<'a> {
    document: &'a ExecutableDocument,
}

impl<'a> Walker<'a> {
    /// `visiting` holds the fragments being expanded on this path: a cycle is
    /// the validator's to refuse (NoFragmentCycles), this walk only stops on it.
    fn selection_set(
        &self,
        set: &'a SelectionSet,
        path: Path,
        visiting: &mut HashSet<&'a str>,
    ) -> Result<(), String> {
        for item in &set.items {
            match &item.node {
                Selection::Field(field) => {
                    let name = field.node.name.node.as_str();
                    let inner = self.enter(path, name)?;
                    self.selection_set(&field.node.selection_set.node, inner, visiting)?;
                }
                Selection::InlineFragment(fragment) => {
                    self.selection_set(&fragment.node.selection_set.node, path, visiting)?;
                }
                Selection::FragmentSpread(spread) => {
                    let name = spread.node.fragment_name.node.as_str();
                    let Some(fragment) = self.document.fragments.get(name) else {
                        continue;
                    };
                    if !visiting.insert(name) {
                        continue;
                    }
                    let result =
                        self.selection_set(&fragment.node.selection_set.node, path, visiting);
                    visiting.remove(name);
                    result?;
                }
            }
        }
        Ok(())
    }

    /// The path below field `name`, or why it goes too deep.
    fn enter(&self, path: Path, name: &str) -> Result<Path, String> {
        match path.introspection {
            // Only the root answers `__schema` and `__type`; elsewhere they are
            // unknown fields, counted as data until the validator refuses them.
            None if path.data == 0 && matches!(name, "__schema" | "__type") => Ok(Path {
                introspection: Some((1, 0)),
                ..path
            }),
            None => {
                let data = path.data + 1;
                if data > MAX_DEPTH {
                    return Err(format!(
                        "Query is nested too deep: at most {MAX_DEPTH} levels of fields"
                    ));
                }
                Ok(Path { data, ..path })
            }
            Some((depth, lists)) => {
                let depth = depth + 1;
                let lists = lists + usize::from(INTROSPECTION_LISTS.contains(&name));
                if depth > MAX_INTROSPECTION_DEPTH {
                    return Err(format!(
                        "Introspection is nested too deep: at most {MAX_INTROSPECTION_DEPTH} levels of fields"
                    ));
                }
                if lists >= MAX_INTROSPECTION_LISTS {
                    return Err(format!(
                        "Introspection is nested too deep: fields, interfaces, possibleTypes and inputFields nest at most {} times",
                        MAX_INTROSPECTION_LISTS - 1
                    ));
                }
                Ok(Path {
                    introspection: Some((depth, lists)),
                    ..path
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn depth_error(query: &str) -> Option<String> {
        check(&async_graphql::parser::parse_query(query).unwrap()).err()
    }

    fn nested(depth: usize, open: &str, leaf: &str) -> String {
        format!("{}{leaf}{}", open.repeat(depth), " }".repeat(depth))
    }

    #[test]
    fn data_depth_counts_fields_through_fragments() {
        // 12 levels: complaint(1) + 10 × location + latitude(12).
        let ok = format!(
            "{{ complaint(id: \"x\") {{ {} }} }}",
            nested(10, "location { ", "latitude")
        );
        assert_eq!(depth_error(&ok), None);
        let deep = format!(
            "{{ complaint(id: \"x\") {{ {} }} }}",
            nested(11, "location { ", "latitude")
        );
        assert!(depth_error(&deep).unwrap().contains("at most 12"));
        let through_fragment = format!(
            "query {{ ...F }} fragment F on Query {{ complaint(id: \"x\") {{ {} }} }}",
            nested(11, "location { ", "latitude")
        );
        assert!(depth_error(&through_fragment).is_some());
    }

    #[test]
    fn introspection_is_bounded_apart_from_the_data() {
        let of_type = |n: usize| {
            format!(
                "{{ __type(name: \"Complaint\") {{ {} }} }}",
                nested(n, "ofType { ", "name")
            )
        };
        assert_eq!(depth_error(&of_type(15)), None);
        assert!(depth_error(&of_type(30)).unwrap().contains("Introspection"));
        let lists =
            "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }";
        assert!(depth_error(lists).unwrap().contains("nest at most 2"));
        let two = "{ __type(name: \"Query\") { fields { type { fields { name } } } } }";
        assert_eq!(depth_error(two), None);
    }

    #[test]
    fn introspection_below_the_root_is_data() {
        let hidden = format!(
            "{{ me {{ __schema {{ {} }} }} }}",
            nested(11, "types { ", "name")
        );
        assert!(depth_error(&hidden).unwrap().contains("at most 12"));
    }

    #[test]
    fn fragment_cycles_end_the_walk() {
        let cycle =
            "query { ...A } fragment A on Query { me { id } ...B } fragment B on Query { ...A }";
        assert_eq!(depth_error(cycle), None);
    }
}
