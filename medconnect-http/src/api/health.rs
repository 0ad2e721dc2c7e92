//! Liveness and readiness probes.

use medconnect_core::{CacheStatus, MedConnect};
use poem::web::Data;
use poem_openapi::payload::{Json, PlainText};
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};

use super::ApiTags;

/// How the cache is doing.
///
/// - `off`: no Redis configured; an in-process cache serves this one instance.
/// - `ok`: Redis answers.
/// - `degraded`: Redis does not answer; requests go to PostgreSQL until it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum CacheStatusView {
    Off,
    Ok,
    Degraded,
}

impl From<CacheStatus> for CacheStatusView {
    fn from(status: CacheStatus) -> Self {
        match status {
            CacheStatus::Off => CacheStatusView::Off,
            CacheStatus::Ok => CacheStatusView::Ok,
            CacheStatus::Degraded => CacheStatusView::Degraded,
        }
    }
}

/// The server can serve: the database answers; the cache's state is reported, and a
/// degraded cache does not make the server unready.
#[derive(Debug, Object)]
pub struct ReadyView {
    /// Always `ok` in a 200.
    pub database: String,
    pub cache: CacheStatusView,
}

#[derive(ApiResponse)]
pub enum Readiness {
    /// The database answers.
    #[oai(status = 200)]
    Ready(Json<ReadyView>),
    /// The database does not answer.
    #[oai(status = 503)]
    NotReady(PlainText<&'static str>),
}

#[derive(Default)]
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
    /// 200 when PostgreSQL answers, with the cache's state (`degraded` when Redis does not
    /// answer: requests then go to PostgreSQL); 503 when PostgreSQL does not answer.
    #[oai(path = "/ready", method = "get", operation_id = "ready")]
    async fn ready(&self, app: Data<&MedConnect>) -> Readiness {
        match app.ready().await {
            Ok(cache) => Readiness::Ready(Json(ReadyView { database: "ok".to_owned(), cache: cache.into() })),
            Err(_) => Readiness::NotReady(PlainText("database unavailable")),
        }
    }
}
