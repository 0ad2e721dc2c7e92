//! API keys: issued by administrators for an account, so that a system can act as it
//! without a password (`Authorization: Bearer mck_…`, or the Python bindings).

use chrono::{DateTime, Utc};
use medconnect_core::MedConnect;
use medconnect_core::domain::{ApiKey, IssuedApiKey, UserId};
use medconnect_core::services::NewApiKey;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

use super::{ApiTags, Auth};
use crate::problem::{AdminErrors, AdminWriteErrors, ApiResult};

/// A key to issue.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none, deny_unknown_fields, example)]
pub struct NewApiKeyRequest {
    /// What the key is for, 1–100 characters.
    #[oai(validator(max_length = 100))]
    pub name: String,
    /// When the key stops working (in the future); never, if absent.
    pub expires_at: Option<DateTime<Utc>>,
}

impl poem_openapi::types::Example for NewApiKeyRequest {
    fn example() -> Self {
        Self { name: "laboratory results import".into(), expires_at: None }
    }
}

/// An API key, without its secret.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none, rename = "ApiKey")]
pub struct ApiKeyView {
    pub id: Uuid,
    /// The account the key acts as.
    pub user_id: Uuid,
    pub name: String,
    /// The administrator who issued it (absent when issued from the command line).
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    /// Set once revoked: the key no longer works.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<ApiKey> for ApiKeyView {
    fn from(k: ApiKey) -> Self {
        Self {
            id: k.id,
            user_id: k.user_id.0,
            name: k.name,
            created_by: k.created_by.map(|u| u.0),
            created_at: k.created_at,
            expires_at: k.expires_at,
            revoked_at: k.revoked_at,
        }
    }
}

/// A key just issued, with its secret: shown this once, never again.
#[derive(Object)]
#[oai(rename = "IssuedApiKey")]
pub struct IssuedApiKeyView {
    pub api_key: ApiKeyView,
    /// Send it as `Authorization: Bearer <key>`. Store it as a secret.
    pub key: String,
}

impl From<IssuedApiKey> for IssuedApiKeyView {
    fn from(k: IssuedApiKey) -> Self {
        Self { api_key: k.key.into(), key: k.secret }
    }
}

#[derive(ApiResponse)]
pub enum ApiKeyIssued {
    /// The key was issued; its secret is in this answer only.
    #[oai(status = 201)]
    Created(Json<IssuedApiKeyView>),
}

#[derive(ApiResponse)]
pub enum ApiKeyRevoked {
    /// The key no longer works, on every instance.
    #[oai(status = 204)]
    Done,
}

#[derive(Default)]
pub struct ApiKeysApi;

#[OpenApi(tag = "ApiTags::Admin")]
impl ApiKeysApi {
    /// Issue an API key for an account
    ///
    /// Administrators only. The key acts as the account, with its role, wherever a bearer
    /// token is accepted, and through the Python bindings (`Client.with_api_key`). Its
    /// secret is in this answer and nowhere else: it is stored as a SHA-256 digest.
    #[oai(path = "/users/:user_id/api-keys", method = "post", operation_id = "create_api_key")]
    async fn create(
        &self,
        app: Data<&MedConnect>,
        auth: Auth,
        user_id: Path<Uuid>,
        body: Json<NewApiKeyRequest>,
    ) -> ApiResult<ApiKeyIssued, AdminWriteErrors> {
        let new = NewApiKey { name: body.0.name, expires_at: body.0.expires_at };
        Ok(ApiKeyIssued::Created(Json(app.create_api_key(&auth.0, UserId(user_id.0), new).await?.into())))
    }

    /// An account's API keys
    ///
    /// Administrators only; oldest first, revoked ones included; never their secrets.
    #[oai(path = "/users/:user_id/api-keys", method = "get", operation_id = "list_api_keys")]
    async fn list(
        &self,
        app: Data<&MedConnect>,
        auth: Auth,
        user_id: Path<Uuid>,
    ) -> ApiResult<Json<Vec<ApiKeyView>>, AdminErrors> {
        let keys = app.list_api_keys(&auth.0, UserId(user_id.0)).await?;
        Ok(Json(keys.into_iter().map(Into::into).collect()))
    }

    /// Revoke an API key
    ///
    /// Administrators only. Refused from the moment this answers, on every instance.
    #[oai(path = "/users/:user_id/api-keys/:key_id", method = "delete", operation_id = "revoke_api_key")]
    async fn revoke(
        &self,
        app: Data<&MedConnect>,
        auth: Auth,
        user_id: Path<Uuid>,
        key_id: Path<Uuid>,
    ) -> ApiResult<ApiKeyRevoked, AdminErrors> {
        app.revoke_api_key(&auth.0, UserId(user_id.0), key_id.0).await?;
        Ok(ApiKeyRevoked::Done)
    }
}
