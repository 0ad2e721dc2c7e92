//! The unit of work under concurrency: refusals never hold two connections, a revoke and a
//! write that relies on the care it ends are serialised, and cursors cannot be forged.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures_util::future::join_all;

use crate::helpers::{assert_problem, blood_pressure, spawn_app, spawn_app_with};

#[tokio::test]
async fn a_burst_of_refusals_does_not_exhaust_a_small_pool() {
    let app = spawn_app_with(|c| {
        c.max_connections = 2;
        c.acquire_timeout = Duration::from_secs(2);
    })
    .await;
    let admin = app.admin().await;
    let (_, stranger) = app.doctor(&admin, "cardiology").await;
    let (patient, _) = app.patient("Ada", "Lovelace").await;
    let path = format!("/medical_data/{patient}");
    let replies = join_all((0..40).map(|_| app.get(&path, Some(&stranger.access)))).await;
    let statuses: Vec<u16> = replies.iter().map(|r| r.status).collect();
    assert!(statuses.iter().all(|s| *s == 404), "{statuses:?}");
    let denied: i64 = sqlx::query_scalar("select count(*) from audit_log where outcome = 'denied' and patient_id = $1")
        .bind(patient)
        .fetch_one(app.db())
        .await
        .expect("count");
    assert_eq!(denied, 40, "every refusal is audited");
}

#[tokio::test]
async fn a_revoke_waits_for_a_write_that_relied_on_the_care_it_ends() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (doctor, _) = app.doctor(&admin, "cardiology").await;
    let (patient, patient_s) = app.patient("Ada", "Lovelace").await;
    app.grant(&patient_s, patient, doctor).await;
    // A write in flight holds the care relationship as the unit of work does.
    let mut in_flight = app.db().begin().await.expect("begin");
    sqlx::query(
        "select 1 from care_relationships where patient_id = $1 and doctor_id = $2 and revoked_at is null for share",
    )
    .bind(patient)
    .bind(doctor)
    .execute(&mut *in_flight)
    .await
    .expect("lock");
    let revoke = {
        let (app, path, token) =
            (app.clone(), format!("/patients/{patient}/care-team/{doctor}"), patient_s.access.clone());
        tokio::spawn(async move { app.delete(&path, Some(&token)).await.status })
    };
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(!revoke.is_finished(), "the revoke did not wait for the write");
    in_flight.commit().await.expect("commit");
    assert_eq!(revoke.await.expect("task"), 204);
}

#[tokio::test]
async fn a_write_that_meets_a_concurrent_revoke_waits_and_is_refused() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (doctor, doctor_s) = app.doctor(&admin, "cardiology").await;
    let (patient, patient_s) = app.patient("Ada", "Lovelace").await;
    app.grant(&patient_s, patient, doctor).await;
    // A revoke in flight, not yet committed.
    let mut revoking = app.db().begin().await.expect("begin");
    sqlx::query(
        "update care_relationships set revoked_at = now(), revoked_by = $3
         where patient_id = $1 and doctor_id = $2 and revoked_at is null",
    )
    .bind(patient)
    .bind(doctor)
    .bind(patient_s.user_id)
    .execute(&mut *revoking)
    .await
    .expect("revoke");
    let write = {
        let (app, token) = (app.clone(), doctor_s.access.clone());
        tokio::spawn(async move { app.add_entry(&token, patient, blood_pressure(140.0)).await.status })
    };
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(!write.is_finished(), "the write did not wait for the revoke");
    revoking.commit().await.expect("commit");
    assert_eq!(write.await.expect("task"), 404, "the write is refused once the revoke has committed");
    let entries: i64 = sqlx::query_scalar("select count(*) from medical_entries where patient_id = $1")
        .bind(patient)
        .fetch_one(app.db())
        .await
        .expect("count");
    assert_eq!(entries, 0);
}

#[tokio::test]
async fn cursors_cannot_be_forged_or_reused_by_another_caller() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (doctor, doctor_s) = app.doctor(&admin, "cardiology").await;
    let (_, other_doctor) = app.doctor(&admin, "cardiology").await;
    let (target, _) = app.patient("Zed", "Secret").await;
    for name in ["Ada", "Bob", "Cyd"] {
        let (patient, patient_s) = app.patient(name, "Known").await;
        app.grant(&patient_s, patient, doctor).await;
    }
    // The old oracle: a cursor naming a patient outside the caller's care.
    let forged = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&target).expect("json"));
    let reply = app.get(&format!("/patients?cursor={forged}"), Some(&doctor_s.access)).await;
    assert_problem(&reply, 422);
    assert_eq!(reply.body["field"], "cursor");
    assert!(!reply.body.to_string().contains("Secret"));
    // A genuine cursor works for its caller, and for no one else.
    let first = app.get("/patients?limit=1", Some(&doctor_s.access)).await;
    let cursor = first.body["next_cursor"].as_str().expect("cursor").to_owned();
    assert_eq!(app.get(&format!("/patients?limit=1&cursor={cursor}"), Some(&doctor_s.access)).await.status, 200);
    let stolen = app.get(&format!("/patients?limit=1&cursor={cursor}"), Some(&other_doctor.access)).await;
    assert_problem(&stolen, 422);
    // Altering the signed key is caught too.
    let (payload, tag) = cursor.split_once('.').expect("signed cursor");
    let mut bytes = URL_SAFE_NO_PAD.decode(payload).expect("b64");
    bytes[3] ^= 1;
    let altered = format!("{}.{tag}", URL_SAFE_NO_PAD.encode(bytes));
    assert_problem(&app.get(&format!("/patients?cursor={altered}"), Some(&doctor_s.access)).await, 422);
}
