//! Keyset pagination: no duplicates and no gaps while rows are being inserted.

use std::collections::HashSet;

use serde_json::json;

use crate::helpers::{TestApp, blood_pressure, patient_body, spawn_app};

/// Walks every page of `path`, inserting rows between pages with `insert`.
async fn walk<F, Fut>(app: &TestApp, path: &str, token: &str, mut insert: F) -> Vec<String>
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for page in 0.. {
        let sep = if path.contains('?') { '&' } else { '?' };
        let url = match &cursor {
            Some(c) => format!("{path}{sep}limit=3&cursor={c}"),
            None => format!("{path}{sep}limit=3"),
        };
        let reply = app.get(&url, Some(token)).await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        let items = reply.body["items"].as_array().expect("items");
        assert!(items.len() <= 3);
        seen.extend(items.iter().map(|i| i["id"].as_str().expect("id").to_owned()));
        insert(page).await;
        match reply.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    seen
}

#[tokio::test]
async fn record_pages_have_no_duplicates_or_gaps_while_entries_are_added() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (doctor_id, doctor) = app.doctor(&admin, "cardiology").await;
    let (patient, patient_s) = app.patient("Ada", "Lovelace").await;
    app.grant(&patient_s, patient, doctor_id).await;
    let mut original = HashSet::new();
    for day in 1..=10 {
        let body = json!({ "patient_id": patient, "effective_at": format!("2024-01-{day:02}T08:00:00Z"), "entry": blood_pressure(120.0 + day as f64) });
        original.insert(app.post("/medical_data", Some(&doctor.access), body).await.id().to_string());
    }
    // Same timestamp for several rows: the id breaks the tie.
    for _ in 0..3 {
        let body =
            json!({ "patient_id": patient, "effective_at": "2024-01-05T08:00:00Z", "entry": blood_pressure(130.0) });
        original.insert(app.post("/medical_data", Some(&doctor.access), body).await.id().to_string());
    }

    let seen = walk(&app, &format!("/medical_data/{patient}"), &doctor.access, |page| {
        let (app, token) = (&app, doctor.access.clone());
        async move {
            // New readings (newer than anything) and a back-dated one land while paging.
            let new = json!({ "patient_id": patient, "entry": blood_pressure(110.0) });
            app.post("/medical_data", Some(&token), new).await;
            let old = json!({ "patient_id": patient, "effective_at": format!("2023-06-{:02}T08:00:00Z", page + 1), "entry": blood_pressure(100.0) });
            app.post("/medical_data", Some(&token), old).await;
        }
    })
    .await;
    let unique: HashSet<_> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), seen.len(), "duplicates across pages");
    assert!(original.is_subset(&unique), "rows that existed before paging were skipped");
}

#[tokio::test]
async fn patient_pages_have_no_duplicates_or_gaps_while_patients_are_added() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let mut original = HashSet::new();
    for (i, family) in ["Adams", "Baker", "Clark", "Davis", "Evans", "Baker", "Green", "Hill"].iter().enumerate() {
        let reply = app.post("/patients", Some(&admin.access), patient_body(None, &format!("P{i}"), family)).await;
        original.insert(reply.id().to_string());
    }
    let seen = walk(&app, "/patients", &admin.access, |page| {
        let (app, token) = (&app, admin.access.clone());
        async move {
            for family in ["Aaron", "Zimmer", "Clark"] {
                app.post("/patients", Some(&token), patient_body(None, &format!("New{page}"), family)).await;
            }
        }
    })
    .await;
    let unique: HashSet<_> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), seen.len(), "duplicates across pages");
    assert!(original.is_subset(&unique), "rows that existed before paging were skipped");
}
