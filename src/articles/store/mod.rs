//! Article queries and writes, one file per job: `public` reads (through `db::visibility`),
//! `editor` reads, `input` checks and rendering, `writes`, `imported` (imports written again);
//! `joins` holds what they share.

pub mod announcements;
mod editor;
mod imported;
mod input;
mod joins;
mod public;
mod slugs;
mod writes;

pub use editor::{AdminFilter, access, list_admin, load_admin, not_found};
pub use imported::replace_imported;
pub use input::{Prepared, prepare_new, prepare_update};
pub use public::{ListPage, find_preview, find_public, list_public, related};
pub use slugs::free_slug;
pub use writes::{
    ArticleContent, ArticleTags, Publication, Writer, create, delete_permanently, insert_article, restore_revision,
    set_publication, set_trashed, update,
};
