//! The doctor directory.

use medconnect_core::MedConnect;
use medconnect_core::domain::{Doctor, DoctorId};
use medconnect_core::services::{DoctorQuery, NewDoctor};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

use super::types::{EmailText, PasswordText};
use super::types::{page_of, page_request};
use super::{ApiTags, Auth};
use crate::problem::{ApiResult, DoctorReadErrors, DoctorRegistrationErrors, ListErrors};

/// A doctor to register, with the account they will sign in with. No `Debug`: it holds a password.
#[derive(Object)]
#[oai(skip_serializing_if_is_none, deny_unknown_fields, example)]
pub struct NewDoctorRequest {
    #[oai(validator(max_length = 254))]
    pub email: EmailText,
    /// At least 12 characters.
    #[oai(write_only, validator(max_length = 1024))]
    pub password: PasswordText,
    #[oai(validator(max_length = 100))]
    pub given_name: String,
    #[oai(validator(max_length = 100))]
    pub family_name: String,
    #[oai(validator(max_length = 100))]
    pub specialty: String,
    /// Unique, letters, digits and dashes.
    #[oai(validator(max_length = 40))]
    pub licence_number: String,
    /// Private: shown only to the doctor and administrators.
    #[oai(validator(max_length = 32))]
    pub phone: Option<String>,
    /// Private: shown only to the doctor and administrators.
    #[oai(validator(max_length = 254))]
    pub contact_email: Option<EmailText>,
}

impl poem_openapi::types::Example for NewDoctorRequest {
    fn example() -> Self {
        Self {
            email: "house@example.org".into(),
            password: "vicodin and canes".into(),
            given_name: "Gregory".into(),
            family_name: "House".into(),
            specialty: "Diagnostics".into(),
            licence_number: "NJ-12345".into(),
            phone: Some("+1 609 555 0100".into()),
            contact_email: Some("diagnostics@princeton-plainsboro.example".into()),
        }
    }
}

impl From<NewDoctorRequest> for NewDoctor {
    fn from(r: NewDoctorRequest) -> Self {
        NewDoctor {
            email: r.email.0,
            password: r.password.0,
            given_name: r.given_name,
            family_name: r.family_name,
            specialty: r.specialty,
            licence_number: r.licence_number,
            phone: r.phone,
            contact_email: r.contact_email.map(|e| e.0),
        }
    }
}

/// A doctor's private contact details.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct DoctorContactView {
    pub email: Option<EmailText>,
    pub phone: Option<String>,
}

/// A doctor as the directory shows them. `contact` (private details) is present only for
/// the doctor themself and administrators.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none, rename = "Doctor")]
pub struct DoctorView {
    pub id: Uuid,
    pub given_name: String,
    pub family_name: String,
    pub specialty: String,
    pub licence_number: String,
    pub contact: Option<DoctorContactView>,
}

impl From<Doctor> for DoctorView {
    fn from(d: Doctor) -> Self {
        Self {
            id: d.id.0,
            given_name: d.given_name,
            family_name: d.family_name,
            specialty: d.specialty,
            licence_number: d.licence_number,
            contact: d.contact.map(|c| DoctorContactView { email: c.email.map(Into::into), phone: c.phone }),
        }
    }
}

page_of!(DoctorPage, DoctorView, "A page of the doctor directory, by family name.");

#[derive(ApiResponse)]
pub enum DoctorCreated {
    /// The doctor and their account were created.
    #[oai(status = 201)]
    Created(Json<DoctorView>),
}

#[derive(Default)]
pub struct DoctorsApi;

#[OpenApi(tag = "ApiTags::Doctors")]
impl DoctorsApi {
    /// Register a doctor (administrators)
    ///
    /// Creates the doctor's directory entry and the account they sign in with. The licence
    /// number and the e-mail must be unique (409 names which is taken).
    #[oai(path = "/doctors", method = "post", operation_id = "create_doctor")]
    async fn create(
        &self,
        app: Data<&MedConnect>,
        auth: Auth,
        body: Json<NewDoctorRequest>,
    ) -> ApiResult<DoctorCreated, DoctorRegistrationErrors> {
        let doctor = app.register_doctor(&auth.0, body.0.into()).await?;
        Ok(DoctorCreated::Created(Json(doctor.into())))
    }

    /// A doctor's directory entry
    ///
    /// Any signed-in user; private contact details only for the doctor themself and
    /// administrators. Deactivated doctors are not listed (404).
    #[oai(path = "/doctors/:doctor_id", method = "get", operation_id = "get_doctor")]
    async fn get(
        &self,
        app: Data<&MedConnect>,
        auth: Auth,
        doctor_id: Path<Uuid>,
    ) -> ApiResult<Json<DoctorView>, DoctorReadErrors> {
        Ok(Json(app.get_doctor(&auth.0, DoctorId(doctor_id.0)).await?.into()))
    }

    /// Browse the doctor directory
    ///
    /// Any signed-in user, sorted by family name, optionally for one specialty;
    /// cursor-paginated.
    #[oai(path = "/doctors", method = "get", operation_id = "list_doctors")]
    async fn list(
        &self,
        app: Data<&MedConnect>,
        auth: Auth,
        /// Only doctors of this specialty (case-insensitive).
        specialty: Query<Option<String>>,
        /// `next_cursor` of the previous page; absent for the first page.
        cursor: Query<Option<String>>,
        /// Page size (default 20).
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<u32>>,
    ) -> ApiResult<Json<DoctorPage>, ListErrors> {
        let query = DoctorQuery { specialty: specialty.0, page: page_request(cursor.0, limit.0) };
        Ok(Json(app.list_doctors(&auth.0, &query).await?.into()))
    }
}
