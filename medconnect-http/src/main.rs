//! The `medconnect` command: run the server, create the first administrator, apply migrations.

use std::io::{BufRead, IsTerminal};

use anyhow::Context;
use clap::{Parser, Subcommand};
use medconnect_core::services::NewAdmin;
use medconnect_core::{Config, MedConnect};
use medconnect_http::{Application, HttpSettings, openapi, telemetry};

#[derive(Parser)]
#[command(name = "medconnect", version, about = "MedConnect clinical-data server")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server (the default).
    Serve,
    /// Create an administrator. The password is read from the terminal, or from stdin
    /// when stdin is not a terminal; never from the command line.
    CreateAdmin {
        #[arg(long)]
        email: String,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the OpenAPI spec (JSON) and exit.
    Openapi,
    /// The audit trail.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// API keys, for systems that act as an account without a password.
    ApiKey {
        #[command(subcommand)]
        command: ApiKeyCommand,
    },
    /// Check that a running server answers: GET /ready on the listen address (for container
    /// health checks). Exits 0 when it answers 200, 1 otherwise.
    Health {
        /// host:port of the server; MEDCONNECT_BIND by default.
        #[arg(long)]
        addr: Option<String>,
    },
    /// Train every risk model from the vendored cohorts and write the model files
    /// (`<out>/risk/<kind>.model`), model cards (`<out>/<kind>.md`) and their ROC and
    /// calibration plots (`<out>/plots/<kind>-roc.png`, `<out>/plots/<kind>-calibration.png`).
    #[cfg(feature = "train")]
    Train {
        #[arg(long, default_value = "models")]
        out: std::path::PathBuf,
        /// Train only this kind (cardiovascular_risk, diabetes_risk, heart_failure_mortality).
        #[arg(long)]
        kind: Option<String>,
    },
}

#[derive(Subcommand)]
enum ApiKeyCommand {
    /// Issue a key for the account with this e-mail and print it (once: it is stored as a
    /// digest). Send it as `Authorization: Bearer <key>`, or give it to the Python client.
    Create {
        #[arg(long)]
        email: String,
        /// What the key is for.
        #[arg(long)]
        name: String,
        /// Days until the key stops working; never, if absent.
        #[arg(long)]
        expires_in_days: Option<u32>,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Seal what is pending, then verify the whole HMAC chain and print a JSON report.
    /// Exits with status 1 when the trail fails verification.
    Verify {
        /// A chain hash (hex) kept from the server's "audit chain sealed" log lines: it must
        /// still be in the chain, which detects a log whose tail was cut.
        #[arg(long)]
        head: Option<String>,
        /// Start at this seal instead of the first row.
        #[arg(long)]
        from_seal: Option<i64>,
    },
}

/// mimalloc instead of glibc's allocator: answers are built from many small allocations
/// (JSON trees, strings), where glibc's malloc and free took 40 % of the server's time
/// under load (perf), and glibc keeps freed memory in per-thread arenas.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    telemetry::init();
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve().await,
        Command::CreateAdmin { email } => create_admin(email).await,
        Command::Migrate => {
            connect().await?;
            eprintln!("migrations applied");
            Ok(())
        }
        Command::Health { addr } => health(addr),
        #[cfg(feature = "train")]
        Command::Train { out, kind } => train(&out, kind.as_deref()),
        Command::Audit { command: AuditCommand::Verify { head, from_seal } } => verify_audit(head, from_seal).await,
        Command::ApiKey { command: ApiKeyCommand::Create { email, name, expires_in_days } } => {
            let expires_at = expires_in_days.map(|d| chrono::Utc::now() + chrono::Duration::days(i64::from(d)));
            let new = medconnect_core::services::NewApiKey { name, expires_at };
            let issued = connect().await?.create_api_key_as_operator(&email, new).await?;
            eprintln!("API key {} issued for {email}; it is shown once:", issued.key.id);
            println!("{}", issued.secret);
            Ok(())
        }
        Command::Openapi => {
            println!("{}", medconnect_http::spec::served(&openapi(&HttpSettings::from_env()?.public_url))?);
            Ok(())
        }
    }
}

/// The core for a one-shot command: it serves no reads, so it takes no cache lease (an
/// ended process would leave writes waiting for its lease to run out).
async fn connect() -> anyhow::Result<MedConnect> {
    let mut config = Config::from_env().context("configuration")?;
    config.cache_lease_holder = false;
    connect_with(config).await
}

async fn connect_with(config: Config) -> anyhow::Result<MedConnect> {
    MedConnect::connect(config).await.context("connecting to PostgreSQL and applying migrations")
}

async fn serve() -> anyhow::Result<()> {
    let settings = HttpSettings::from_env().context("configuration")?;
    let app = connect_with(Config::from_env().context("configuration")?).await?;
    let server =
        Application::build(app, settings.clone()).await.with_context(|| format!("binding {}", settings.bind))?;
    tracing::info!(addr = %server.addr(), docs = %format!("http://{}/docs", server.addr()), "MedConnect listening");
    server.run().await?;
    Ok(())
}

async fn verify_audit(head: Option<String>, from_seal: Option<i64>) -> anyhow::Result<()> {
    let app = connect().await?;
    app.seal_audit_now().await.context("sealing the pending audit rows")?;
    let report = app
        .verify_audit_as_operator(&medconnect_core::VerifyAudit { from_seal, kept_head: head, max_rows: None })
        .await
        .context("verifying the audit trail")?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    if !report.intact {
        std::process::exit(1);
    }
    Ok(())
}

async fn create_admin(email: String) -> anyhow::Result<()> {
    let password = if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password for the new administrator: ")?;
        let again = rpassword::prompt_password("Repeat the password: ")?;
        anyhow::ensure!(first == again, "the passwords differ");
        first
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    };
    let app = connect().await?;
    let account = app.create_admin(NewAdmin { email, password }).await?;
    eprintln!("administrator {} created with id {}", account.email, account.id);
    Ok(())
}

/// GET /ready over a plain TCP connection: no HTTP client library for one request.
fn health(addr: Option<String>) -> anyhow::Result<()> {
    use std::io::{Read, Write};
    let addr = match addr {
        Some(addr) => addr,
        None => HttpSettings::from_env()?.bind,
    };
    // A server listening on every interface is reached on loopback.
    let addr = addr.replace("0.0.0.0", "127.0.0.1").replace("[::]", "[::1]");
    let timeout = std::time::Duration::from_secs(3);
    let target = std::net::ToSocketAddrs::to_socket_addrs(&addr)
        .with_context(|| format!("resolving {addr}"))?
        .next()
        .with_context(|| format!("{addr} resolves to no address"))?;
    let mut stream =
        std::net::TcpStream::connect_timeout(&target, timeout).with_context(|| format!("connecting to {addr}"))?;
    stream.set_read_timeout(Some(timeout))?;
    write!(stream, "GET /ready HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n")?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).with_context(|| format!("reading the answer of {addr}"))?;
    let status = answer.lines().next().unwrap_or_default();
    if status.split_whitespace().nth(1) == Some("200") {
        eprintln!("{addr}: ready");
        Ok(())
    } else {
        eprintln!("{addr}: not ready ({status})");
        std::process::exit(1)
    }
}

#[cfg(feature = "train")]
fn train(out: &std::path::Path, only: Option<&str>) -> anyhow::Result<()> {
    use medconnect_core::ai::risk::card::{calibration_plot_path, card, roc_plot_path};
    use medconnect_core::ai::risk::plots::{calibration_png, roc_png};
    use medconnect_core::ai::risk::{RiskKind, RiskModel};
    let kinds: Vec<RiskKind> = RiskKind::ALL.into_iter().filter(|k| only.is_none_or(|o| o == k.as_str())).collect();
    anyhow::ensure!(
        !kinds.is_empty(),
        "--kind must be one of cardiovascular_risk, diabetes_risk, heart_failure_mortality"
    );
    std::fs::create_dir_all(out.join("risk"))?;
    std::fs::create_dir_all(out.join("plots"))?;
    let bar = indicatif::ProgressBar::new(kinds.len() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    for kind in kinds {
        bar.set_message(format!("training {} (5-fold cross-validation of every family, then all rows)", kind.as_str()));
        let model = RiskModel::train(kind)?;
        std::fs::write(out.join("risk").join(format!("{}.model", kind.as_str())), model.to_bytes()?)?;
        std::fs::write(out.join(format!("{}.md", kind.as_str())), card(kind, &model))?;
        std::fs::write(out.join(roc_plot_path(kind)), roc_png(kind, &model)?)?;
        std::fs::write(out.join(calibration_plot_path(kind)), calibration_png(kind, &model)?)?;
        bar.inc(1);
        bar.println(format!(
            "{}: cross-validated AUC {:.3}, Brier {:.3}",
            kind.as_str(),
            model.cross_validation.mean.roc_auc,
            model.cross_validation.mean.brier
        ));
    }
    bar.finish_with_message("done");
    Ok(())
}
