//! Automatic persisted queries (Apollo's `extensions.persistedQuery`): a client
//! sends a query's SHA-256 instead of its text, and the text only when the
//! server answers PERSISTED_QUERY_NOT_FOUND. Anyone may register a query, so the
//! cache is bounded twice: in entries (least recently used evicted) and in the
//! size of a query it keeps, which bounds the parsed documents it holds. A
//! larger query still runs, it is only not kept. A cached document goes through
//! the same depth, alias, complexity and access checks on every use.

use std::sync::Arc;

use async_graphql::extensions::apollo_persisted_queries::{
    ApolloPersistedQueries, LruCacheStorage,
};
use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextPrepareRequest,
};
use async_graphql::{Request, ServerResult};

use super::limits::coded;
use crate::error_code::ClientCode;

/// How many queries the cache keeps (per server process).
pub const CACHE_ENTRIES: usize = 256;

/// Queries longer than this run but are not kept.
pub const MAX_QUERY_BYTES: usize = 16 * 1024;

/// The cache (async-graphql's, which also checks the hash of a query it is given).
pub fn cache() -> ApolloPersistedQueries<LruCacheStorage> {
    ApolloPersistedQueries::new(LruCacheStorage::new(CACHE_ENTRIES))
}

/// Runs before the cache: keeps large queries out of it, and codes its miss.
pub struct Admission;

impl ExtensionFactory for Admission {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Admission)
    }
}

#[async_trait::async_trait]
impl Extension for Admission {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        mut request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        if request.query.len() > MAX_QUERY_BYTES {
            request.extensions.remove("persistedQuery");
        }
        next.run(ctx, request).await.map_err(|error| {
            // async-graphql's own message is the one Apollo Client also accepts.
            if error.message == "PersistedQueryNotFound" {
                coded(error.message, ClientCode::PersistedQueryNotFound)
            } else {
                error
            }
        })
    }
}
