//! Medical records: adding entries and reading a patient's history.

use super::{authorize_patient, record};
use crate::MedConnect;
use crate::auth::Actor;
use crate::auth::policy::PatientAction;
use crate::domain::{MedicalEntry, NewMedicalEntry, PatientId, Role};
use crate::error::{Error, Result};
use crate::pagination::{Page, PageRequest, page_from};
use crate::store::medical::{self, EntryFilter};

#[derive(Debug, Clone, Default)]
pub struct EntryQuery {
    pub filter: EntryFilter,
    pub page: PageRequest,
}

impl MedConnect {
    /// Adds an entry: a doctor for a patient in their care, or a patient for themself
    /// (marked self-reported).
    pub async fn add_medical_entry(&self, actor: &Actor, new: NewMedicalEntry) -> Result<MedicalEntry> {
        let patient = new.patient_id;
        let mut tx = self.pool().begin().await?;
        authorize_patient(self.pool(), &mut tx, actor, patient, PatientAction::AddRecord, "medical.create").await?;
        let (patient, effective_at, details) = new.parse()?;
        let self_reported = actor.role == Role::Patient;
        let entry = medical::insert(&mut *tx, patient, effective_at, actor.user_id, self_reported, &details).await?;
        record(&mut tx, Some(actor), "medical.create", Some(patient), Some(entry.id.0), "ok").await?;
        tx.commit().await?;
        Ok(entry)
    }

    /// A patient's entries, newest first.
    pub async fn list_medical_entries(
        &self,
        actor: &Actor,
        patient: PatientId,
        query: &EntryQuery,
    ) -> Result<Page<MedicalEntry>> {
        let limit = query.page.limit()?;
        let after = query.page.key()?;
        if let (Some(from), Some(to)) = (query.filter.from, query.filter.to) {
            if from >= to {
                return Err(Error::invalid("from", "must be before `to`"));
            }
        }
        let mut tx = self.pool().begin().await?;
        authorize_patient(self.pool(), &mut tx, actor, patient, PatientAction::ReadRecords, "medical.read").await?;
        let rows = medical::list(&mut *tx, patient, &query.filter, after, limit).await?;
        record(&mut tx, Some(actor), "medical.read", Some(patient), None, "ok").await?;
        tx.commit().await?;
        Ok(page_from(rows, limit, medical::list_key))
    }
}
