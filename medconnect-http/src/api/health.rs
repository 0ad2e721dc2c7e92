//! Liveness and readiness probes.

use medconnect_core::MedConnect;
use poem::web::Data;
use poem_openapi::payload::PlainText;
use poem_openapi::{ApiResponse, OpenApi};

use super::ApiTags;

#[derive(ApiResponse)]
pub enum Readiness {
    /// The database answers.
    #[oai(status = 200)]
    Ready(PlainText<&'static str>),
    /// The database does not answer.
    #[oai(status = 503)]
    NotReady(PlainText<&'static str>),
}

pub struct HealthApi;

#[OpenApi(tag = "ApiTags::Operations")]
impl HealthApi {
    /// Liveness: the process answers
    ///
    /// Answers `ok` without touching the database: for a process supervisor.
    #[oai(path = "/health", method = "get", operation_id = "health")]
    async fn health(&self) -> PlainText<&'static str> {
        PlainText("ok")
    }

    /// Readiness: the database answers
    ///
    /// 200 when PostgreSQL answers, 503 otherwise: for a load balancer.
    #[oai(path = "/ready", method = "get", operation_id = "ready")]
    async fn ready(&self, app: Data<&MedConnect>) -> Readiness {
        match app.ready().await {
            Ok(()) => Readiness::Ready(PlainText("ready")),
            Err(_) => Readiness::NotReady(PlainText("database unavailable")),
        }
    }
}
