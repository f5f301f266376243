//! The small objects served most, kept in memory: a media file's bytes never change under its
//! name, so a copy is never stale; it is dropped when this node deletes the object, and after a
//! minute whatever happens, so that a file another node deleted stops being served soon after.

use std::collections::HashMap;
use std::sync::Mutex;
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

/// The copies, within a memory budget (past it, it starts over).
pub struct HotObjects {
    budget_bytes: usize,
    entries: Mutex<(HashMap<String, HotObject>, usize)>,
}

impl HotObjects {
    pub fn new(budget_bytes: usize) -> Self {
        Self { budget_bytes, entries: Mutex::new((HashMap::new(), 0)) }
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

    pub fn keep(&self, name: &str, bytes: Bytes, last_modified: chrono::DateTime<chrono::Utc>) {
        let size = bytes.len() + name.len();
        if bytes.len() as u64 > MAX_ENTRY_BYTES || size > self.budget_bytes {
            return;
        }
        let mut entries = self.lock();
        let (map, total) = &mut *entries;
        if *total + size > self.budget_bytes {
            map.clear();
            *total = 0;
        }
        let entry = HotObject { bytes, last_modified, kept_at: Instant::now() };
        if let Some(previous) = map.insert(name.to_string(), entry) {
            *total -= previous.bytes.len() + name.len();
        }
        *total += size;
    }

    pub fn forget(&self, name: &str) {
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
        hot.keep("a", Bytes::from_static(&[1; 60]), now);
        assert!(hot.get("a").is_some());
        hot.keep("b", Bytes::from_static(&[2; 60]), now);
        assert!(hot.get("a").is_none() && hot.get("b").is_some(), "full: it started over");
        hot.forget("b");
        assert!(hot.get("b").is_none());
        assert_eq!(hot.lock().1, 0);
        let off = HotObjects::new(0);
        off.keep("a", Bytes::from_static(&[1]), now);
        assert!(off.get("a").is_none());
    }
}
