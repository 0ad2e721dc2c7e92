//! Embedding the core in a Rust program, without any server.
//!
//! Run against a database with a doctor and a patient in their care:
//! `DATABASE_URL=… MEDCONNECT_DEV=1 cargo run -p medconnect-core --example embed -- <email> <password> <patient-id>`

use medconnect_core::domain::{EntryInput, NewMedicalEntry, PatientId};
use medconnect_core::services::EntryQuery;
use medconnect_core::{ClientAddress, Config, MedConnect};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, email, password, patient] = args.as_slice() else {
        return Err("usage: embed <doctor email> <password> <patient id>".into());
    };
    let patient = PatientId(patient.parse()?);

    let app = MedConnect::connect(Config::from_env()?).await?; // pool + migrations
    let tokens = app.login(email, password, ClientAddress::local()).await?;
    let doctor = app.authenticate(&tokens.access_token).await?;
    app.add_medical_entry(
        &doctor,
        NewMedicalEntry {
            patient_id: patient,
            effective_at: None,
            entry: EntryInput::Observation { code: "8480-6".into(), value: 128.0, unit: "mm[Hg]".into() },
            consultation_id: None,
        },
    )
    .await?;
    let page = app.list_medical_entries(&doctor, patient, &EntryQuery::default()).await?;
    println!("{} entries", page.items.len());
    Ok(())
}
