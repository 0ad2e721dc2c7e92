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
    // Two readings: the rule decides on their mean (ESC/ESH: not on one reading).
    for systolic in [158, 154] {
        record(&app, &c, json!({ "kind": "observation", "code": "8480-6", "value": systolic, "unit": "mm[Hg]" })).await;
    }
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
    // Low-dose aspirin with warfarin: the thesaurus's antiplatelet-dose level, not the
    // contraindication of anti-inflammatory doses.
    let aspirin = option("antiplatelet_secondary_prevention", "Aspirin (low dose)");
    assert_eq!(aspirin["status"], "flagged");
    assert_eq!(aspirin["candidates"][0]["reasons"][0]["kind"], "interaction");
    assert_eq!(aspirin["candidates"][0]["reasons"][0]["severity"], "consider");
    let ace = option("blood_pressure_above_target", "ACE inhibitor");
    let ramipril =
        ace["candidates"].as_array().expect("c").iter().find(|c| c["substance"] == "ramipril").cloned().expect("r");
    assert_eq!(ramipril["status"], "excluded");
    assert_eq!(ramipril["reasons"][0]["kind"], "allergy");
    assert!(out["indications"][0]["source"].as_str().is_some_and(|s| s.contains("Guidelines")));
    assert!(out["not_evaluated"].as_array().is_some_and(|n| n.iter().any(|r| r["rule"] == "diabetes_first_line")));
    let inputs = reply.body["inputs"].as_array().expect("inputs");
    let computed: Vec<&str> =
        inputs.iter().filter(|i| i["source"] == "computed").filter_map(|i| i["name"].as_str()).collect();
    assert_eq!(computed, vec!["cardiovascular_risk"], "risks are computed from the record for the plan");
    assert!(out["indications"][0]["measure"].as_str().is_some_and(|m| m.contains("mean")));
}

#[tokio::test]
async fn a_what_if_prediction_is_a_scenario_and_never_drives_the_treatment_rules() {
    let app = spawn_app().await;
    let c = care(&app).await;
    // A 40-year-old woman with a normal recorded blood pressure.
    for (code, value) in [("8480-6", 118), ("8462-4", 76), ("8480-6", 120), ("8462-4", 78)] {
        record(&app, &c, json!({ "kind": "observation", "code": code, "value": value, "unit": "mm[Hg]" })).await;
    }
    let what_if = json!({ "patient_id": c.patient, "kind": "cardiovascular_risk",
                          "inputs": { "age": 79, "sysBP": 250, "currentSmoker": 1, "cigsPerDay": 40, "totChol": 400 } });
    let scenario = app.post("/predict", Some(&c.doctor), what_if).await;
    assert_eq!(scenario.status, 201, "{:?}", scenario.body);
    assert_eq!(scenario.body["scenario"], true);
    assert!(scenario.body["output"]["probability"].as_f64().is_some_and(|p| p > 0.2), "{:?}", scenario.body);
    let listed = app.get(&format!("/predictions/{}", c.patient), Some(&c.patient_token)).await;
    assert_eq!(listed.body["items"][0]["scenario"], true, "listed as a scenario");

    let plan =
        app.post("/predict", Some(&c.doctor), json!({ "patient_id": c.patient, "kind": "treatment_options" })).await;
    assert_eq!(plan.status, 201);
    assert_eq!(plan.body["scenario"], false);
    let rules: Vec<&str> = plan.body["output"]["indications"]
        .as_array()
        .expect("indications")
        .iter()
        .filter_map(|i| i["rule"].as_str())
        .collect();
    assert!(!rules.contains(&"statin_for_cardiovascular_risk"), "the what-if drove the plan: {rules:?}");
    let record_based =
        app.post("/predict", Some(&c.doctor), json!({ "patient_id": c.patient, "kind": "cardiovascular_risk" })).await;
    assert_eq!(record_based.body["scenario"], false);
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

    // At 70 with 20 cigarettes a day (given, not recorded) the risk is high, but that is a
    // what-if: stored as a scenario, and never read by a rule.
    assert!(probability > 0.3, "probability {probability}");
    assert_eq!(p["scenario"], true);
    assert_eq!(p["model"]["horizon"], "10 years");
    assert!(p["model"]["band_source"].as_str().is_some_and(|s| s.contains("ATP III")));
    let plan =
        app.post("/predict", Some(&c.doctor), json!({ "patient_id": c.patient, "kind": "treatment_options" })).await;
    let statin = plan.body["output"]["indications"]
        .as_array()
        .expect("indications")
        .iter()
        .find(|i| i["rule"] == "statin_for_cardiovascular_risk")
        .cloned()
        .expect("the statin rule fires");
    // It fires from the record: type 2 diabetes at 40 (ADA: statin from 40 to 75).
    let evidence = statin["evidence"].to_string();
    assert!(evidence.contains("diabetes") && evidence.contains("age 40"), "{evidence}");
    // ("age 70", not "70": an entry id in the evidence may contain those digits.)
    assert!(!evidence.contains("age 70"), "the what-if's age is not the patient's: {evidence}");
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

#[tokio::test]
async fn implausible_and_mistyped_inputs_are_refused_naming_the_input() {
    let app = spawn_app().await;
    let c = care(&app).await;
    for systolic in [150, 148] {
        record(&app, &c, json!({ "kind": "observation", "code": "8480-6", "value": systolic, "unit": "mm[Hg]" })).await;
    }
    // Each of these answered 201 before the plausibility table.
    for (name, value) in [("age", json!(500)), ("sysBP", json!(-5)), ("sysBP", json!(1e6)), ("male", json!(7))] {
        let body = json!({ "patient_id": c.patient, "kind": "cardiovascular_risk", "inputs": { name: value } });
        let reply = app.post("/predict", Some(&c.doctor), body).await;
        assert_problem(&reply, 422);
        assert_eq!(reply.body["field"], format!("inputs.{name}"));
        let detail = reply.body["detail"].as_str().unwrap_or_default().to_owned();
        assert!(detail.contains("plausible range") || detail.contains("0 or 1"), "{detail}");
    }
    // Not numbers at all: refused against the spec, naming the input.
    for value in [json!("high"), json!(null)] {
        let body = json!({ "patient_id": c.patient, "kind": "cardiovascular_risk", "inputs": { "sysBP": value } });
        let reply = app.post("/predict", Some(&c.doctor), body).await;
        assert!([400, 422].contains(&reply.status), "{:?}", reply.body);
        assert!(reply.body.to_string().contains("sysBP"), "{:?}", reply.body);
    }
    // Recorded values the models read are checked when written.
    for (code, value, unit) in [("10230-1", 500, "%"), ("2951-2", -40, "mmol/L"), ("777-3", -5, "10*3/uL")] {
        let reply = app
            .add_entry(
                &c.doctor,
                c.patient,
                json!({ "kind": "lab_result", "code": code, "value": value, "unit": unit }),
            )
            .await;
        assert_problem(&reply, 422);
        assert_eq!(reply.body["field"], "value", "{code}");
    }
    let glucose = app
        .add_entry(
            &c.doctor,
            c.patient,
            json!({ "kind": "lab_result", "code": "2345-7", "value": 7.0, "unit": "mg/dL" }),
        )
        .await;
    assert_problem(&glucose, 422);
    assert!(glucose.body["detail"].as_str().is_some_and(|d| d.contains("mmol/L")));
    // A 40-year-old woman: the diabetes model applies; a man would be refused (tested in the core).
    let young = json!({ "patient_id": c.patient, "kind": "cardiovascular_risk", "inputs": { "age": 25 } });
    let reply = app.post("/predict", Some(&c.doctor), young).await;
    assert_eq!(reply.status, 201, "{:?}", reply.body);
    assert!(reply.body["output"]["warnings"][0].as_str().is_some_and(|w| w.contains("32 to 70")));
}
