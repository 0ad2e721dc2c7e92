//! API keys: issued by administrators, shown once, stored as digests, acting as their
//! account over HTTP, refused at once on every instance when revoked, expired or when the
//! account is deactivated.

use chrono::{Duration, Utc};
use serde_json::json;
use uuid::Uuid;

use crate::helpers::{assert_problem, spawn_app, spawn_app_on};

#[tokio::test]
async fn a_key_acts_as_its_account_until_it_is_revoked_on_every_instance() {
    let db = crate::helpers::create_test_database().await;
    let keys = medconnect_core::SecretKey::random();
    let a = spawn_app_on(&db, keys.clone(), |_| {}).await;
    let b = spawn_app_on(&db, keys, |_| {}).await;
    let admin = a.admin().await;
    let (doctor, _) = a.doctor(&admin, "cardiology").await;
    let (patient, patient_s) = a.patient("Ada", "Lovelace").await;
    a.grant(&patient_s, patient, doctor).await;

    let issued =
        a.post(&format!("/users/{doctor}/api-keys"), Some(&admin.access), json!({ "name": "lab import" })).await;
    assert_eq!(issued.status, 201, "{:?}", issued.body);
    let key = issued.body["key"].as_str().expect("key").to_owned();
    let key_id = issued.body["api_key"]["id"].as_str().expect("id").to_owned();
    assert_eq!(issued.body["api_key"]["created_by"], json!(admin.user_id));

    // It acts as the doctor, on both instances, with the doctor's access.
    for app in [&a, &b] {
        let me = app.get("/me", Some(&key)).await;
        assert_eq!(me.status, 200);
        assert_eq!(me.body["id"], json!(doctor));
        assert_eq!(app.get(&format!("/medical_data/{patient}"), Some(&key)).await.status, 200);
    }
    // Only its digest is stored; the list never shows the secret.
    let stored: Vec<Vec<u8>> =
        sqlx::query_scalar("select key_hash from api_keys").fetch_all(a.db()).await.expect("rows");
    assert_eq!(stored.len(), 1);
    assert!(!stored[0].windows(8).any(|w| key.as_bytes().windows(8).any(|k| k == w)));
    let listed = a.get(&format!("/users/{doctor}/api-keys"), Some(&admin.access)).await;
    assert_eq!(listed.status, 200);
    assert_eq!(listed.body[0]["id"], json!(key_id));
    assert!(!listed.body.to_string().contains(&key));

    // Revoked on A: refused at once on A and B (both had it cached).
    let revoked = a.delete(&format!("/users/{doctor}/api-keys/{key_id}"), Some(&admin.access)).await;
    assert_eq!(revoked.status, 204);
    for app in [&a, &b] {
        let reply = app.get("/me", Some(&key)).await;
        assert_problem(&reply, 401);
        assert!(!reply.body.to_string().contains(&key), "the key is never echoed");
    }
    let again = a.delete(&format!("/users/{doctor}/api-keys/{key_id}"), Some(&admin.access)).await;
    assert_problem(&again, 404);

    let actions: Vec<String> =
        sqlx::query_scalar("select action from audit_log where action like 'api_key.%' order by seq")
            .fetch_all(a.db())
            .await
            .expect("audit");
    assert_eq!(actions, vec!["api_key.create", "api_key.revoke"]);
}

#[tokio::test]
async fn keys_stop_at_their_expiry_and_with_their_account() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (doctor, _) = app.doctor(&admin, "cardiology").await;
    let body = json!({ "name": "short lived", "expires_at": Utc::now() + Duration::hours(1) });
    let expiring = app.post(&format!("/users/{doctor}/api-keys"), Some(&admin.access), body).await;
    let expiring = expiring.body["key"].as_str().expect("key").to_owned();
    let lasting =
        app.post(&format!("/users/{doctor}/api-keys"), Some(&admin.access), json!({ "name": "lasting" })).await;
    let lasting = lasting.body["key"].as_str().expect("key").to_owned();
    assert_eq!(app.get("/me", Some(&expiring)).await.status, 200);
    medconnect_core::test_support::advance_clock(&app.core, Duration::hours(2));
    assert_problem(&app.get("/me", Some(&expiring)).await, 401);
    assert_eq!(app.get("/me", Some(&lasting)).await.status, 200);

    let off = app.post(&format!("/users/{doctor}/deactivate"), Some(&admin.access), json!({})).await;
    assert_eq!(off.status, 200);
    assert_problem(&app.get("/me", Some(&lasting)).await, 401);
}

#[tokio::test]
async fn only_administrators_issue_keys_and_bad_keys_are_refused() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (doctor, doctor_s) = app.doctor(&admin, "cardiology").await;
    let mine = app.post(&format!("/users/{doctor}/api-keys"), Some(&doctor_s.access), json!({ "name": "mine" })).await;
    assert_problem(&mine, 403);
    let unknown =
        app.post(&format!("/users/{}/api-keys", Uuid::new_v4()), Some(&admin.access), json!({ "name": "x" })).await;
    assert_problem(&unknown, 404);
    let blank = app.post(&format!("/users/{doctor}/api-keys"), Some(&admin.access), json!({ "name": " " })).await;
    assert_problem(&blank, 422);
    assert_eq!(blank.body["field"], "name");
    let past = json!({ "name": "x", "expires_at": Utc::now() - Duration::hours(1) });
    let past = app.post(&format!("/users/{doctor}/api-keys"), Some(&admin.access), past).await;
    assert_eq!(past.body["field"], "expires_at");

    let real = app.post(&format!("/users/{doctor}/api-keys"), Some(&admin.access), json!({ "name": "real" })).await;
    let real = real.body["key"].as_str().expect("key").to_owned();
    // Altered, forged for another account, or not a key at all.
    let mut altered = real.clone();
    altered.pop();
    altered.push(if real.ends_with('A') { 'B' } else { 'A' });
    let (_, secret) = real.rsplit_once('_').expect("parts");
    let other_account = format!("mck_{}_{secret}", admin.user_id.simple());
    for bad in [altered, other_account, "mck_".into(), "mck_nothex_abc".into(), format!("mck_{}", "x".repeat(500))] {
        assert_problem(&app.get("/me", Some(&bad)).await, 401);
    }
}
