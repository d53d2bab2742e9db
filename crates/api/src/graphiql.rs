//! GraphiQL served from the binary itself: the page at `GET /graphql` loads only
//! the assets embedded here (production builds vendored in
//! crates/api/assets/graphiql by scripts/vendor-graphiql), so it works in a data
//! centre without internet access.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const TEXT: &str = "text/plain; charset=utf-8";

/// Asset URLs carry a hash of every asset, so browsers may keep them for good
/// and still never run a stale mix after an upgrade.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The page may talk to its own origin only (the WebSocket of subscriptions
/// included). Styles may be inline: GraphiQL's components set them at run time.
const PAGE_POLICY: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self' 'unsafe-inline'; font-src 'self' data:; img-src 'self' data:; \
    connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

macro_rules! vendored {
    ($name:literal, $type:expr) => {
        Asset {
            name: $name,
            content_type: $type,
            body: include_bytes!(concat!("../assets/graphiql/", $name)),
        }
    };
}

static ASSETS: [Asset; 6] = [
    vendored!("react.production.min.js", JS),
    vendored!("react-dom.production.min.js", JS),
    vendored!("graphiql.min.js", JS),
    vendored!("graphiql.min.css", CSS),
    vendored!("THIRD-PARTY-LICENSES.txt", TEXT),
    Asset {
        name: "aduan-graphiql.js",
        content_type: JS,
        body: include_bytes!("../assets/aduan-graphiql.js"),
    },
];

static VERSION: LazyLock<String> = LazyLock::new(|| {
    let mut hasher = DefaultHasher::new();
    for asset in &ASSETS {
        (asset.name, asset.body).hash(&mut hasher);
    }
    format!("{:016x}", hasher.finish())
});

/// Relative asset links, so the page also works where a proxy mounts the API
/// under a prefix.
static PAGE: LazyLock<String> = LazyLock::new(|| {
    include_str!("../assets/graphiql.html")
        .replace("{assets}", &format!("graphiql/assets/{}", *VERSION))
});

/// The GraphiQL page.
pub fn page() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, PAGE_POLICY),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        PAGE.as_str(),
    )
        .into_response()
}

/// `GET /graphiql/assets/{version}/{name}`: one embedded asset of the current
/// version (an old version's URL is not found rather than answered with new
/// content a cache would then keep under the old name).
pub async fn asset(Path((version, name)): Path<(String, String)>) -> Response {
    match ASSETS.iter().find(|a| a.name == name) {
        Some(asset) if version == *VERSION => (
            [
                (header::CONTENT_TYPE, asset.content_type),
                (header::CACHE_CONTROL, IMMUTABLE),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            asset.body,
        )
            .into_response(),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}
