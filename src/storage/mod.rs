//! Where media files live: a local directory or an S3-compatible bucket, through `object_store`,
//! so that the rest of Masthead sees one kind of store. Objects are written whole or not at all
//! (a local file is written aside and renamed; an S3 object appears when its upload completes),
//! so a half-written file is never served. Small objects read whole are kept in memory (`hot`).

pub mod hot;

use std::ops::Range;
use std::sync::Arc;

use actix_web::web::Bytes;
use object_store::path::Path;
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt, PutPayload};

use crate::error::ApiError;
use crate::settings::MediaStoreLocation;

/// The media store.
#[derive(Clone)]
pub struct Objects {
    inner: Arc<dyn ObjectStore>,
    hot: Arc<hot::HotObjects>,
}

/// An object read from the store (whole, or the part asked for).
pub struct Object {
    pub bytes: Bytes,
    /// The whole object's size.
    pub size: u64,
    pub last_modified: chrono::DateTime<chrono::Utc>,
}

/// Objects up to this size are read whole before they are sent; larger ones are streamed.
const WHOLE_READ_BYTES: u64 = 1 << 20;

/// An object on its way from the store.
pub struct ObjectStream {
    /// The whole object's size.
    pub size: u64,
    /// The bytes `body` gives.
    pub length: u64,
    pub last_modified: chrono::DateTime<chrono::Utc>,
    pub body: ObjectBody,
}

/// The bytes of an [`ObjectStream`]: read already, or coming chunk by chunk.
pub enum ObjectBody {
    Whole(Bytes),
    Chunks(futures_util::stream::BoxStream<'static, object_store::Result<Bytes>>),
}

fn unavailable(error: object_store::Error) -> ApiError {
    ApiError::StoreUnavailable(error.to_string())
}

fn key(name: &str) -> Result<Path, ApiError> {
    Path::parse(name).map_err(|e| ApiError::Internal(format!("`{name}` is not an object key: {e}")))
}

impl Objects {
    /// Opens the store; a local directory is made if it does not exist. Up to `hot_bytes` of small
    /// objects are kept in memory.
    pub fn open(location: &MediaStoreLocation, hot_bytes: usize) -> Result<Self, String> {
        let inner: Arc<dyn ObjectStore> = match location {
            MediaStoreLocation::Directory(dir) => {
                std::fs::create_dir_all(dir)
                    .map_err(|e| format!("cannot make the media directory {}: {e}", dir.display()))?;
                let store = object_store::local::LocalFileSystem::new_with_prefix(dir)
                    .map_err(|e| format!("cannot use the media directory {}: {e}", dir.display()))?
                    // Removing an object removes the directories it leaves empty.
                    .with_automatic_cleanup(true);
                Arc::new(store)
            }
            MediaStoreLocation::S3 { bucket, prefix } => {
                let store = object_store::aws::AmazonS3Builder::from_env()
                    .with_bucket_name(bucket)
                    .build()
                    .map_err(|e| format!("cannot use the S3 bucket `{bucket}`: {e}"))?;
                if prefix.is_empty() {
                    Arc::new(store)
                } else {
                    Arc::new(object_store::prefix::PrefixStore::new(store, prefix.as_str()))
                }
            }
        };
        Ok(Self { inner, hot: Arc::new(hot::HotObjects::new(hot_bytes)) })
    }

    /// Writes an object whole, replacing any of the same name.
    pub async fn put(&self, name: &str, bytes: Vec<u8>) -> Result<(), ApiError> {
        self.inner.put(&key(name)?, PutPayload::from(bytes)).await.map_err(unavailable)?;
        Ok(())
    }

    /// The whole object, or the bytes in `range` (already checked against its size); `None`
    /// when there is no such object.
    pub async fn get(&self, name: &str, range: Option<Range<u64>>) -> Result<Option<Object>, ApiError> {
        let options = GetOptions { range: range.map(GetRange::Bounded), ..GetOptions::default() };
        let result = match self.inner.get_opts(&key(name)?, options).await {
            Ok(result) => result,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(error) => return Err(unavailable(error)),
        };
        let (size, last_modified) = (result.meta.size, result.meta.last_modified);
        let bytes = result.bytes().await.map_err(unavailable)?;
        Ok(Some(Object { bytes, size, last_modified }))
    }

    /// The object, or the bytes in `range` (already checked against its size), as they come from
    /// the store: a response sends them on without holding the whole file in memory.
    pub async fn stream(&self, name: &str, range: Option<Range<u64>>) -> Result<Option<ObjectStream>, ApiError> {
        if let Some(kept) = self.hot.get(name) {
            let size = kept.bytes.len() as u64;
            let range = range.clone().unwrap_or(0..size);
            // A range checked against another copy's size is read from the store instead.
            if range.start < range.end && range.end <= size {
                let part = kept.bytes.slice(range.start as usize..range.end as usize);
                let (length, last_modified) = (part.len() as u64, kept.last_modified);
                return Ok(Some(ObjectStream { size, length, last_modified, body: ObjectBody::Whole(part) }));
            }
        }
        let deletes_before = self.hot.deletes_so_far();
        let options = GetOptions { range: range.clone().map(GetRange::Bounded), ..GetOptions::default() };
        let result = match self.inner.get_opts(&key(name)?, options).await {
            Ok(result) => result,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(error) => return Err(unavailable(error)),
        };
        let (size, last_modified, length) =
            (result.meta.size, result.meta.last_modified, result.range.end - result.range.start);
        if range.is_none() && size <= hot::MAX_ENTRY_BYTES {
            let bytes = result.bytes().await.map_err(unavailable)?;
            self.hot.keep(name, &bytes, last_modified, deletes_before);
            return Ok(Some(ObjectStream { size, length, last_modified, body: ObjectBody::Whole(bytes) }));
        }
        // A small object is read in one go (one read of a local file, not one per 8 KiB chunk) and
        // sent in one write with its headers.
        let body = if length <= WHOLE_READ_BYTES {
            ObjectBody::Whole(result.bytes().await.map_err(unavailable)?)
        } else {
            ObjectBody::Chunks(result.into_stream())
        };
        Ok(Some(ObjectStream { size, length, last_modified, body }))
    }

    /// The object's size and time, without its bytes.
    pub async fn head(&self, name: &str) -> Result<Option<(u64, chrono::DateTime<chrono::Utc>)>, ApiError> {
        if let Some(kept) = self.hot.get(name) {
            return Ok(Some((kept.bytes.len() as u64, kept.last_modified)));
        }
        match self.inner.head(&key(name)?).await {
            Ok(meta) => Ok(Some((meta.size, meta.last_modified))),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(error) => Err(unavailable(error)),
        }
    }

    /// Removes an object; one already gone is not an error.
    pub async fn delete(&self, name: &str) -> Result<(), ApiError> {
        self.hot.forget(name);
        let deleted = match self.inner.delete(&key(name)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(error) => Err(unavailable(error)),
        };
        // Again: a read may have kept it while the store deleted it.
        self.hot.forget(name);
        deleted
    }

    /// The names of every object under `prefix` (for checks and tests; a full listing).
    pub async fn names(&self, prefix: &str) -> Result<Vec<String>, ApiError> {
        use futures_util::TryStreamExt;
        let prefix = if prefix.is_empty() { None } else { Some(key(prefix)?) };
        let objects: Vec<_> = self.inner.list(prefix.as_ref()).try_collect().await.map_err(unavailable)?;
        let mut names: Vec<String> = objects.into_iter().map(|meta| meta.location.to_string()).collect();
        names.sort();
        Ok(names)
    }
}
