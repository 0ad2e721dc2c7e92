//! Connecting, signing in, and sessions that run the core's use cases as a person or as
//! an API key. Every call authenticates again (through the cache), so a revoked key, an
//! ended session or a deactivated account is refused at once, as over HTTP.

use std::sync::{Arc, Mutex};

use medconnect_core::{Actor, ClientAddress, Config, Error, MedConnect, Result, TokenPair};
use pyo3::prelude::*;
use serde_json::Value;

use crate::convert::{from_py, into_py, result};
use crate::dispatch::{Args, dispatch};

/// The runtime every call runs on (pyo3-async-runtimes' own, so sync and async calls and
/// the core's background tasks share one).
fn runtime() -> &'static tokio::runtime::Runtime {
    pyo3_async_runtimes::tokio::get_runtime()
}

/// A connection to a deployment: PostgreSQL (and Redis), migrations applied.
#[pyclass(frozen, module = "medconnect._native")]
pub struct NativeClient {
    app: MedConnect,
}

/// Builds the core's configuration: the given URLs first, then the environment
/// (`MEDCONNECT_JWT_SECRET`, `MEDCONNECT_AUDIT_KEY`, … as the server reads them). A Python
/// process takes no cache lease unless `MEDCONNECT_CACHE_LEASE_HOLDER=1`: scripts come and
/// go, and one that exits on the lease list makes the servers' writes wait out its lease.
fn config(database_url: Option<String>, redis_url: Option<String>) -> Result<Config> {
    Config::from_lookup(|name| match name {
        "DATABASE_URL" if database_url.is_some() => database_url.clone(),
        "REDIS_URL" if redis_url.is_some() => redis_url.clone(),
        "MEDCONNECT_CACHE_LEASE_HOLDER" => std::env::var(name).ok().or_else(|| Some("off".to_owned())),
        _ => std::env::var(name).ok(),
    })
}

#[pymethods]
impl NativeClient {
    #[new]
    #[pyo3(signature = (database_url=None, redis_url=None))]
    fn new(py: Python<'_>, database_url: Option<String>, redis_url: Option<String>) -> PyResult<Self> {
        let connected = py.detach(|| {
            let config = config(database_url, redis_url)?;
            runtime().block_on(MedConnect::connect(config))
        });
        Ok(Self { app: result(py, connected)? })
    }

    /// Signs in with e-mail and password.
    fn login(&self, py: Python<'_>, email: String, password: String) -> PyResult<NativeSession> {
        let app = self.app.clone();
        let tokens = py.detach(|| runtime().block_on(app.login(&email, &password, ClientAddress::local())));
        Ok(NativeSession::new(self.app.clone(), Credential::Tokens(Mutex::new(result(py, tokens)?))))
    }

    /// Acts as the account of an API key (checked now, and again on every call).
    fn with_api_key(&self, py: Python<'_>, key: String) -> PyResult<NativeSession> {
        let app = self.app.clone();
        let checked = py.detach(|| runtime().block_on(app.authenticate(&key)));
        result(py, checked)?;
        Ok(NativeSession::new(self.app.clone(), Credential::ApiKey(key)))
    }

    /// Creates an administrator (whoever holds the database URL already controls it).
    fn create_admin(&self, py: Python<'_>, email: String, password: String) -> PyResult<Py<PyAny>> {
        let app = self.app.clone();
        let new = medconnect_core::services::NewAdmin { email, password };
        let account = py.detach(|| runtime().block_on(app.create_admin(new)));
        into_py(py, &result(py, account)?)
    }
}

enum Credential {
    /// A person's sign-in: the access token, refreshed with the refresh token when it expires.
    Tokens(Mutex<TokenPair>),
    ApiKey(String),
}

/// Someone acting: every call runs as them, with the core's authorisation.
#[pyclass(frozen, module = "medconnect._native")]
pub struct NativeSession {
    app: MedConnect,
    credential: Arc<Credential>,
}

impl NativeSession {
    fn new(app: MedConnect, credential: Credential) -> Self {
        Self { app, credential: Arc::new(credential) }
    }
}

/// The actor of a call: the credential checked again (a revoked key or an ended session
/// fails here); an access token that expired is refreshed once.
async fn actor(app: &MedConnect, credential: &Credential) -> Result<Actor> {
    match credential {
        Credential::ApiKey(key) => app.authenticate(key).await,
        Credential::Tokens(pair) => {
            let (access, refresh) = {
                let pair = pair.lock().map_err(|_| Error::internal("session lock poisoned"))?;
                (pair.access_token.clone(), pair.refresh_token.clone())
            };
            match app.authenticate(&access).await {
                Err(Error::Unauthenticated(why)) if why.contains("expired") => {
                    let fresh = app.refresh(&refresh).await?;
                    let actor = app.authenticate(&fresh.access_token).await?;
                    *pair.lock().map_err(|_| Error::internal("session lock poisoned"))? = fresh;
                    Ok(actor)
                }
                other => other,
            }
        }
    }
}

async fn run(app: MedConnect, credential: Arc<Credential>, op: String, args: Value) -> Result<Value> {
    let args = Args::new(args)?;
    let actor = actor(&app, &credential).await?;
    dispatch(&app, &actor, &op, &args).await
}

#[pymethods]
impl NativeSession {
    /// Runs the use case `op` with `args`, releasing the GIL while it waits.
    #[pyo3(signature = (op, args=None))]
    fn call(&self, py: Python<'_>, op: String, args: Option<Bound<'_, PyAny>>) -> PyResult<Py<PyAny>> {
        let args: Value = match args {
            Some(a) => from_py(py, "arguments", &a)?,
            None => Value::Null,
        };
        let (app, credential) = (self.app.clone(), self.credential.clone());
        let answer = py.detach(|| runtime().block_on(run(app, credential, op, args)));
        into_py(py, &result(py, answer)?)
    }

    /// The same as an awaitable, for asyncio.
    #[pyo3(signature = (op, args=None))]
    fn call_async<'py>(
        &self,
        py: Python<'py>,
        op: String,
        args: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let args: Value = match args {
            Some(a) => from_py(py, "arguments", &a)?,
            None => Value::Null,
        };
        let (app, credential) = (self.app.clone(), self.credential.clone());
        pyo3_async_runtimes::tokio::future_into_py(py, async move {
            let answer = run(app, credential, op, args).await;
            Python::attach(|py| into_py(py, &result(py, answer)?))
        })
    }
}
