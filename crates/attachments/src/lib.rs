//! Photos and documents attached to complaints: what is accepted (`kind`),
//! what is kept of it (`clean`, `heif`, `pdf`), and where it is kept (`objects`).

pub mod clean;
pub mod heif;
pub mod kind;
pub mod objects;
pub mod pdf;

pub use clean::{clean, Cleaned};
pub use kind::MediaType;
pub use objects::{Location, Objects, ObjectsError};

/// Why an upload is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("not an accepted type: JPEG, PNG, WebP, HEIC or PDF (recognised by content)")]
    Type,
    #[error("the file cannot be read: {0}")]
    Unreadable(String),
    #[error("the file is larger than {0} bytes")]
    TooLarge(usize),
}
