//! Who is calling: bearer-token authentication for the editor and account routes.
//!
//! A handler that needs a caller takes an [`AuthUser`] argument: the route cannot run without a
//! valid token, and its first line says so. Roles are checked by the handler itself (see
//! [`Role`]), never hidden in middleware that a new route could forget.

pub mod account;
mod caller;
pub mod integration_tokens;
pub mod jwt;
pub mod password;
pub mod preview_tokens;
mod role;
pub mod scopes;
pub mod sessions;
pub mod throttle;

pub use self::caller::{AuthUser, MaybeAuthUser, authenticate};
pub use self::role::Role;
