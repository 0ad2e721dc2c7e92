//! Patients, doctors and care teams.

use serde_json::json;

use crate::helpers::{assert_problem, doctor_body, patient_body, spawn_app};

#[tokio::test]
async fn a_doctor_who_registers_a_patient_is_given_their_care() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (doctor_id, doctor) = app.doctor(&admin, "general practice").await;
    let reply = app.post("/patients", Some(&doctor.access), patient_body(None, "Walk", "In")).await;
    assert_eq!(reply.status, 201, "{:?}", reply.body);
    assert!(reply.body["user_id"].is_null(), "no account was asked for");
    let patient = reply.id();

    let team = app.get(&format!("/patients/{patient}/care-team"), Some(&doctor.access)).await;
    assert_eq!(team.status, 200);
    assert_eq!(team.body[0]["doctor_id"], doctor_id.to_string());
    assert_eq!(app.get(&format!("/patients/{patient}"), Some(&doctor.access)).await.status, 200);
}

#[tokio::test]
async fn granting_and_revoking_care_opens_and_closes_the_record() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (doctor_id, doctor) = app.doctor(&admin, "cardiology").await;
    let (patient_id, patient) = app.patient("Ada", "Lovelace").await;
    let record = format!("/medical_data/{patient_id}");

    assert_eq!(app.get(&record, Some(&doctor.access)).await.status, 404);
    app.grant(&patient, patient_id, doctor_id).await;
    app.grant(&patient, patient_id, doctor_id).await; // idempotent
    assert_eq!(app.get(&record, Some(&doctor.access)).await.status, 200);
    let team = app.get(&format!("/patients/{patient_id}/care-team"), Some(&patient.access)).await;
    assert_eq!(team.body.as_array().map(Vec::len), Some(1));

    let revoke = app.delete(&format!("/patients/{patient_id}/care-team/{doctor_id}"), Some(&patient.access)).await;
    assert_eq!(revoke.status, 204);
    assert_eq!(app.get(&record, Some(&doctor.access)).await.status, 404);
    let again = app.delete(&format!("/patients/{patient_id}/care-team/{doctor_id}"), Some(&patient.access)).await;
    assert_problem(&again, 404);
}

#[tokio::test]
async fn care_cannot_be_granted_to_an_unknown_or_deactivated_doctor() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (patient_id, patient) = app.patient("Ada", "Lovelace").await;
    let unknown = uuid::Uuid::new_v4();
    let reply =
        app.post(&format!("/patients/{patient_id}/care-team/{unknown}"), Some(&patient.access), json!({})).await;
    assert_problem(&reply, 404);
    let (doctor_id, _) = app.doctor(&admin, "cardiology").await;
    app.post(&format!("/users/{doctor_id}/deactivate"), Some(&admin.access), json!({})).await;
    let reply =
        app.post(&format!("/patients/{patient_id}/care-team/{doctor_id}"), Some(&patient.access), json!({})).await;
    assert_problem(&reply, 404);
    // A deactivated doctor also leaves the directory.
    assert_problem(&app.get(&format!("/doctors/{doctor_id}"), Some(&patient.access)).await, 404);
}

#[tokio::test]
async fn the_directory_hides_private_contact_details_from_other_users() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (doctor_id, doctor) = app.doctor(&admin, "Cardiology").await;
    app.doctor(&admin, "neurology").await;
    let (_, patient) = app.patient("Ada", "Lovelace").await;

    let seen_by_patient = app.get(&format!("/doctors/{doctor_id}"), Some(&patient.access)).await;
    assert_eq!(seen_by_patient.status, 200);
    assert!(seen_by_patient.body.get("contact").is_none(), "{:?}", seen_by_patient.body);
    assert_eq!(seen_by_patient.body["specialty"], "Cardiology");
    let seen_by_self = app.get(&format!("/doctors/{doctor_id}"), Some(&doctor.access)).await;
    assert_eq!(seen_by_self.body["contact"]["email"], "office@example.org");

    let cardiology = app.get("/doctors?specialty=cardiology", Some(&patient.access)).await;
    let items = cardiology.body["items"].as_array().expect("items");
    assert_eq!(items.len(), 1);
    assert!(items[0].get("contact").is_none());
    let everyone = app.get("/doctors", Some(&patient.access)).await;
    assert_eq!(everyone.body["items"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn duplicate_email_or_licence_number_is_a_conflict_naming_the_field() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let first = app.post("/doctors", Some(&admin.access), doctor_body("dup@example.org", "A1", "x")).await;
    assert_eq!(first.status, 201);
    let same_email = app.post("/doctors", Some(&admin.access), doctor_body("DUP@example.org", "B2", "x")).await;
    assert_problem(&same_email, 409);
    assert_eq!(same_email.body["field"], "email");
    let same_licence = app.post("/doctors", Some(&admin.access), doctor_body("other@example.org", "a1", "x")).await;
    assert_problem(&same_licence, 409);
    assert_eq!(same_licence.body["field"], "licence_number");
    let patient_same_email = app.post("/patients", None, patient_body(Some("Dup@Example.org"), "A", "B")).await;
    assert_problem(&patient_same_email, 409);
    assert_eq!(patient_same_email.body["field"], "email");
    // Nothing was half-written: the failed patient sign-up left no patient behind.
    let all = app.get("/patients", Some(&admin.access)).await;
    assert_eq!(all.body["items"].as_array().map(Vec::len), Some(0));
}

#[tokio::test]
async fn patients_are_listed_by_scope_and_searched_by_name() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (doctor_id, doctor) = app.doctor(&admin, "cardiology").await;
    let (ada_id, ada) = app.patient("Ada", "Lovelace").await;
    let (_, _grace) = app.patient("Grace", "Hopper").await;
    app.grant(&ada, ada_id, doctor_id).await;

    let names = |reply: &crate::helpers::Reply| -> Vec<String> {
        reply.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|p| p["family_name"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    assert_eq!(names(&app.get("/patients", Some(&admin.access)).await), vec!["Hopper", "Lovelace"]);
    assert_eq!(names(&app.get("/patients", Some(&doctor.access)).await), vec!["Lovelace"]);
    assert_eq!(names(&app.get("/patients", Some(&ada.access)).await), vec!["Lovelace"]);
    assert_eq!(names(&app.get("/patients?name=grace", Some(&admin.access)).await), vec!["Hopper"]);
    assert_eq!(names(&app.get("/patients?name=ada%20love", Some(&admin.access)).await), vec!["Lovelace"]);
    assert_eq!(names(&app.get("/patients?name=grace", Some(&doctor.access)).await), Vec::<String>::new());
    assert_eq!(names(&app.get("/patients?name=%25", Some(&admin.access)).await), Vec::<String>::new(), "no wildcard");
}

#[tokio::test]
async fn every_access_to_health_data_is_audited_and_the_chain_verifies() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (doctor_id, doctor) = app.doctor(&admin, "cardiology").await;
    let (patient_id, patient) = app.patient("Ada", "Lovelace").await;
    let (_, stranger) = app.patient("Eve", "Stranger").await;
    app.grant(&patient, patient_id, doctor_id).await;
    app.add_entry(&doctor.access, patient_id, crate::helpers::blood_pressure(130.0)).await;
    app.get(&format!("/medical_data/{patient_id}"), Some(&doctor.access)).await;
    app.get(&format!("/medical_data/{patient_id}"), Some(&stranger.access)).await;

    let log = app.get(&format!("/audit?patient_id={patient_id}&limit=100"), Some(&admin.access)).await;
    assert_eq!(log.status, 200);
    let events: Vec<(String, String)> = log.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| {
            (e["action"].as_str().unwrap_or_default().to_owned(), e["outcome"].as_str().unwrap_or_default().to_owned())
        })
        .collect();
    for expected in [("care.grant", "ok"), ("medical.create", "ok"), ("medical.read", "ok"), ("medical.read", "denied")]
    {
        assert!(
            events.contains(&(expected.0.to_owned(), expected.1.to_owned())),
            "{expected:?} missing from {events:?}"
        );
    }
    let verify = app.get("/audit/verify", Some(&admin.access)).await;
    assert_eq!(verify.body["intact"], true);

    // The log is append-only, even to the database owner's application role.
    let update = sqlx::query("update audit_log set outcome = 'ok'")
        .execute(medconnect_core::test_support::pool(&app.core))
        .await;
    assert!(update.is_err());
}
