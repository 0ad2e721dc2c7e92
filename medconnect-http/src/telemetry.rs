//! Structured logs with tracing. `RUST_LOG` filters; `MEDCONNECT_LOG_FORMAT=json` gives
//! one JSON object per line. Logs name requests, statuses and ids, never bodies.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,poem=warn"));
    let json = std::env::var("MEDCONNECT_LOG_FORMAT").is_ok_and(|f| f == "json");
    // Colours only on a terminal: files and log collectors get plain text.
    let builder =
        tracing_subscriber::fmt().with_env_filter(filter).with_target(false).with_ansi(std::io::stdout().is_terminal());
    // A second init (tests) is harmless: the first subscriber stays.
    let _ = if json { builder.json().try_init() } else { builder.try_init() };
}
