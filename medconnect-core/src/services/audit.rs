//! Reading and verifying the audit trail (administrators only; verification also for the
//! operator at the command line).

use super::require_admin;
use crate::MedConnect;
use crate::audit::{AuditAction, AuditRecord, AuditVerification, VerifyAudit, sealer, verify};
use crate::auth::Actor;
use crate::domain::PatientId;
use crate::error::Result;
use crate::pagination::{Page, PageRequest};
use crate::store;

impl MedConnect {
    /// Audit events oldest first, optionally about one patient. Reading the trail is
    /// itself audited.
    pub async fn audit_log(
        &self,
        actor: &Actor,
        patient: Option<PatientId>,
        page: &PageRequest,
    ) -> Result<Page<AuditRecord>> {
        require_admin(actor)?;
        let scope = format!("audit/{}/{}", actor.user_id(), patient.map(|p| p.to_string()).unwrap_or_default());
        let limit = page.limit()?;
        let after: Option<i64> = self.cursors().after(&scope, page)?;
        let rows = self
            .audited_read(actor, AuditAction::AuditRead, async |conn| {
                store::audit::list(&mut *conn, patient.map(|p| p.0), after, limit).await
            })
            .await?;
        Ok(self.cursors().page(&scope, rows, limit, |r| r.seq))
    }

    /// Verifies the audit trail (administrators): see [`AuditVerification`].
    pub async fn verify_audit(&self, actor: &Actor, request: &VerifyAudit) -> Result<AuditVerification> {
        require_admin(actor)?;
        self.verify_audit_as_operator(request).await
    }

    /// Verifies the audit trail for the operator at the command line (`medconnect audit
    /// verify`): whoever runs it already holds the database URL and the audit key.
    pub async fn verify_audit_as_operator(&self, request: &VerifyAudit) -> Result<AuditVerification> {
        verify::verify(self.pool(), self.audit_keys(), request).await
    }

    /// Seals every row appended so far now, instead of at the sealer's next tick (for the
    /// command line before a verification, and for tests). Returns the latest new seal and
    /// its head, if rows were sealed.
    pub async fn seal_audit_now(&self) -> Result<Option<(i64, String)>> {
        Ok(sealer::seal_pending(self.pool(), self.audit_keys()).await?.head)
    }
}
