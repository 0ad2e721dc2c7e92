//! Integration tests over HTTP against a real PostgreSQL: each test gets its own
//! database and server. Run them with `./scripts/test`.

mod access_matrix;
mod auth;
mod cli;
mod errors;
mod helpers;
mod interactions;
mod medical;
mod pagination;
mod predictions;
mod registry;
