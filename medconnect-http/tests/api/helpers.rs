//! `spawn_app()` gives each test a fresh database and a server on a free port, and
//! `TestApp` has one helper per common step.

use medconnect_core::services::NewAdmin;
use medconnect_core::{Config, MedConnect, SecretKey};
use medconnect_http::explain::SpecSchemas;
use medconnect_http::{Application, HttpSettings};
use serde_json::{Value, json};
use sqlx::Connection;
use uuid::Uuid;

pub const PASSWORD: &str = "correct horse battery staple";

#[derive(Clone)]
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub core: MedConnect,
}

/// A reply: status, content type and JSON body (`Null` when the body is not JSON).
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub body: Value,
    /// The `Retry-After` header, in seconds, when there is one.
    pub retry_after: Option<u64>,
}

impl Reply {
    pub fn id(&self) -> Uuid {
        self.body["id"].as_str().and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("no id in {:?}", self.body))
    }
}

/// A signed-in user.
#[derive(Debug, Clone)]
pub struct Session {
    pub access: String,
    pub refresh: String,
    pub user_id: Uuid,
}

fn init_logs() {
    if std::env::var("TEST_LOG").is_ok() {
        medconnect_http::telemetry::init();
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Creates an empty database of its own for a test; returns its URL.
pub async fn create_test_database() -> String {
    let server_url = std::env::var("MEDCONNECT_TEST_PG_URL")
        .expect("MEDCONNECT_TEST_PG_URL is not set: run the tests with ./scripts/test, which starts PostgreSQL");
    let db = format!("mctest_{}", Uuid::new_v4().simple());
    let mut conn = sqlx::PgConnection::connect(&server_url).await.expect("connect to the test cluster");
    sqlx::query(sqlx::AssertSqlSafe(format!("create database {db}")))
        .execute(&mut conn)
        .await
        .expect("create test database");
    let (prefix, _) = server_url.rsplit_once('/').expect("URL with a database name");
    format!("{prefix}/{db}")
}

pub async fn spawn_app_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
    spawn_app_on(&create_test_database().await, SecretKey::random(), tweak).await
}

/// A server on an existing database: two calls with the same database and keys are two
/// instances of one deployment.
pub async fn spawn_app_on(database_url: &str, keys: SecretKey, tweak: impl FnOnce(&mut Config)) -> TestApp {
    spawn_app_configured(database_url, keys, tweak, |_| {}).await
}

/// A server with both its core configuration and its HTTP settings adjusted.
pub async fn spawn_app_configured(
    database_url: &str,
    keys: SecretKey,
    tweak: impl FnOnce(&mut Config),
    tweak_http: impl FnOnce(&mut HttpSettings),
) -> TestApp {
    init_logs();
    let mut config = Config::new(database_url, keys.clone(), keys);
    config.max_connections = 4;
    // Every test runs with the shared cache, in a namespace of its own database's name, so
    // that two servers on one database are two instances of one deployment.
    if let Ok(url) = std::env::var("MEDCONNECT_TEST_REDIS_URL") {
        config.redis_url = Some(url);
        config.cache_namespace = database_url.rsplit('/').next().unwrap_or("medconnect").to_owned();
        // Many servers run at once on two cores here: a Redis reply can come after the
        // production timeout (100 ms) with nothing wrong, and the instance would then
        // rightly go to PostgreSQL, which tests of sharing would read as a fault. Tests of
        // faults set their own short timeout.
        config.redis_timeout = std::time::Duration::from_secs(2);
    }
    tweak(&mut config);
    let core = MedConnect::connect(config).await.expect("connect and migrate");
    let mut settings =
        HttpSettings { bind: "127.0.0.1:0".into(), max_body_bytes: 64 * 1024, ..HttpSettings::default() };
    tweak_http(&mut settings);
    let server = Application::build(core.clone(), settings).await.expect("bind");
    let base = format!("http://{}", server.addr());
    tokio::spawn(server.run_until(std::future::pending()));
    TestApp { base, client: reqwest::Client::new(), core }
}

impl TestApp {
    /// The same server, reached from another loopback source address (any 127.x works).
    pub fn seen_from(&self, source: &str) -> TestApp {
        let ip: std::net::IpAddr = source.parse().expect("address");
        let client = reqwest::Client::builder().local_address(ip).build().expect("client");
        TestApp { base: self.base.clone(), client, core: self.core.clone() }
    }

    /// The database, as its owner: for SQL that plays an attacker or inspects stored rows.
    pub fn db(&self) -> &sqlx::PgPool {
        medconnect_core::test_support::pool(&self.core)
    }

    pub async fn send(&self, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> Reply {
        let verb = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self.client.request(verb, format!("{}{path}", self.base));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        into_reply(method, path, req.send().await.expect("request")).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.send("GET", path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.send("POST", path, token, Some(body)).await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Reply {
        self.send("DELETE", path, token, None).await
    }

    /// Posts a form (the OAuth2 token endpoint).
    pub async fn send_form(&self, path: &str, token: Option<&str>, form: &[(&str, &str)]) -> Reply {
        let mut req = self.client.post(format!("{}{path}", self.base)).form(form);
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        into_reply("POST", path, req.send().await.expect("request")).await
    }

    /// Sends a raw body with a content type, for malformed-input tests.
    pub async fn post_raw(
        &self,
        path: &str,
        token: Option<&str>,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> Reply {
        let mut req = self.client.post(format!("{}{path}", self.base)).header("content-type", content_type).body(body);
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        into_reply("POST", path, req.send().await.expect("request")).await
    }

    pub async fn login(&self, email: &str, password: &str) -> Reply {
        self.post("/login", None, json!({ "email": email, "password": password })).await
    }

    pub async fn sign_in(&self, email: &str) -> Session {
        let reply = self.login(email, PASSWORD).await;
        assert_eq!(reply.status, 200, "login {email}: {:?}", reply.body);
        let access = reply.body["access_token"].as_str().expect("access token").to_owned();
        let refresh = reply.body["refresh_token"].as_str().expect("refresh token").to_owned();
        let me = self.get("/me", Some(&access)).await;
        Session { access, refresh, user_id: me.id() }
    }

    pub async fn admin(&self) -> Session {
        let email = format!("admin-{}@example.org", Uuid::new_v4().simple());
        self.core
            .create_admin(NewAdmin { email: email.clone(), password: PASSWORD.into() })
            .await
            .expect("create admin");
        self.sign_in(&email).await
    }

    /// Registers a doctor through the API and signs them in. Returns (doctor id, session).
    pub async fn doctor(&self, admin: &Session, specialty: &str) -> (Uuid, Session) {
        let n = Uuid::new_v4().simple().to_string();
        let email = format!("dr-{n}@example.org");
        let reply = self.post("/doctors", Some(&admin.access), doctor_body(&email, &n[..12], specialty)).await;
        assert_eq!(reply.status, 201, "{:?}", reply.body);
        let session = self.sign_in(&email).await;
        (reply.id(), session)
    }

    /// Signs a patient up through the API and signs them in. Returns (patient id, session).
    pub async fn patient(&self, given: &str, family: &str) -> (Uuid, Session) {
        let email = format!("pt-{}@example.org", Uuid::new_v4().simple());
        let reply = self.post("/patients", None, patient_body(Some(&email), given, family)).await;
        assert_eq!(reply.status, 201, "{:?}", reply.body);
        let session = self.sign_in(&email).await;
        (reply.id(), session)
    }

    pub async fn grant(&self, patient: &Session, patient_id: Uuid, doctor_id: Uuid) {
        let reply =
            self.post(&format!("/patients/{patient_id}/care-team/{doctor_id}"), Some(&patient.access), json!({})).await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
    }

    pub async fn add_entry(&self, token: &str, patient_id: Uuid, entry: Value) -> Reply {
        self.post("/medical_data", Some(token), json!({ "patient_id": patient_id, "entry": entry })).await
    }
}

/// The served spec, as every response is checked against it.
fn contract() -> &'static SpecSchemas {
    static CONTRACT: std::sync::OnceLock<SpecSchemas> = std::sync::OnceLock::new();
    CONTRACT.get_or_init(|| {
        let spec = medconnect_http::spec::served(&medconnect_http::openapi("/")).expect("the served spec");
        SpecSchemas::new(serde_json::from_str(&spec).expect("the spec is JSON"))
    })
}

/// Every reply of every test is checked against the served spec: its status must be
/// documented for the operation, and its body must match the documented schema strictly.
async fn into_reply(method: &str, path: &str, resp: reqwest::Response) -> Reply {
    let status = resp.status().as_u16();
    let content_type = resp.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let retry_after = resp.headers().get("retry-after").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
    let bytes = resp.bytes().await.expect("body");
    let route = path.split('?').next().unwrap_or(path);
    if let Err(fault) = contract().check_response(method, route, status, &content_type, &bytes) {
        panic!(
            "{method} {path} answered {status} against the spec: `{}` {}\n{}",
            fault.field,
            fault.reason,
            String::from_utf8_lossy(&bytes)
        );
    }
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Reply { status, content_type, body, retry_after }
}

pub fn doctor_body(email: &str, licence: &str, specialty: &str) -> Value {
    json!({
        "email": email,
        "password": PASSWORD,
        "given_name": "Gregory",
        "family_name": "House",
        "specialty": specialty,
        "licence_number": format!("LIC-{licence}"),
        "phone": "+1 555 0100",
        "contact_email": "office@example.org"
    })
}

pub fn patient_body(email: Option<&str>, given: &str, family: &str) -> Value {
    let mut body = json!({
        "given_name": given,
        "family_name": family,
        "date_of_birth": "1985-12-10",
        "sex": "female",
        "emergency_contact": { "name": "Charles Babbage", "phone": "+44 20 7946 0000", "relationship": "friend" }
    });
    if let Some(email) = email {
        body["email"] = json!(email);
        body["password"] = json!(PASSWORD);
    }
    body
}

pub fn blood_pressure(systolic: f64) -> Value {
    json!({ "kind": "observation", "code": "8480-6", "value": systolic, "unit": "mm[Hg]" })
}

/// Asserts an RFC 9457 body with this status.
pub fn assert_problem(reply: &Reply, status: u16) {
    assert_eq!(reply.status, status, "{:?}", reply.body);
    assert_eq!(reply.content_type, "application/problem+json", "{:?}", reply.body);
    assert_eq!(reply.body["status"], status);
    assert!(reply.body["type"].as_str().is_some_and(|t| t.starts_with("/problems/")));
    assert!(reply.body["detail"].as_str().is_some_and(|d| !d.is_empty()));
}
