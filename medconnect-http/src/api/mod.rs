//! The OpenAPI operations, one file per group of routes. Handlers translate between
//! JSON and the core; they decide nothing: the core authorises and validates.

pub mod accounts;
pub mod api_keys;
pub mod auth;
pub mod consultations;
pub mod doctors;
pub mod health;
pub mod interactions;
pub mod medical;
pub mod patients;
pub mod predictions;
pub mod serde_body;
pub mod types;

use medconnect_core::{Actor, MedConnect};
use poem::Request;
use poem_openapi::auth::Bearer;
use poem_openapi::{OAuthScopes, SecurityScheme, Tags};

use crate::problem::ApiError;

#[derive(Tags)]
pub enum ApiTags {
    /// Sign-in, tokens and the caller's account.
    Auth,
    /// The patient registry and care teams.
    Patients,
    /// The doctor directory.
    Doctors,
    /// Patients' medical records.
    MedicalData,
    /// Consultations a patient asks doctors for, and the care they give.
    Consultations,
    /// Drug interactions, treatment options and stored predictions.
    DecisionSupport,
    /// Account administration and the audit trail.
    Admin,
    /// Liveness and readiness.
    Operations,
}

/// What an access token allows. There is one scope: a token acts as its account, with
/// that account's role; the core decides every access.
#[derive(OAuthScopes)]
pub enum Scope {
    /// Act as the signed-in account, within its role.
    #[oai(rename = "account")]
    Account,
}

/// A bearer access token from `POST /login`. Swagger UI's Authorize button signs in
/// with the OAuth2 password flow against `/token`.
#[derive(SecurityScheme)]
#[oai(
    ty = "oauth2",
    rename = "bearer",
    flows(password(token_url = "/token", scopes = "Scope")),
    checker = "authenticate"
)]
pub struct Auth(pub Actor);

/// The core decides whether the token is good: signature, expiry, account and session.
async fn authenticate(req: &Request, bearer: Bearer) -> poem::Result<Actor> {
    let app = req
        .data::<MedConnect>()
        .ok_or_else(|| poem::Error::from_status(poem::http::StatusCode::INTERNAL_SERVER_ERROR))?;
    app.authenticate(&bearer.token).await.map_err(|e| ApiError(e).into())
}

/// For operations open to anonymous callers: a token, if one is sent, must be valid.
#[derive(SecurityScheme)]
pub enum MaybeAuth {
    Signed(Auth),
    #[oai(fallback)]
    Anonymous,
}

impl MaybeAuth {
    /// The actor, or `None` when no Authorization header was sent. A header with a bad
    /// token is an error, never a silent downgrade to anonymous.
    pub async fn actor(self, app: &MedConnect, req: &Request) -> Result<Option<Actor>, ApiError> {
        match self {
            MaybeAuth::Signed(Auth(actor)) => Ok(Some(actor)),
            MaybeAuth::Anonymous => match req.headers().get(poem::http::header::AUTHORIZATION) {
                None => Ok(None),
                Some(value) => {
                    let token = value.to_str().unwrap_or_default();
                    let token = token.strip_prefix("Bearer ").or_else(|| token.strip_prefix("bearer ")).unwrap_or("");
                    Err(match app.authenticate(token).await {
                        Err(e) => ApiError(e),
                        Ok(_) => {
                            ApiError(medconnect_core::Error::unauthenticated("the Authorization header is malformed"))
                        }
                    })
                }
            },
        }
    }
}
