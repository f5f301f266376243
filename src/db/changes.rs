//! What a commit changed of what the public sees, and how nodes tell each other: precise enough
//! that a cache keeps what a write did not touch, and that a node does not hear its own writes
//! twice (once when they commit, once more from the database's feed).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// How many article ids a notification names; a larger change is announced as [`PublicChange::Everything`].
/// PostgreSQL's payloads are at most 8000 bytes.
const MAX_NAMED: usize = 200;

/// How many of its own `content_version` numbers a node keeps in mind at most.
const MAX_OWN_VERSIONS: usize = 4096;

/// What a committed write changed of what the public sees.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum PublicChange {
    #[default]
    Nothing,
    /// These articles (ids, sorted): their own pages and comment threads, and whatever lists,
    /// counts or links to them (every collection, feed and sitemap). Nothing that shows only
    /// another article.
    Articles(Vec<i64>),
    /// Anything at all: authors, tags, media and redirects are embedded in pages of every kind,
    /// and a write that does not say what it touched counts as this.
    Everything,
}

impl PublicChange {
    /// A change of these articles, in any order.
    pub fn articles(ids: &[i64]) -> Self {
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        Self::Articles(ids)
    }

    /// Both changes at once.
    pub fn and(self, other: Self) -> Self {
        match (self, other) {
            (Self::Nothing, change) | (change, Self::Nothing) => change,
            (Self::Articles(mut ids), Self::Articles(more)) => {
                ids.extend(more);
                ids.sort_unstable();
                ids.dedup();
                Self::Articles(ids)
            }
            _ => Self::Everything,
        }
    }

    /// Whether an entry showing only article `id` (`None`: anything else) survives this change.
    pub fn keeps(&self, article: Option<i64>) -> bool {
        match self {
            Self::Nothing => true,
            Self::Articles(ids) => article.is_some_and(|id| ids.binary_search(&id).is_err()),
            Self::Everything => false,
        }
    }
}

/// This node (one `Db`), as its commits name it to the others.
#[derive(Debug)]
pub(super) struct Node {
    /// Random, per `Db`: two apps in one process (the tests) are two nodes.
    id: String,
    /// SQLite: the `content_version` numbers this node's own commits took, until the watcher has
    /// seen them (every other number is another process's write); `false` while the commit is
    /// under way.
    own_versions: Mutex<BTreeMap<i64, bool>>,
}

impl Node {
    pub(super) fn new() -> Self {
        Self { id: crate::random::hex_token(8), own_versions: Mutex::default() }
    }

    fn own_versions(&self) -> std::sync::MutexGuard<'_, BTreeMap<i64, bool>> {
        self.own_versions.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A transaction of this node took `version` of `content_version` and is about to commit:
    /// noted before the commit, so that the watcher cannot see the number before it is known.
    pub(super) fn committing(&self, version: i64) {
        let mut own = self.own_versions();
        // Without a watcher (commands, some tests) nobody forgets them: bounded here, at the cost
        // of a watcher, if any, taking the forgotten ones for another process's.
        if own.len() >= MAX_OWN_VERSIONS {
            own.clear();
        }
        own.insert(version, false);
    }

    /// Forgets every number noted: the counter started over (another database in the place of
    /// this one) or the watcher lost sight of it; its numbers mean nothing any more.
    pub(super) fn forget_versions(&self) {
        self.own_versions().clear();
    }

    /// How that commit ended. A number whose commit failed is forgotten: the next writer, maybe
    /// another process, takes it again.
    pub(super) fn committed(&self, version: i64, succeeded: bool) {
        let mut own = self.own_versions();
        if succeeded {
            own.insert(version, true);
        } else {
            own.remove(&version);
        }
    }

    /// The watcher saw `content_version` move from `seen` to `now`: whether a number in between
    /// was not this node's (another process wrote), and forgets the numbers up to `now`. `None`
    /// (when `patient`) while a commit of this node that took one of them is still under way:
    /// ask again at the next look; an impatient look counts such a number as another's.
    pub(super) fn foreign_versions(&self, seen: i64, now: i64, patient: bool) -> Option<bool> {
        let mut own = self.own_versions();
        let range = seen + 1..=now;
        if patient && own.range(range.clone()).any(|(_, done)| !done) {
            return None;
        }
        let foreign = range.into_iter().any(|version| own.get(&version) != Some(&true));
        *own = own.split_off(&(now + 1));
        Some(foreign)
    }

    /// The PostgreSQL notification payload for `change`: this node's id, then the article ids or `*`.
    pub(super) fn payload(&self, change: &PublicChange) -> String {
        match change {
            PublicChange::Articles(ids) if ids.len() <= MAX_NAMED => {
                let ids: Vec<String> = ids.iter().map(i64::to_string).collect();
                format!("{}:{}", self.id, ids.join(","))
            }
            _ => format!("{}:*", self.id),
        }
    }

    /// What a notification tells this node: nothing when it made it, else the change (everything
    /// when the payload cannot be read, such as one from an older version).
    pub(super) fn heard(&self, payload: &str) -> PublicChange {
        let Some((node, ids)) = payload.split_once(':') else { return PublicChange::Everything };
        if node == self.id {
            return PublicChange::Nothing;
        }
        match ids.split(',').map(str::parse).collect::<Result<Vec<i64>, _>>() {
            Ok(ids) => PublicChange::articles(&ids),
            Err(_) => PublicChange::Everything,
        }
    }
}

thread_local! {
    /// The node whose work runs on this thread (`Db::run`).
    static CURRENT: RefCell<Option<Arc<Node>>> = const { RefCell::new(None) };
}

/// Runs `work` as `node`'s: its commits are named after it.
pub(super) fn in_scope<T>(node: &Arc<Node>, work: impl FnOnce() -> T) -> T {
    crate::thread_scope::with(&CURRENT, node.clone(), work)
}

/// The node in scope; `None` outside `Db::run` (a command's own connection), whose commits every
/// node then takes for another's.
pub(super) fn current() -> Option<Arc<Node>> {
    CURRENT.with(|current| current.borrow().clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_add_up() {
        let articles = |ids: &[i64]| PublicChange::Articles(ids.to_vec());
        assert_eq!(PublicChange::articles(&[3, 1]).and(articles(&[2, 3])), articles(&[1, 2, 3]));
        assert_eq!(PublicChange::Nothing.and(articles(&[4])), articles(&[4]));
        assert_eq!(articles(&[4]).and(PublicChange::Everything), PublicChange::Everything);
        assert!(articles(&[1, 3]).keeps(Some(2)));
        assert!(!articles(&[1, 3]).keeps(Some(3)));
        assert!(!articles(&[1, 3]).keeps(None));
        assert!(!PublicChange::Everything.keeps(Some(2)));
    }

    #[test]
    fn nodes_ignore_their_own_notifications_and_read_the_others() {
        let (here, there) = (Node::new(), Node::new());
        let change = PublicChange::Articles(vec![7, 9]);
        assert_eq!(here.heard(&here.payload(&change)), PublicChange::Nothing);
        assert_eq!(there.heard(&here.payload(&change)), change);
        assert_eq!(there.heard(&here.payload(&PublicChange::Everything)), PublicChange::Everything);
        let many = PublicChange::Articles((0..=MAX_NAMED as i64).collect());
        assert_eq!(there.heard(&here.payload(&many)), PublicChange::Everything);
        assert_eq!(there.heard(""), PublicChange::Everything);
        assert_eq!(there.heard("abc:1,x"), PublicChange::Everything);
    }

    #[test]
    fn only_other_processes_versions_are_foreign() {
        let node = Node::new();
        let committed = |version| {
            node.committing(version);
            node.committed(version, true);
        };
        committed(5);
        committed(6);
        assert_eq!(node.foreign_versions(4, 6, true), Some(false));
        committed(8);
        assert_eq!(node.foreign_versions(6, 8, true), Some(true), "7 was another process's");
        // A commit under way: wait for it once.
        node.committing(9);
        assert_eq!(node.foreign_versions(8, 9, true), None);
        node.committed(9, true);
        assert_eq!(node.foreign_versions(8, 9, true), Some(false));
        // A failed commit's number is the next writer's.
        node.committing(10);
        node.committed(10, false);
        assert_eq!(node.foreign_versions(9, 10, true), Some(true));
        // Still under way at the second look: counted as another's.
        node.committing(11);
        assert_eq!(node.foreign_versions(10, 11, false), Some(true));
        assert!(node.own_versions().is_empty(), "numbers seen are forgotten");
        // A counter that started over: its numbers are another's until noted again.
        committed(12);
        node.forget_versions();
        assert_eq!(node.foreign_versions(11, 12, true), Some(true));
        // Kept in mind within bounds, without a watcher.
        (0..MAX_OWN_VERSIONS as i64 + 10).for_each(committed);
        assert!(node.own_versions().len() <= MAX_OWN_VERSIONS);
    }
}
