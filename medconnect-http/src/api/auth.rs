//! Sign-in, refresh, sign-out and the caller's own account.

use chrono::{DateTime, Utc};
use medconnect_core::{MedConnect, TokenPair};
use poem::Request;
use poem::web::Data;
use poem_openapi::payload::{Form, Json};
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::accounts::AccountView;
use super::types::{EmailText, PasswordText};
use super::{ApiTags, Auth};
use crate::client_address;
use crate::problem::{ApiResult, LoginErrors, RefreshErrors, SessionErrors};

/// E-mail and password. No `Debug`: it holds a password.
#[derive(Object)]
#[oai(skip_serializing_if_is_none, deny_unknown_fields, example)]
pub struct Credentials {
    #[oai(validator(max_length = 254))]
    pub email: EmailText,
    #[oai(write_only, validator(max_length = 1024))]
    pub password: PasswordText,
}

impl poem_openapi::types::Example for Credentials {
    fn example() -> Self {
        Self { email: "house@example.org".into(), password: "vicodin and canes".into() }
    }
}

impl poem_openapi::types::Example for RefreshRequest {
    fn example() -> Self {
        Self { refresh_token: "mcr_G8cWq1d2Jt6Yb0mZPp3Xv7Lk9Rs4Ue5Hn2Aa8Fw".into() }
    }
}

impl poem_openapi::types::Example for PasswordGrant {
    fn example() -> Self {
        Self {
            grant_type: Some("password".into()),
            username: "house@example.org".into(),
            password: "vicodin and canes".into(),
            scope: None,
            client_id: None,
            client_secret: None,
        }
    }
}

/// The OAuth2 password grant (RFC 6749 §4.3), as Swagger UI's Authorize button sends it.
#[derive(Object, serde::Deserialize)]
#[oai(skip_serializing_if_is_none, example)]
pub struct PasswordGrant {
    /// Must be `password` when sent.
    pub grant_type: Option<String>,
    /// The e-mail address.
    pub username: String,
    #[oai(write_only)]
    pub password: String,
    pub scope: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
}

/// Tokens for the session just opened or refreshed.
#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct TokenResponse {
    /// A short-lived JWT to send as `Authorization: Bearer …`.
    pub access_token: String,
    /// Always `bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// Exchange at `POST /token/refresh` for a new pair; single use.
    pub refresh_token: String,
    pub refresh_expires_at: DateTime<Utc>,
}

impl From<TokenPair> for TokenResponse {
    fn from(pair: TokenPair) -> Self {
        Self {
            access_token: pair.access_token,
            token_type: "bearer".into(),
            expires_in: (pair.access_expires_at - Utc::now()).num_seconds().max(0),
            refresh_token: pair.refresh_token,
            refresh_expires_at: pair.refresh_expires_at,
        }
    }
}

#[derive(Object)]
#[oai(skip_serializing_if_is_none, deny_unknown_fields, example)]
pub struct RefreshRequest {
    #[oai(validator(max_length = 200))]
    pub refresh_token: String,
}

#[derive(ApiResponse)]
pub enum LoggedOut {
    /// The session has ended.
    #[oai(status = 204)]
    Done,
}

#[derive(Default)]
pub struct AuthApi;

#[OpenApi(tag = "ApiTags::Auth")]
impl AuthApi {
    /// Sign in
    ///
    /// JSON `{email, password}`. An unknown e-mail, a wrong password and a deactivated
    /// account get the same answer after the same work. Attempts are limited per e-mail and
    /// client address, and per client address (429 with `Retry-After`).
    #[oai(path = "/login", method = "post", operation_id = "login")]
    async fn login(
        &self,
        app: Data<&MedConnect>,
        req: &Request,
        body: Json<Credentials>,
    ) -> ApiResult<Json<TokenResponse>, LoginErrors> {
        let Json(credentials) = body;
        Ok(Json(app.login(&credentials.email.0, &credentials.password.0, client_address::of(req)).await?.into()))
    }

    /// Sign in with the OAuth2 password grant
    ///
    /// The token endpoint of the OAuth2 password flow (RFC 6749 §4.3): a form with
    /// `grant_type=password`, `username` (the e-mail) and `password`, as Swagger UI's
    /// Authorize button and OAuth2 libraries send it. The same rules as `POST /login`.
    #[oai(path = "/token", method = "post", operation_id = "token")]
    async fn token(
        &self,
        app: Data<&MedConnect>,
        req: &Request,
        body: Form<PasswordGrant>,
    ) -> ApiResult<Json<TokenResponse>, LoginErrors> {
        let Form(grant) = body;
        if grant.grant_type.as_deref().is_some_and(|g| g != "password") {
            return Err(medconnect_core::Error::invalid("grant_type", "must be `password`").into());
        }
        Ok(Json(app.login(&grant.username, &grant.password, client_address::of(req)).await?.into()))
    }

    /// Refresh the tokens
    ///
    /// Rotates the refresh token. Presenting a refresh token that was already used ends
    /// the whole session: someone else may hold a copy.
    #[oai(path = "/token/refresh", method = "post", operation_id = "refresh_token")]
    async fn refresh(
        &self,
        app: Data<&MedConnect>,
        body: Json<RefreshRequest>,
    ) -> ApiResult<Json<TokenResponse>, RefreshErrors> {
        Ok(Json(app.refresh(&body.refresh_token).await?.into()))
    }

    /// Sign out
    ///
    /// Ends the session: its refresh token and its access tokens stop working.
    #[oai(path = "/logout", method = "post", operation_id = "logout")]
    async fn logout(&self, app: Data<&MedConnect>, auth: Auth) -> ApiResult<LoggedOut, SessionErrors> {
        app.logout(&auth.0).await?;
        Ok(LoggedOut::Done)
    }

    /// The caller's account
    ///
    /// The account the access token acts as: e-mail, role, whether it is active, and for
    /// a patient their patient record id.
    #[oai(path = "/me", method = "get", operation_id = "get_me")]
    async fn me(&self, app: Data<&MedConnect>, auth: Auth) -> ApiResult<Json<AccountView>, SessionErrors> {
        Ok(Json(app.me(&auth.0).await?.into()))
    }
}
