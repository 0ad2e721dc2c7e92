//! Who is asking and what they may do: password hashing, tokens, the `Actor` and the access policy.

mod actor;
mod password;
pub mod policy;
mod tokens;

/// Refresh-token helpers the services need but adapters do not.
pub(crate) mod tokens_internal {
    pub use super::tokens::{hash_refresh, is_refresh_shaped};
}

pub use actor::Actor;
pub use password::PasswordHasher;
pub use tokens::{AccessClaims, SigningKey, TokenIssuer, TokenPair};
