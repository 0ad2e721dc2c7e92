//! Reading the audit trail (administrators only).

use super::accounts::require_admin;
use crate::MedConnect;
use crate::auth::Actor;
use crate::domain::PatientId;
use crate::error::Result;
use crate::pagination::{Page, PageRequest, page_from};
use crate::store::audit::{self, AuditRecord};

impl MedConnect {
    /// Audit events oldest first, optionally about one patient.
    pub async fn audit_log(
        &self,
        actor: &Actor,
        patient: Option<PatientId>,
        page: &PageRequest,
    ) -> Result<Page<AuditRecord>> {
        require_admin(actor)?;
        let limit = page.limit()?;
        let after: Option<i64> = page.key()?;
        let rows = audit::list(self.pool(), patient.map(|p| p.0), after, limit).await?;
        Ok(page_from(rows, limit, |r| r.seq))
    }

    /// Walks the hash chain; `Some(seq)` is the first row that does not match.
    pub async fn verify_audit_chain(&self, actor: &Actor) -> Result<Option<i64>> {
        require_admin(actor)?;
        audit::verify_chain(self.pool()).await
    }
}
