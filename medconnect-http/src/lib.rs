//! MedConnect's HTTP adapter: an OpenAPI server over `medconnect-core`.

pub mod api;
pub mod client_address;
pub mod explain;
pub mod middleware;
pub mod problem;
pub mod settings;
pub mod spec;
pub mod telemetry;

use std::net::SocketAddr;

use medconnect_core::MedConnect;
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::middleware::CatchPanic;
use poem::{EndpointExt, IntoEndpoint, Route, Server};
use poem_openapi::{LicenseObject, OpenApiService};

use crate::api::predictions::PredictionsApi;
use crate::api::{
    accounts::AccountsApi, api_keys::ApiKeysApi, auth::AuthApi, consultations::ConsultationsApi, doctors::DoctorsApi,
    health::HealthApi, interactions::InteractionsApi, medical::MedicalApi, patients::PatientsApi,
};
pub use crate::settings::HttpSettings;

/// Every operation of the API, in the order the spec lists them.
pub type AllApis = (
    AuthApi,
    PatientsApi,
    DoctorsApi,
    MedicalApi,
    ConsultationsApi,
    InteractionsApi,
    PredictionsApi,
    AccountsApi,
    ApiKeysApi,
    HealthApi,
);

/// The OpenAPI service, for serving and for exporting the spec.
pub fn openapi(public_url: &str) -> OpenApiService<AllApis, ()> {
    OpenApiService::new(AllApis::default(), "MedConnect", env!("CARGO_PKG_VERSION"))
        .description(
            "Clinical-data backend: patients, doctors, medical records and care teams. \
         Sign in with `POST /login` (or Swagger UI's Authorize button) and send the access \
         token as `Authorization: Bearer …`. Errors are RFC 9457 problem+json.",
        )
        .license(LicenseObject::new("Apache-2.0").url("https://www.apache.org/licenses/LICENSE-2.0"))
        .server(public_url)
}

/// The whole HTTP application around a core handle. Fails when the served spec cannot be
/// read back: requests would otherwise go unchecked without anyone knowing.
pub fn routes(
    app: MedConnect,
    settings: &HttpSettings,
) -> std::io::Result<impl poem::Endpoint<Output = poem::Response> + use<>> {
    let api = openapi(&settings.public_url);
    let spec = spec::served(&api)?;
    let docs = spec::swagger_ui(&api, &spec)?;
    let spec_json = serde_json::from_str(&spec).map_err(std::io::Error::other)?;
    let schemas = std::sync::Arc::new(explain::SpecSchemas::new(spec_json));
    let spec_endpoint = poem::endpoint::make_sync(move |_| {
        poem::Response::builder().content_type("application/json; charset=utf-8").body(spec.clone())
    });
    let docs_endpoint = poem::endpoint::make_sync(move |_| poem::web::Html(docs.clone()));
    Ok(Route::new()
        .nest("/", api)
        .at("/docs", docs_endpoint)
        .at("/openapi.json", spec_endpoint)
        .data(app)
        .data(settings.trusted_proxies.clone())
        .with(CatchPanic::new())
        .catch_all_error(problem::any_error_to_problem)
        .around(middleware::prepare_request(settings.max_body_bytes, schemas))
        .with_if(!settings.cors_origins.is_empty(), cors(&settings.cors_origins))
        .around(middleware::trace_request)
        .into_endpoint()
        .map_to_response())
}

/// Cross-origin access for the configured web origins: bearer tokens in `Authorization`
/// (no cookies, so no credentials mode), and the headers a client needs to read back.
fn cors(origins: &[String]) -> poem::middleware::Cors {
    poem::middleware::Cors::new()
        .allow_origins(origins.iter().map(String::as_str))
        .allow_methods([poem::http::Method::GET, poem::http::Method::POST, poem::http::Method::DELETE])
        .allow_headers(["authorization", "content-type", "x-request-id"])
        .expose_headers(["x-request-id", "retry-after", "www-authenticate"])
        .max_age(600)
}

/// A bound, not yet running server. Binding to port 0 picks a free port (tests).
pub struct Application {
    addr: SocketAddr,
    acceptor: poem::listener::TcpAcceptor,
    app: MedConnect,
    settings: HttpSettings,
}

impl Application {
    pub async fn build(app: MedConnect, settings: HttpSettings) -> std::io::Result<Self> {
        let acceptor = TcpListener::bind(settings.bind.clone()).into_acceptor().await?;
        let addr = acceptor
            .local_addr()
            .first()
            .and_then(|a| a.as_socket_addr().copied())
            .ok_or_else(|| std::io::Error::other("listener has no socket address"))?;
        Ok(Self { addr, acceptor, app, settings })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub async fn run(self) -> std::io::Result<()> {
        let endpoint = routes(self.app, &self.settings)?;
        Server::new_with_acceptor(self.acceptor)
            .run_with_graceful_shutdown(endpoint, shutdown_signal(), Some(std::time::Duration::from_secs(10)))
            .await
    }

    /// Runs until the future completes (tests stop servers this way).
    pub async fn run_until(self, stop: impl std::future::Future<Output = ()> + Send) -> std::io::Result<()> {
        let endpoint = routes(self.app, &self.settings)?;
        Server::new_with_acceptor(self.acceptor).run_with_graceful_shutdown(endpoint, stop, None).await
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}
