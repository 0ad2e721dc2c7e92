//! The baseline of the load figures: a bare poem server that answers every request with a
//! constant, built with the same poem and tokio as MedConnect. `benches/load.sh` measures
//! MedConnect's endpoints as ratios of this handler's throughput in the same run.
//! `/bytes/{n}` answers `n` bytes instead of two: the floor of an endpoint whose answer is
//! that large (an interaction report is ~12 KB).
//!
//! Usage: `bare-poem 127.0.0.1:18999`

use poem::web::Path;
use poem::{Route, Server, handler, listener::TcpListener};

#[handler]
fn constant() -> &'static str {
    "ok"
}

#[handler]
fn bytes(Path(n): Path<usize>) -> Vec<u8> {
    vec![b'x'; n.min(1 << 20)]
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let bind = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:18999".to_owned());
    Server::new(TcpListener::bind(bind)).run(Route::new().at("/bytes/:n", bytes).at("/*", constant)).await
}
