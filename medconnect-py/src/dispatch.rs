//! The use cases a Python session runs, by name, with their arguments as JSON: the core's
//! own request types are deserialised from them (one definition of each, in the core), and
//! the answers serialised back. Sync and async sessions share this one table.

use chrono::{DateTime, Utc};
use medconnect_core::domain::{DoctorId, EntryKind, NewMedicalEntry, PatientId, PredictionKind, Role, UserId};
use medconnect_core::services::{
    DoctorQuery, EntryFilter, EntryQuery, NewApiKey, NewDoctor, NewPatient, PatientQuery, PredictRequest,
};
use medconnect_core::{Actor, Error, MedConnect, PageRequest, Result};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use uuid::Uuid;

/// The arguments of one call.
pub struct Args(Map<String, Value>);

impl Args {
    pub fn new(value: Value) -> Result<Self> {
        match value {
            Value::Object(map) => Ok(Self(map)),
            Value::Null => Ok(Self(Map::new())),
            _ => Err(Error::invalid("arguments", "must be a mapping of names to values")),
        }
    }

    /// A required argument.
    fn get<T: DeserializeOwned>(&self, name: &'static str) -> Result<T> {
        let value = self.0.get(name).cloned().ok_or_else(|| Error::invalid(name, "is required"))?;
        serde_json::from_value(value).map_err(|e| Error::invalid(name, e.to_string()))
    }

    /// An optional argument (absent or `None`).
    fn opt<T: DeserializeOwned>(&self, name: &'static str) -> Result<Option<T>> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(value) => {
                serde_json::from_value(value.clone()).map(Some).map_err(|e| Error::invalid(name, e.to_string()))
            }
        }
    }

    /// The whole mapping as one core request type.
    fn all<T: DeserializeOwned>(&self, what: &'static str) -> Result<T> {
        serde_json::from_value(Value::Object(self.0.clone())).map_err(|e| Error::invalid(what, e.to_string()))
    }

    fn page(&self) -> Result<PageRequest> {
        Ok(PageRequest { cursor: self.opt("cursor")?, limit: self.opt("limit")? })
    }
}

fn json<T: Serialize>(value: T) -> Result<Value> {
    serde_json::to_value(value).map_err(Error::internal)
}

/// Runs the use case `op` as `actor`.
pub async fn dispatch(app: &MedConnect, actor: &Actor, op: &str, args: &Args) -> Result<Value> {
    match op {
        "me" => json(app.me(actor).await?),
        "logout" => json(app.logout(actor).await?),
        "register_patient" => json(app.register_patient(actor, args.all::<NewPatient>("patient")?).await?),
        "get_patient" => json(app.get_patient(actor, PatientId(args.get("patient_id")?)).await?),
        "list_patients" => {
            let query = PatientQuery { name: args.opt("name")?, page: args.page()? };
            json(app.list_patients(actor, &query).await?)
        }
        "care_team" => json(app.care_team(actor, PatientId(args.get("patient_id")?)).await?),
        "grant_care" => {
            let (patient, doctor) = (PatientId(args.get("patient_id")?), DoctorId(args.get("doctor_id")?));
            json(app.grant_care(actor, patient, doctor).await?)
        }
        "revoke_care" => {
            let (patient, doctor) = (PatientId(args.get("patient_id")?), DoctorId(args.get("doctor_id")?));
            json(app.revoke_care(actor, patient, doctor).await?)
        }
        "register_doctor" => json(app.register_doctor(actor, args.all::<NewDoctor>("doctor")?).await?),
        "get_doctor" => json(app.get_doctor(actor, DoctorId(args.get("doctor_id")?)).await?),
        "list_doctors" => {
            let query = DoctorQuery { specialty: args.opt("specialty")?, page: args.page()? };
            json(app.list_doctors(actor, &query).await?)
        }
        "add_entry" => json(app.add_medical_entry(actor, args.all::<NewMedicalEntry>("entry")?).await?),
        "list_entries" => {
            let kinds: Vec<EntryKind> = args.opt("kinds")?.unwrap_or_default();
            let filter =
                EntryFilter { kinds, from: args.opt::<DateTime<Utc>>("from")?, to: args.opt::<DateTime<Utc>>("to")? };
            let query = EntryQuery { filter, page: args.page()? };
            json(app.list_medical_entries(actor, PatientId(args.get("patient_id")?), &query).await?)
        }
        "predict" => {
            let kind: String = args.get("kind")?;
            let inputs: Option<std::collections::BTreeMap<String, f64>> = args.opt("inputs")?;
            let request = PredictRequest {
                patient_id: PatientId(args.get("patient_id")?),
                kind: PredictionKind::parse("kind", &kind)?,
                proposed_drug: args.opt("proposed_drug")?,
                inputs: inputs.unwrap_or_default().into_iter().collect(),
                consultation_id: args.opt::<Uuid>("consultation_id")?.map(Into::into),
            };
            json(app.predict(actor, request).await?)
        }
        "list_predictions" => {
            let kind = match args.opt::<String>("kind")? {
                Some(k) => Some(PredictionKind::parse("kind", &k)?),
                None => None,
            };
            json(app.list_predictions(actor, PatientId(args.get("patient_id")?), kind, &args.page()?).await?)
        }
        "check_interactions" => {
            let drugs: Vec<String> = args.get("drugs")?;
            json(app.check_interactions(actor, &drugs)?)
        }
        "list_accounts" => {
            let role = match args.opt::<String>("role")? {
                Some(r) => {
                    Some(Role::parse(&r).map_err(|_| Error::invalid("role", "must be admin, doctor or patient"))?)
                }
                None => None,
            };
            json(app.list_accounts(actor, role, &args.page()?).await?)
        }
        "set_account_active" => {
            json(app.set_account_active(actor, UserId(args.get("user_id")?), args.get("active")?).await?)
        }
        "create_api_key" => {
            let new = NewApiKey { name: args.get("name")?, expires_at: args.opt("expires_at")? };
            json(app.create_api_key(actor, UserId(args.get("user_id")?), new).await?)
        }
        "list_api_keys" => json(app.list_api_keys(actor, UserId(args.get("user_id")?)).await?),
        "revoke_api_key" => json(app.revoke_api_key(actor, UserId(args.get("user_id")?), args.get("key_id")?).await?),
        _ => Err(Error::invalid("operation", "is not an operation of the client")),
    }
}
