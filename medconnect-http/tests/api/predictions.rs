//! `POST /predict` for drug interactions and treatment options; stored predictions and reviews.

use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, spawn_app};

struct Care {
    patient: uuid::Uuid,
    doctor: String,
    patient_token: String,
}

async fn care(app: &TestApp) -> Care {
    let admin = app.admin().await;
    let (doctor_id, doctor) = app.doctor(&admin, "cardiology").await;
    let (patient, patient_s) = app.patient("Ada", "Lovelace").await;
    app.grant(&patient_s, patient, doctor_id).await;
    Care { patient, doctor: doctor.access, patient_token: patient_s.access }
}

async fn record(app: &TestApp, c: &Care, entry: Value) -> String {
    let reply = app.add_entry(&c.doctor, c.patient, entry).await;
    assert_eq!(reply.status, 201, "{:?}", reply.body);
    reply.id().to_string()
}

#[tokio::test]
async fn a_proposed_drug_is_checked_against_the_active_medications_and_the_result_is_stored() {
    let app = spawn_app().await;
    let c = care(&app).await;
    let warfarin = record(
        &app,
        &c,
        json!({ "kind": "medication", "substance": "warfarine", "dose": "5 mg", "start": "2024-01-01" }),
    )
    .await;
    record(&app, &c, json!({ "kind": "medication", "substance": "amlodipine", "dose": "5 mg", "start": "2020-01-01", "end": "2020-06-01" })).await;

    let reply = app
        .post(
            "/predict",
            Some(&c.doctor),
            json!({ "patient_id": c.patient, "kind": "drug_interactions", "proposed_drug": "aspirin" }),
        )
        .await;
    assert_eq!(reply.status, 201, "{:?}", reply.body);
    let p = &reply.body;
    assert_eq!(p["kind"], "drug_interactions");
    assert_eq!(p["model"]["name"], "ansm-interaction-thesaurus");
    assert!(p["model"]["version"].as_str().is_some_and(|v| v.contains("ANSM")));
    let inputs = p["inputs"].as_array().expect("inputs");
    assert_eq!(inputs.len(), 2, "the ended medication is not active: {inputs:?}");
    assert_eq!(inputs[0]["entry_id"], warfarin.as_str());
    assert_eq!(inputs[1]["source"], "request");
    let pairs = p["output"]["interactions"]["pairs"].as_array().expect("pairs");
    assert_eq!(pairs.len(), 1);
    assert_eq!(pairs[0]["severity"], "contraindicated");
    assert_eq!(p["output"]["proposed_drug"], "aspirin");

    let stored = app.get(&format!("/predictions/{}", c.patient), Some(&c.patient_token)).await;
    assert_eq!(stored.status, 200);
    assert_eq!(stored.body["items"][0]["id"], p["id"]);
    assert_eq!(stored.body["items"][0]["output"]["interactions"]["pairs"][0]["severity"], "contraindicated");
}

#[tokio::test]
async fn treatment_options_follow_the_record_and_are_screened_against_medications_and_allergies() {
    let app = spawn_app().await;
    let c = care(&app).await;
    record(&app, &c, json!({ "kind": "observation", "code": "8480-6", "value": 158, "unit": "mm[Hg]" })).await;
    record(&app, &c, json!({ "kind": "diagnosis", "code": "I25.1" })).await;
    record(&app, &c, json!({ "kind": "medication", "substance": "warfarine", "dose": "5 mg", "start": "2024-01-01" }))
        .await;
    record(
        &app,
        &c,
        json!({ "kind": "allergy", "substance": "ramipril", "reaction": "angioedema", "severity": "severe" }),
    )
    .await;

    let reply =
        app.post("/predict", Some(&c.doctor), json!({ "patient_id": c.patient, "kind": "treatment_options" })).await;
    assert_eq!(reply.status, 201, "{:?}", reply.body);
    let out = &reply.body["output"];
    let rules: Vec<&str> =
        out["indications"].as_array().expect("indications").iter().filter_map(|i| i["rule"].as_str()).collect();
    assert!(
        rules.contains(&"blood_pressure_above_target") && rules.contains(&"antiplatelet_secondary_prevention"),
        "{rules:?}"
    );
    let option = |rule: &str, name: &str| -> Value {
        out["indications"].as_array().expect("indications").iter().find(|i| i["rule"] == rule).expect("rule")["options"]
            .as_array()
            .expect("options")
            .iter()
            .find(|o| o["name"] == name)
            .cloned()
            .expect("option")
    };
    let aspirin = option("antiplatelet_secondary_prevention", "Aspirin (low dose)");
    assert_eq!(aspirin["status"], "excluded");
    assert_eq!(aspirin["candidates"][0]["reasons"][0]["kind"], "interaction");
    let ace = option("blood_pressure_above_target", "ACE inhibitor");
    let ramipril =
        ace["candidates"].as_array().expect("c").iter().find(|c| c["substance"] == "ramipril").cloned().expect("r");
    assert_eq!(ramipril["status"], "excluded");
    assert_eq!(ramipril["reasons"][0]["kind"], "allergy");
    assert!(out["indications"][0]["source"].as_str().is_some_and(|s| s.contains("Guidelines")));
    assert!(out["not_evaluated"].as_array().is_some_and(|n| n.iter().any(|r| r["rule"] == "diabetes_first_line")));
    assert!(reply.body["inputs"].as_array().is_some_and(|i| i.len() == 4));
}

#[tokio::test]
async fn predictions_are_reviewed_by_doctors_in_care_and_requests_are_validated() {
    let app = spawn_app().await;
    let c = care(&app).await;
    let made =
        app.post("/predict", Some(&c.doctor), json!({ "patient_id": c.patient, "kind": "drug_interactions" })).await;
    assert_eq!(made.status, 201);
    let id = made.id();
    assert!(made.body["review"].is_null());

    let by_patient =
        app.post(&format!("/predictions/{id}/review"), Some(&c.patient_token), json!({ "comment": "ok" })).await;
    assert_problem(&by_patient, 403);
    let reviewed = app
        .post(
            &format!("/predictions/{id}/review"),
            Some(&c.doctor),
            json!({ "comment": "Discussed with the patient." }),
        )
        .await;
    assert_eq!(reviewed.status, 200, "{:?}", reviewed.body);
    assert_eq!(reviewed.body["review"]["comment"], "Discussed with the patient.");
    let listed = app.get(&format!("/predictions/{}?kind=drug_interactions", c.patient), Some(&c.doctor)).await;
    assert!(listed.body["items"][0]["review"]["reviewed_at"].is_string());

    let wrong = app
        .post(
            "/predict",
            Some(&c.doctor),
            json!({ "patient_id": c.patient, "kind": "treatment_options", "proposed_drug": "aspirin" }),
        )
        .await;
    assert_problem(&wrong, 422);
    assert_eq!(wrong.body["field"], "proposed_drug");
    let unknown_kind =
        app.post("/predict", Some(&c.doctor), json!({ "patient_id": c.patient, "kind": "horoscope" })).await;
    assert_problem(&unknown_kind, 400);
    assert_eq!(unknown_kind.body["field"], "kind");
    let by_patient = app
        .post("/predict", Some(&c.patient_token), json!({ "patient_id": c.patient, "kind": "drug_interactions" }))
        .await;
    assert_problem(&by_patient, 403);
}

#[tokio::test]
async fn risk_predictions_read_the_record_report_what_is_missing_and_feed_the_treatment_rules() {
    let app = spawn_app().await;
    let c = care(&app).await;
    let missing =
        app.post("/predict", Some(&c.doctor), json!({ "patient_id": c.patient, "kind": "cardiovascular_risk" })).await;
    assert_problem(&missing, 422);
    assert_eq!(missing.body["field"], "sysBP", "systolic pressure is required");

    let bp = record(&app, &c, json!({ "kind": "observation", "code": "8480-6", "value": 178, "unit": "mm[Hg]" })).await;
    record(&app, &c, json!({ "kind": "lab_result", "code": "2093-3", "value": 7.2, "unit": "mmol/L" })).await;
    record(&app, &c, json!({ "kind": "diagnosis", "code": "E11.9" })).await;
    let body = json!({ "patient_id": c.patient, "kind": "cardiovascular_risk", "inputs": { "age": 70, "cigsPerDay": 20, "currentSmoker": 1 } });
    let reply = app.post("/predict", Some(&c.doctor), body).await;
    assert_eq!(reply.status, 201, "{:?}", reply.body);
    let p = &reply.body;
    assert_eq!(p["model"]["name"], "cardiovascular_risk-logistic-l2");
    let probability = p["output"]["probability"].as_f64().expect("probability");
    assert!((0.0..=1.0).contains(&probability));
    assert!(p["output"]["band"].is_string());
    assert_eq!(p["output"]["top_factors"].as_array().map(Vec::len), Some(3));
    assert!(p["output"]["explanation_method"].as_str().is_some_and(|m| m.contains("coefficient")));
    let input =
        |name: &str| p["inputs"].as_array().expect("inputs").iter().find(|i| i["name"] == name).cloned().expect(name);
    assert_eq!(input("sysBP")["entry_id"], bp.as_str());
    assert_eq!(
        input("totChol")["value"].as_str().map(|v| v.parse::<f64>().expect("number").round()),
        Some(278.0),
        "7.2 mmol/L in mg/dL"
    );
    assert_eq!(input("cigsPerDay")["source"], "request");
    assert_eq!(input("diabetes")["value"], "1");
    assert_eq!(input("male")["source"], "profile");
    assert!(p["output"]["missing"].as_array().is_some_and(|m| m.iter().any(|f| f == "heartRate")));

    let unknown = app
        .post(
            "/predict",
            Some(&c.doctor),
            json!({ "patient_id": c.patient, "kind": "diabetes_risk", "inputs": { "horoscope": 1 } }),
        )
        .await;
    assert_problem(&unknown, 422);
    assert_eq!(unknown.body["field"], "inputs.horoscope");

    // This record at 70 (systolic 178 mmHg, cholesterol 278 mg/dL, diabetes, 20 cigarettes a day)
    // is well above the statin rule's 20 % threshold, so the rule must fire.
    assert!(probability > 0.3, "probability {probability}");
    let plan =
        app.post("/predict", Some(&c.doctor), json!({ "patient_id": c.patient, "kind": "treatment_options" })).await;
    let statin_rule = plan.body["output"]["indications"]
        .as_array()
        .expect("indications")
        .iter()
        .any(|i| i["rule"] == "statin_for_cardiovascular_risk");
    let not_evaluated = plan.body["output"]["not_evaluated"]
        .as_array()
        .expect("list")
        .iter()
        .any(|i| i["rule"] == "statin_for_cardiovascular_risk");
    assert!(!not_evaluated, "a stored cardiovascular_risk prediction exists");
    assert!(statin_rule, "the statin rule fires on a stored risk of {probability}");
}

#[tokio::test]
async fn decision_support_reads_the_whole_record_however_long() {
    let app = spawn_app().await;
    let c = care(&app).await;
    // The only cholesterol is older than 5,000 recent readings (decision support once read
    // only the newest 5,000 entries and would have imputed it).
    record(&app, &c, json!({ "kind": "observation", "code": "8480-6", "value": 150, "unit": "mm[Hg]" })).await;
    let ten_months_ago = (chrono::Utc::now() - chrono::Duration::days(300)).to_rfc3339();
    let body = json!({ "patient_id": c.patient, "effective_at": ten_months_ago,
                       "entry": { "kind": "lab_result", "code": "2093-3", "value": 250, "unit": "mg/dL" } });
    let reply = app.post("/medical_data", Some(&c.doctor), body).await;
    assert_eq!(reply.status, 201, "{:?}", reply.body);
    let chol = reply.id().to_string();
    let author: uuid::Uuid = sqlx::query_scalar("select author_id from medical_entries where id = $1::uuid")
        .bind(&chol)
        .fetch_one(app.db())
        .await
        .expect("author");
    sqlx::query(
        "insert into medical_entries (id, patient_id, kind, effective_at, author_id, self_reported, code, value, unit, details)
         select gen_random_uuid(), $1, 'observation', now() - (n || ' minutes')::interval, $2, false, '8867-4', 70, '/min',
                jsonb_build_object('kind', 'observation', 'code', '8867-4', 'value', 70, 'unit', '/min')
         from generate_series(1, 5001) as n",
    )
    .bind(c.patient)
    .bind(author)
    .execute(app.db())
    .await
    .expect("5,001 heart-rate readings");
    let reply =
        app.post("/predict", Some(&c.doctor), json!({ "patient_id": c.patient, "kind": "cardiovascular_risk" })).await;
    assert_eq!(reply.status, 201, "{:?}", reply.body);
    let inputs = reply.body["inputs"].as_array().expect("inputs");
    let chol_input = inputs.iter().find(|i| i["name"] == "totChol").expect("totChol");
    assert_eq!(chol_input["entry_id"], chol.as_str(), "read from the record, not imputed: {chol_input}");
}
