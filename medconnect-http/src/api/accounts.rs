//! Account administration and the audit trail (administrators only).

use chrono::{DateTime, Utc};
use medconnect_core::MedConnect;
use medconnect_core::domain::{Account, PatientId, Role, UserId};
use medconnect_core::{AuditRecord, VerifyAudit};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Enum, Object, OpenApi};
use uuid::Uuid;

use super::types::EmailText;
use super::types::{enum_from, page_of, page_request};
use super::{ApiTags, Auth};
use crate::problem::{AdminErrors, ApiResult};

enum_from!(Role => RoleView { Admin, Doctor, Patient });
enum_from!(RoleView => Role { Admin, Doctor, Patient });

/// What an account is.
///
/// - `admin`: manages accounts, care teams and the audit trail; never reads health records.
/// - `doctor`: keeps the records of the patients in their care.
/// - `patient`: sees and adds to their own record and chooses their care team.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum RoleView {
    Admin,
    Doctor,
    Patient,
}

/// An account (never its password).
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none, rename = "Account")]
pub struct AccountView {
    pub id: Uuid,
    pub email: EmailText,
    pub role: RoleView,
    /// A deactivated account cannot sign in and its tokens do not work.
    pub active: bool,
    /// The patient record of a patient account.
    pub patient_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Account> for AccountView {
    fn from(a: Account) -> Self {
        Self {
            id: a.id.0,
            email: a.email.into(),
            role: a.role.into(),
            active: a.active,
            patient_id: a.patient_id.map(|p| p.0),
            created_at: a.created_at,
            updated_at: a.updated_at,
        }
    }
}

page_of!(AccountPage, AccountView, "A page of accounts.");

/// One audited access.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none, rename = "AuditEvent")]
pub struct AuditView {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor_id: Option<Uuid>,
    pub actor_role: Option<String>,
    /// What was done, such as `medical.read` or `care.grant`.
    pub action: String,
    pub patient_id: Option<Uuid>,
    pub target_id: Option<Uuid>,
    /// `ok`, or `denied` when the policy refused.
    pub outcome: String,
    /// Whether the sealer has chained the row into the HMAC chain yet (within about a second).
    pub sealed: bool,
}

impl From<AuditRecord> for AuditView {
    fn from(r: AuditRecord) -> Self {
        Self {
            seq: r.seq,
            at: r.at,
            actor_id: r.actor_id,
            actor_role: r.actor_role,
            action: r.action,
            patient_id: r.patient_id,
            target_id: r.target_id,
            outcome: r.outcome,
            sealed: r.sealed,
        }
    }
}

page_of!(AuditPage, AuditView, "A page of audit events, oldest first.");

/// How far verification of the audit trail got, and the first problem it found.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none, rename = "AuditVerification")]
pub struct AuditVerificationView {
    /// No problem found in what was checked.
    pub intact: bool,
    /// Every row was checked; false when `max_rows` stopped verification first.
    pub complete: bool,
    /// The last seal checked and found sound.
    pub through_seal: Option<i64>,
    pub sealed_rows_checked: u64,
    /// Rows appended but not yet chained, each checked against its own MAC.
    pub unsealed_rows_checked: u64,
    /// The head (hex) of `through_seal`: keep it to detect a cut tail later.
    pub head: Option<String>,
    /// Whether the `head` given in the request was found in the chain.
    pub kept_head_found: Option<bool>,
    pub problem: Option<AuditProblemView>,
}

/// Where the audit trail fails verification, and how.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none, rename = "AuditProblem")]
pub struct AuditProblemView {
    /// The row at fault, when one row can be named.
    pub seq: Option<i64>,
    /// The seal whose rows no longer add up, when the fault is in the chain.
    pub seal: Option<i64>,
    pub reason: String,
}

impl From<medconnect_core::AuditVerification> for AuditVerificationView {
    fn from(v: medconnect_core::AuditVerification) -> Self {
        Self {
            intact: v.intact,
            complete: v.complete,
            through_seal: v.through_seal,
            sealed_rows_checked: v.sealed_rows_checked,
            unsealed_rows_checked: v.unsealed_rows_checked,
            head: v.head,
            kept_head_found: v.kept_head_found,
            problem: v.problem.map(|p| AuditProblemView { seq: p.seq, seal: p.seal, reason: p.reason }),
        }
    }
}

#[derive(Default)]
pub struct AccountsApi;

#[OpenApi(tag = "ApiTags::Admin")]
impl AccountsApi {
    /// List accounts
    ///
    /// Administrators only: every account, oldest first, optionally of one role;
    /// cursor-paginated.
    #[oai(path = "/users", method = "get", operation_id = "list_users")]
    async fn list(
        &self,
        app: Data<&MedConnect>,
        auth: Auth,
        role: Query<Option<RoleView>>,
        /// `next_cursor` of the previous page; absent for the first page.
        cursor: Query<Option<String>>,
        /// Page size (default 20).
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<u32>>,
    ) -> ApiResult<Json<AccountPage>, AdminErrors> {
        let page = page_request(cursor.0, limit.0);
        Ok(Json(app.list_accounts(&auth.0, role.0.map(Into::into), &page).await?.into()))
    }

    /// Deactivate an account
    ///
    /// The account can no longer sign in, and every session it has ends at once.
    #[oai(path = "/users/:user_id/deactivate", method = "post", operation_id = "deactivate_user")]
    async fn deactivate(
        &self,
        app: Data<&MedConnect>,
        auth: Auth,
        user_id: Path<Uuid>,
    ) -> ApiResult<Json<AccountView>, AdminErrors> {
        Ok(Json(app.set_account_active(&auth.0, UserId(user_id.0), false).await?.into()))
    }

    /// Reactivate an account
    ///
    /// Administrators only. The account can sign in again; sessions ended by the
    /// deactivation stay ended.
    #[oai(path = "/users/:user_id/activate", method = "post", operation_id = "activate_user")]
    async fn activate(
        &self,
        app: Data<&MedConnect>,
        auth: Auth,
        user_id: Path<Uuid>,
    ) -> ApiResult<Json<AccountView>, AdminErrors> {
        Ok(Json(app.set_account_active(&auth.0, UserId(user_id.0), true).await?.into()))
    }

    /// Read the audit trail
    ///
    /// Administrators only: every access to health data and every account change, oldest
    /// first, optionally about one patient; ids and action names only, never health data.
    /// Reading it is itself audited.
    #[oai(path = "/audit", method = "get", operation_id = "list_audit_events")]
    async fn audit(
        &self,
        app: Data<&MedConnect>,
        auth: Auth,
        patient_id: Query<Option<Uuid>>,
        /// `next_cursor` of the previous page; absent for the first page.
        cursor: Query<Option<String>>,
        /// Page size (default 20).
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<u32>>,
    ) -> ApiResult<Json<AuditPage>, AdminErrors> {
        let page = page_request(cursor.0, limit.0);
        Ok(Json(app.audit_log(&auth.0, patient_id.0.map(PatientId), &page).await?.into()))
    }

    /// Verify the audit trail
    ///
    /// Walks the HMAC chain page by page and reports how far it got: every sealed row must
    /// match its MAC and link to the one before; rows waiting to be sealed must match their
    /// MAC. With `head` (a chain hash the operator kept from the server's log), a log whose
    /// tail was cut is detected too. `from_seal` starts at a seal instead of the first row;
    /// `max_rows` bounds the work (the default checks everything).
    #[oai(path = "/audit/verify", method = "get", operation_id = "verify_audit")]
    async fn verify(
        &self,
        app: Data<&MedConnect>,
        auth: Auth,
        head: Query<Option<String>>,
        /// A seal id (from a previous report or the server's log).
        #[oai(validator(minimum(value = "1"), maximum(value = "9007199254740991")))]
        from_seal: Query<Option<i64>>,
        /// Stop after about this many rows.
        #[oai(validator(minimum(value = "1"), maximum(value = "1000000000000")))]
        max_rows: Query<Option<u64>>,
    ) -> ApiResult<Json<AuditVerificationView>, AdminErrors> {
        let request = VerifyAudit { from_seal: from_seal.0, kept_head: head.0, max_rows: max_rows.0 };
        Ok(Json(app.verify_audit(&auth.0, &request).await?.into()))
    }
}
