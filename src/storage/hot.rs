//! The small objects served most, kept in memory: a media file's bytes never change under its
//! name, so a copy is never stale; it is dropped when this node deletes the object, and after a
//! minute whatever happens, so that a file another node deleted stops being served soon after.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use actix_web::web::Bytes;

/// Objects larger than this are not kept.
pub const MAX_ENTRY_BYTES: u64 = 512 * 1024;
/// How long a copy is served: the longest another node's delete goes unseen here.
const TIME_TO_LIVE: Duration = Duration::from_secs(60);

/// A kept object.
#[derive(Clone)]
pub struct HotObject {
    pub bytes: Bytes,
    pub last_modified: chrono::DateTime<chrono::Utc>,
    kept_at: Instant,
}

/// The copies, within a memory budget (past it, the expired ones go, then all).
pub struct HotObjects {
    budget_bytes: usize,
    entries: Mutex<(HashMap<String, HotObject>, usize)>,
    /// Grows with every delete: a read that began before one may not keep what it read (the
    /// object may be the one deleted).
    deletes: AtomicU64,
}

impl HotObjects {
    pub fn new(budget_bytes: usize) -> Self {
        Self { budget_bytes, entries: Mutex::new((HashMap::new(), 0)), deletes: AtomicU64::new(0) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (HashMap<String, HotObject>, usize)> {
        self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn get(&self, name: &str) -> Option<HotObject> {
        if self.budget_bytes == 0 {
            return None;
        }
        let mut entries = self.lock();
        let (map, bytes) = &mut *entries;
        match map.get(name) {
            Some(entry) if entry.kept_at.elapsed() < TIME_TO_LIVE => Some(entry.clone()),
            Some(_) => {
                if let Some(expired) = map.remove(name) {
                    *bytes -= expired.bytes.len() + name.len();
                }
                None
            }
            None => None,
        }
    }

    /// Where deletes stand now: take it before reading an object from the store, and give it to
    /// [`HotObjects::keep`].
    pub fn deletes_so_far(&self) -> u64 {
        self.deletes.load(Ordering::SeqCst)
    }

    /// Keeps a copy of what was read from the store, unless an object was deleted since the read
    /// began (`deletes_before`).
    pub fn keep(&self, name: &str, bytes: &Bytes, last_modified: chrono::DateTime<chrono::Utc>, deletes_before: u64) {
        let size = bytes.len() + name.len();
        if bytes.len() as u64 > MAX_ENTRY_BYTES || size > self.budget_bytes {
            return;
        }
        let mut entries = self.lock();
        if self.deletes.load(Ordering::SeqCst) != deletes_before {
            return;
        }
        let (map, total) = &mut *entries;
        if let Some(previous) = map.remove(name) {
            *total -= previous.bytes.len() + name.len();
        }
        if *total + size > self.budget_bytes {
            map.retain(|_, entry| entry.kept_at.elapsed() < TIME_TO_LIVE);
            *total = map.iter().map(|(name, entry)| entry.bytes.len() + name.len()).sum();
        }
        if *total + size > self.budget_bytes {
            map.clear();
            *total = 0;
        }
        // A copy of its own: the bytes read may share a larger buffer (an HTTP response's).
        let entry = HotObject { bytes: Bytes::copy_from_slice(bytes), last_modified, kept_at: Instant::now() };
        map.insert(name.to_string(), entry);
        *total += size;
    }

    /// Drops the copy of an object being deleted (call it before and after the store's delete).
    pub fn forget(&self, name: &str) {
        self.deletes.fetch_add(1, Ordering::SeqCst);
        let mut entries = self.lock();
        let (map, total) = &mut *entries;
        if let Some(gone) = map.remove(name) {
            *total -= gone.bytes.len() + name.len();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_stay_within_their_budget_and_go_with_their_object() {
        let hot = HotObjects::new(100);
        let now = chrono::Utc::now();
        let read = hot.deletes_so_far();
        hot.keep("a", &Bytes::from_static(&[1; 60]), now, read);
        assert!(hot.get("a").is_some());
        hot.keep("b", &Bytes::from_static(&[2; 60]), now, read);
        assert!(hot.get("a").is_none() && hot.get("b").is_some(), "full: it started over");
        hot.forget("b");
        assert!(hot.get("b").is_none());
        assert_eq!(hot.lock().1, 0);
        hot.keep("c", &Bytes::from_static(&[3; 10]), now, read);
        assert!(hot.get("c").is_none(), "read before a delete: not kept");
        let off = HotObjects::new(0);
        off.keep("a", &Bytes::from_static(&[1]), now, off.deletes_so_far());
        assert!(off.get("a").is_none());
    }
}
