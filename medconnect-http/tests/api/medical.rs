//! Medical entries: each kind validated for its own fields, listing and filters.

use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, blood_pressure, spawn_app};

async fn care_setup(app: &TestApp) -> (uuid::Uuid, String, String) {
    let admin = app.admin().await;
    let (doctor_id, doctor) = app.doctor(&admin, "cardiology").await;
    let (patient_id, patient) = app.patient("Ada", "Lovelace").await;
    app.grant(&patient, patient_id, doctor_id).await;
    (patient_id, doctor.access, patient.access)
}

#[tokio::test]
async fn each_kind_of_entry_is_stored_and_read_back() {
    let app = spawn_app().await;
    let (patient, doctor, _) = care_setup(&app).await;
    let entries = [
        json!({ "kind": "observation", "code": "8867-4", "value": 72, "unit": "bpm" }),
        json!({ "kind": "lab_result", "code": "4548-4", "value": 6.1, "unit": "%", "reference_range": "4.0-5.6" }),
        json!({ "kind": "diagnosis", "code": "i10", "description": "Essential hypertension", "onset": "2020-03-01" }),
        json!({ "kind": "medication", "substance": "amlodipine", "dose": "5 mg", "route": "oral", "frequency": "daily", "start": "2020-03-02", "rxnorm": "17767" }),
        json!({ "kind": "allergy", "substance": "penicillin", "reaction": "hives", "severity": "moderate" }),
        json!({ "kind": "note", "text": "Seen for follow-up.\nFeels well." }),
    ];
    for entry in &entries {
        let reply = app.add_entry(&doctor, patient, entry.clone()).await;
        assert_eq!(reply.status, 201, "{entry}: {:?}", reply.body);
        assert_eq!(reply.body["entry"]["kind"], entry["kind"]);
        assert_eq!(reply.body["self_reported"], false);
    }
    let list = app.get(&format!("/medical_data/{patient}"), Some(&doctor)).await;
    let items = list.body["items"].as_array().expect("items");
    assert_eq!(items.len(), 6);
    // Normalised on the way in: unit alias and ICD-10 case.
    let kinds: Vec<&str> = items.iter().map(|i| i["entry"]["kind"].as_str().unwrap_or_default()).collect();
    assert_eq!(kinds, vec!["note", "allergy", "medication", "diagnosis", "lab_result", "observation"], "newest first");
    assert_eq!(items[5]["entry"]["unit"], "/min");
    assert_eq!(items[3]["entry"]["code"], "I10");
    assert_eq!(items[3]["entry"]["status"], "active");
}

#[tokio::test]
async fn invalid_entries_are_refused_naming_the_field_and_nothing_is_written() {
    let app = spawn_app().await;
    let (patient, doctor, _) = care_setup(&app).await;
    let cases: Vec<(Value, &str)> = vec![
        (json!({ "kind": "observation", "code": "8480-5", "value": 120, "unit": "mm[Hg]" }), "code"),
        (json!({ "kind": "observation", "code": "8480-6", "value": 120, "unit": "kPa" }), "unit"),
        (json!({ "kind": "observation", "code": "8480-6", "value": 1200, "unit": "mm[Hg]" }), "value"),
        (json!({ "kind": "lab_result", "code": "2339-0", "value": 5.5, "unit": "" }), "unit"),
        (json!({ "kind": "diagnosis", "code": "HT-1" }), "code"),
        (json!({ "kind": "diagnosis", "code": "I10", "onset": "2999-01-01" }), "onset"),
        (json!({ "kind": "medication", "substance": "", "dose": "5 mg", "start": "2020-01-01" }), "substance"),
        (
            json!({ "kind": "medication", "substance": "amlodipine", "dose": "5 mg", "start": "2020-01-02", "end": "2020-01-01" }),
            "end",
        ),
        (
            json!({ "kind": "medication", "substance": "amlodipine", "dose": "5 mg", "start": "2020-01-02", "rxnorm": "abc" }),
            "rxnorm",
        ),
        (json!({ "kind": "allergy", "substance": "penicillin", "reaction": "  " }), "reaction"),
        (json!({ "kind": "note", "text": "" }), "text"),
    ];
    for (entry, field) in cases {
        let reply = app.add_entry(&doctor, patient, entry.clone()).await;
        assert_problem(&reply, 422);
        assert_eq!(reply.body["field"], field, "{entry}");
    }
    let future = app
        .post(
            "/medical_data",
            Some(&doctor),
            json!({ "patient_id": patient, "effective_at": "2999-01-01T00:00:00Z", "entry": blood_pressure(120.0) }),
        )
        .await;
    assert_problem(&future, 422);
    assert_eq!(future.body["field"], "effective_at");

    let structural: Vec<(Value, &str)> = vec![
        (json!({ "kind": "observation", "code": "8480-6", "unit": "mm[Hg]" }), "entry.value"),
        (json!({ "kind": "observation", "code": "8480-6", "value": "high", "unit": "mm[Hg]" }), "entry.value"),
        (json!({ "kind": "observation", "code": "8480-6", "value": 120, "unit": "mm[Hg]", "extra": 1 }), "extra"),
        (json!({ "kind": "surgery", "text": "x" }), "entry.kind"),
        (json!({ "code": "8480-6", "value": 120, "unit": "mm[Hg]" }), "entry.kind"),
        (json!({ "kind": "medication", "substance": "x", "dose": "1", "start": "2020-02-30" }), "entry.start"),
        (json!({ "kind": "allergy", "substance": "x", "reaction": "y", "severity": "deadly" }), "entry.severity"),
    ];
    for (entry, field) in structural {
        let reply = app.add_entry(&doctor, patient, entry.clone()).await;
        assert_problem(&reply, 400);
        assert_eq!(reply.body["field"], field, "{entry}: {:?}", reply.body);
    }
    let no_patient = app.post("/medical_data", Some(&doctor), json!({ "entry": blood_pressure(120.0) })).await;
    assert_eq!(no_patient.body["field"], "patient_id");
    let bad_patient =
        app.post("/medical_data", Some(&doctor), json!({ "patient_id": "p-1", "entry": blood_pressure(120.0) })).await;
    assert_eq!(bad_patient.body["field"], "patient_id");
    let list = app.get(&format!("/medical_data/{patient}"), Some(&doctor)).await;
    assert_eq!(list.body["items"].as_array().map(Vec::len), Some(0));
}

#[tokio::test]
async fn patients_add_self_reported_entries_to_their_own_record_only() {
    let app = spawn_app().await;
    let (patient, _, patient_token) = care_setup(&app).await;
    let reply = app.add_entry(&patient_token, patient, blood_pressure(118.0)).await;
    assert_eq!(reply.status, 201);
    assert_eq!(reply.body["self_reported"], true);
    let (other, _) = app.patient("Grace", "Hopper").await;
    assert_problem(&app.add_entry(&patient_token, other, blood_pressure(118.0)).await, 404);
}

#[tokio::test]
async fn the_record_filters_by_kind_and_time_range() {
    let app = spawn_app().await;
    let (patient, doctor, _) = care_setup(&app).await;
    for (when, entry) in [
        ("2024-01-10T08:00:00Z", blood_pressure(140.0)),
        ("2024-02-10T08:00:00Z", blood_pressure(135.0)),
        ("2024-03-10T08:00:00Z", json!({ "kind": "note", "text": "ok" })),
    ] {
        let reply = app
            .post(
                "/medical_data",
                Some(&doctor),
                json!({ "patient_id": patient, "effective_at": when, "entry": entry }),
            )
            .await;
        assert_eq!(reply.status, 201);
    }
    let count = |path: String| {
        let app = &app;
        let doctor = doctor.clone();
        async move { app.get(&path, Some(&doctor)).await.body["items"].as_array().map(Vec::len) }
    };
    assert_eq!(count(format!("/medical_data/{patient}?kind=observation")).await, Some(2));
    assert_eq!(count(format!("/medical_data/{patient}?kind=observation&kind=note")).await, Some(3));
    assert_eq!(count(format!("/medical_data/{patient}?from=2024-02-01T00:00:00Z")).await, Some(2));
    assert_eq!(
        count(format!("/medical_data/{patient}?from=2024-02-01T00:00:00Z&to=2024-03-01T00:00:00Z")).await,
        Some(1)
    );
    let inverted = app
        .get(&format!("/medical_data/{patient}?from=2024-03-01T00:00:00Z&to=2024-02-01T00:00:00Z"), Some(&doctor))
        .await;
    assert_problem(&inverted, 422);
    let bad_kind = app.get(&format!("/medical_data/{patient}?kind=surgery"), Some(&doctor)).await;
    assert_problem(&bad_kind, 400);
    assert_eq!(bad_kind.body["field"], "kind");
    let bad_from = app.get(&format!("/medical_data/{patient}?from=yesterday"), Some(&doctor)).await;
    assert_eq!(bad_from.body["field"], "from");
}
