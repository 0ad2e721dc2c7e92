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
}

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
        Command::Openapi => {
            println!("{}", openapi(&HttpSettings::from_env()?.public_url).spec());
            Ok(())
        }
    }
}

async fn connect() -> anyhow::Result<MedConnect> {
    let config = Config::from_env().context("configuration")?;
    MedConnect::connect(config).await.context("connecting to PostgreSQL and applying migrations")
}

async fn serve() -> anyhow::Result<()> {
    let settings = HttpSettings::from_env().context("configuration")?;
    let app = connect().await?;
    let server =
        Application::build(app, settings.clone()).await.with_context(|| format!("binding {}", settings.bind))?;
    tracing::info!(addr = %server.addr(), docs = %format!("{}/docs", settings.public_url), "MedConnect listening");
    server.run().await?;
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
