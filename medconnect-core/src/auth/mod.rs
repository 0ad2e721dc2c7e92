//! Who is asking and what they may do: password hashing, tokens, sign-in throttling,
//! the `Actor` and the access policy. Only the `Actor` and the token pair are public:
//! the rest is how the core decides, not something an adapter may call around it.

mod actor;
pub(crate) mod password;
pub(crate) mod policy;
pub(crate) mod throttle;
pub(crate) mod tokens;

pub use actor::Actor;
pub use throttle::ClientAddress;
pub use tokens::TokenPair;
