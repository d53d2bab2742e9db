//! Content-addressed objects: each kept file is stored once under the SHA-256
//! of its bytes, on the filesystem (the embedded default, in the data
//! directory) or in S3-compatible object storage, through `object_store`.

use std::sync::Arc;

use bytes::Bytes;
use futures::TryStreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{ObjectStore, PutPayload};
use sha2::{Digest, Sha256};

#[derive(Debug, thiserror::Error)]
#[error("object storage: {0}")]
pub struct ObjectsError(String);

impl From<object_store::Error> for ObjectsError {
    fn from(e: object_store::Error) -> Self {
        ObjectsError(e.to_string())
    }
}

/// Where objects live, as configured.
#[derive(Debug, Clone)]
pub enum Location {
    Directory(std::path::PathBuf),
    S3 {
        bucket: String,
        /// An S3-compatible server's URL (MinIO, Ceph, a test server); unset:
        /// AWS itself.
        endpoint: Option<String>,
        region: String,
        access_key_id: String,
        secret_access_key: String,
    },
}

/// An object as the storage lists it.
#[derive(Debug, Clone)]
pub struct Stored {
    pub hash: String,
    pub size: u64,
    pub written: chrono::DateTime<chrono::Utc>,
}

#[derive(Clone, Debug)]
pub struct Objects {
    store: Arc<dyn ObjectStore>,
    /// The same store when it is S3, which can sign URLs of its own.
    s3: Option<Arc<AmazonS3>>,
    describe: String,
}

/// The hex SHA-256 of `bytes`: an object's name.
pub fn hash(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn path_of(hash: &str) -> Path {
    Path::from(format!("sha256/{}/{hash}", &hash[..2.min(hash.len())]))
}

impl Objects {
    pub fn open(location: &Location) -> Result<Objects, ObjectsError> {
        let (store, s3, describe): (Arc<dyn ObjectStore>, _, String) = match location {
            Location::Directory(dir) => {
                std::fs::create_dir_all(dir)
                    .map_err(|e| ObjectsError(format!("{}: {e}", dir.display())))?;
                (
                    Arc::new(LocalFileSystem::new_with_prefix(dir)?),
                    None,
                    format!("directory {}", dir.display()),
                )
            }
            Location::S3 {
                bucket,
                endpoint,
                region,
                access_key_id,
                secret_access_key,
            } => {
                let mut builder = AmazonS3Builder::new()
                    .with_bucket_name(bucket)
                    .with_region(region)
                    .with_access_key_id(access_key_id)
                    .with_secret_access_key(secret_access_key);
                if let Some(endpoint) = endpoint {
                    builder = builder
                        .with_endpoint(endpoint)
                        .with_virtual_hosted_style_request(false)
                        .with_allow_http(endpoint.starts_with("http://"));
                }
                let s3 = Arc::new(builder.build()?);
                (
                    s3.clone(),
                    Some(s3),
                    format!(
                        "S3 bucket {bucket}{}",
                        endpoint
                            .as_deref()
                            .map(|e| format!(" at {e}"))
                            .unwrap_or_default()
                    ),
                )
            }
        };
        Ok(Objects {
            store,
            s3,
            describe,
        })
    }

    pub fn describe(&self) -> &str {
        &self.describe
    }

    /// Stores `bytes`; returns their hash. Storing the same bytes again
    /// writes the same object.
    pub async fn put(&self, bytes: Vec<u8>) -> Result<String, ObjectsError> {
        let hash = hash(&bytes);
        self.store
            .put(&path_of(&hash), PutPayload::from(bytes))
            .await?;
        Ok(hash)
    }

    /// A URL the object store itself signed, valid for `ttl`, to GET the
    /// object without aduan; `None` where the store cannot sign (a directory).
    pub async fn presigned_get(
        &self,
        hash: &str,
        ttl: std::time::Duration,
    ) -> Result<Option<String>, ObjectsError> {
        use object_store::signer::Signer;
        let Some(s3) = &self.s3 else {
            return Ok(None);
        };
        let url = s3
            .signed_url(reqwest::Method::GET, &path_of(hash), ttl)
            .await?;
        Ok(Some(url.to_string()))
    }

    pub async fn get(&self, hash: &str) -> Result<Option<Bytes>, ObjectsError> {
        match self.store.get(&path_of(hash)).await {
            Ok(got) => Ok(Some(got.bytes().await?)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn exists(&self, hash: &str) -> Result<bool, ObjectsError> {
        match self.store.head(&path_of(hash)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn delete(&self, hash: &str) -> Result<(), ObjectsError> {
        match self.store.delete(&path_of(hash)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Every object's hash.
    pub async fn list(&self) -> Result<Vec<String>, ObjectsError> {
        Ok(self
            .list_stored()
            .await?
            .into_iter()
            .map(|o| o.hash)
            .collect())
    }

    /// Every object, with its size and when it was written.
    pub async fn list_stored(&self) -> Result<Vec<Stored>, ObjectsError> {
        let prefix = Path::from("sha256");
        let metas: Vec<_> = self.store.list(Some(&prefix)).try_collect().await?;
        Ok(metas
            .into_iter()
            .filter_map(|m| {
                Some(Stored {
                    hash: m.location.filename()?.to_string(),
                    size: m.size,
                    written: m.last_modified,
                })
            })
            .collect())
    }
}
