//! Content-addressed objects on both kinds of storage: the filesystem (a
//! temporary directory) and a real S3 API server on loopback (moto, started by
//! scripts/ensure-s3; the test fails, never skips, when it is not there).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests and benches stop loudly where they unwrap"
)]

use aduan_attachments::objects::hash;
use aduan_attachments::{Location, Objects};
use aduan_testkit::s3::{bucket, S3_ENDPOINT};

/// A fresh bucket on the local S3 server.
async fn s3() -> Objects {
    Objects::open(&Location::S3 {
        bucket: bucket().await,
        endpoint: Some(S3_ENDPOINT.into()),
        region: "us-east-1".into(),
        access_key_id: "test".into(),
        secret_access_key: "test".into(),
    })
    .unwrap()
}

async fn stores_by_content(objects: Objects) {
    let photo = b"not really a photo, but bytes all the same".to_vec();
    let id = objects.put(photo.clone()).await.unwrap();
    assert_eq!(id, hash(&photo));
    assert_eq!(id.len(), 64);
    assert_eq!(
        objects.get(&id).await.unwrap().unwrap().as_ref(),
        &photo[..]
    );
    assert!(objects.exists(&id).await.unwrap());
    // The same bytes again: the same object, still one.
    assert_eq!(objects.put(photo.clone()).await.unwrap(), id);
    let other = objects.put(b"another".to_vec()).await.unwrap();
    let mut listed = objects.list().await.unwrap();
    listed.sort();
    let mut expected = vec![id.clone(), other.clone()];
    expected.sort();
    assert_eq!(listed, expected);

    let missing = hash(b"never stored");
    assert_eq!(objects.get(&missing).await.unwrap(), None);
    assert!(!objects.exists(&missing).await.unwrap());
    objects.delete(&other).await.unwrap();
    objects.delete(&other).await.unwrap();
    assert_eq!(objects.list().await.unwrap(), vec![id]);
}

#[tokio::test]
async fn filesystem_objects_are_stored_once_by_content() {
    let dir = tempfile::tempdir().unwrap();
    let objects = Objects::open(&Location::Directory(dir.path().join("attachments"))).unwrap();
    stores_by_content(objects).await;
}

#[tokio::test]
async fn s3_objects_are_stored_once_by_content() {
    stores_by_content(s3().await).await;
}
