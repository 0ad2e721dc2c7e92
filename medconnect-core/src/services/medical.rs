//! Medical records: adding entries and reading a patient's history.

use super::Done;
use crate::MedConnect;
use crate::auth::Actor;
use crate::auth::policy::PatientAction;
use crate::domain::{MedicalEntry, NewMedicalEntry, PatientId, Role};
use crate::error::{Error, Result};
use crate::pagination::{Page, PageRequest};
use crate::store::consultations;
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
        let consultation = new.consultation_id;
        let (patient, effective_at, details) = new.parse()?;
        let self_reported = actor.role() == Role::Patient;
        self.with_patient(actor, patient, PatientAction::AddRecord, async |tx| {
            if let Some(consultation) = consultation {
                consultations::check_documenting(&mut *tx, consultation, patient, actor).await?;
            }
            let author = actor.user_id();
            let entry =
                medical::insert(&mut *tx, patient, effective_at, author, self_reported, &details, consultation).await?;
            Ok(Done::on(entry.id.0, entry))
        })
        .await
    }

    /// A patient's entries, newest first.
    pub async fn list_medical_entries(
        &self,
        actor: &Actor,
        patient: PatientId,
        query: &EntryQuery,
    ) -> Result<Page<MedicalEntry>> {
        let scope = format!("medical/{}/{patient}", actor.user_id());
        let limit = query.page.limit()?;
        let after = self.cursors().after(&scope, &query.page)?;
        if let (Some(from), Some(to)) = (query.filter.from, query.filter.to) {
            if from >= to {
                return Err(Error::invalid("from", "must be before `to`"));
            }
        }
        // Everything the page depends on names the cached entry (the caller is not part of
        // it: the policy decides who may read it, on every read).
        let kinds: Vec<&str> = query.filter.kinds.iter().map(|k| k.as_str()).collect();
        let entry = serde_json::to_string(&("records", kinds, query.filter.from, query.filter.to, after, limit))
            .map_err(Error::internal)?;
        let rows = self
            .read_patient(actor, patient, PatientAction::ReadRecords, &entry, async |conn| {
                medical::list(&mut *conn, patient, &query.filter, after, limit).await
            })
            .await?;
        Ok(self.cursors().page(&scope, rows, limit, medical::list_key))
    }
}
