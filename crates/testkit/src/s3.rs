//! The local S3 API server the attachment tests store objects in (moto,
//! started by scripts/ensure-s3). Tests fail, never skip, when it is missing.

pub const S3_ENDPOINT: &str = "http://127.0.0.1:9020";

/// A fresh, empty bucket; its name.
pub async fn bucket() -> String {
    let bucket = format!("aduan-test-{}", uuid::Uuid::new_v4().simple());
    let created = reqwest::Client::new()
        .put(format!("{S3_ENDPOINT}/{bucket}"))
        .send()
        .await
        .unwrap_or_else(|e| {
            panic!("no S3 API server at {S3_ENDPOINT} ({e}); start it with scripts/ensure-s3")
        });
    assert!(
        created.status().is_success(),
        "create bucket: {}",
        created.status()
    );
    bucket
}
