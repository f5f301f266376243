//! Authors: the people on bylines. Some are accounts that log in (with an e-mail, a role and a
//! password hash); some are byline-only (wire copy, guest writers). Public routes show only the
//! byline fields, and only of authors with published work.

pub mod announcements;
pub mod model;
pub mod policy;
pub mod routes;
pub mod store;
