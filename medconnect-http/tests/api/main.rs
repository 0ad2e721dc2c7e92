//! Integration tests over HTTP against a real PostgreSQL: each test gets its own
//! database and server. Run them with `./scripts/test`.

mod access_matrix;
mod api_keys;
mod audit;
mod auth;
mod cache;
mod cli;
mod concurrency;
mod consultations;
mod contract;
mod errors;
mod faults;
mod helpers;
mod interactions;
mod medical;
mod pagination;
mod predictions;
mod registry;
mod sign_in;
