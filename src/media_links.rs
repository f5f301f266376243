//! How media URLs are written wherever an image is shown: the library, article covers, webhook
//! payloads. Each `Db` holds the site's links and puts them in scope around the database work of
//! a request (`Db::run`), as it does its clock, so that views built in stores write media URLs
//! without the links being passed down every call.

use std::cell::RefCell;
use std::sync::Arc;

/// The widths variants come in unless `MASTHEAD_MEDIA_WIDTHS` says otherwise.
pub const DEFAULT_WIDTHS: [u32; 5] = [320, 640, 960, 1280, 1920];

/// The origin media URLs start with and the widths of their variants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaLinks {
    /// `MASTHEAD_MEDIA_PUBLIC_URL` (a CDN), or the API's public address; empty for URLs relative
    /// to the API (outside a server, in the command line).
    pub base: String,
    /// Ascending.
    pub widths: Vec<u32>,
}

impl Default for MediaLinks {
    fn default() -> Self {
        Self { base: String::new(), widths: DEFAULT_WIDTHS.to_vec() }
    }
}

thread_local! {
    static IN_SCOPE: RefCell<Option<Arc<MediaLinks>>> = const { RefCell::new(None) };
}

impl MediaLinks {
    /// Runs `work` with these links as the ones [`MediaLinks::current`] gives on this thread.
    pub fn in_scope<T>(self: &Arc<Self>, work: impl FnOnce() -> T) -> T {
        crate::thread_scope::with(&IN_SCOPE, self.clone(), work)
    }

    /// The links in scope on this thread, else relative ones with the default widths.
    pub fn current() -> Arc<MediaLinks> {
        IN_SCOPE.with(|scope| scope.borrow().clone()).unwrap_or_default()
    }
}
