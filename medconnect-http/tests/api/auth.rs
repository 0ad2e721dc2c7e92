//! Sign-in, tokens, refresh rotation and reuse detection, logout, deactivation.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;

use crate::helpers::{PASSWORD, assert_problem, spawn_app, spawn_app_with};

#[tokio::test]
async fn unknown_email_and_wrong_password_get_the_same_answer() {
    let app = spawn_app().await;
    let (_, patient) = app.patient("Ada", "Lovelace").await;
    let email = app.get("/me", Some(&patient.access)).await.body["email"].as_str().expect("email").to_owned();

    let wrong_password = app.login(&email, "not the right password").await;
    let unknown_email = app.login("nobody@example.org", PASSWORD).await;
    let malformed_email = app.login("not-an-email", PASSWORD).await;
    assert_problem(&wrong_password, 401);
    assert_eq!(wrong_password.body, unknown_email.body);
    assert_eq!(wrong_password.body, malformed_email.body);
}

#[tokio::test]
async fn login_takes_json_and_the_token_endpoint_takes_the_oauth2_password_form() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let email = app.get("/me", Some(&admin.access)).await.body["email"].as_str().expect("email").to_owned();

    let form = app
        .client
        .post(format!("{}/token", app.base))
        .form(&[("grant_type", "password"), ("username", email.as_str()), ("password", PASSWORD)])
        .send()
        .await
        .expect("send");
    assert_eq!(form.status().as_u16(), 200);
    let body: serde_json::Value = form.json().await.expect("json");
    assert_eq!(body["token_type"], "bearer");
    assert!(body["expires_in"].as_i64().is_some_and(|s| s > 0 && s <= 900));
    let me = app.get("/me", body["access_token"].as_str()).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["role"], "admin");

    let wrong_grant = app
        .client
        .post(format!("{}/token", app.base))
        .form(&[("grant_type", "client_credentials"), ("username", email.as_str()), ("password", PASSWORD)])
        .send()
        .await
        .expect("send");
    assert_eq!(wrong_grant.status().as_u16(), 422);
}

#[tokio::test]
async fn tampered_unsigned_wrong_type_and_garbage_tokens_are_rejected() {
    let app = spawn_app().await;
    let (_, patient) = app.patient("Ada", "Lovelace").await;
    let parts: Vec<&str> = patient.access.split('.').collect();
    assert_eq!(parts.len(), 3);
    let payload = String::from_utf8(URL_SAFE_NO_PAD.decode(parts[1]).expect("b64")).expect("utf8");
    assert!(payload.contains("\"role\":\"patient\""));

    let as_admin = URL_SAFE_NO_PAD.encode(payload.replace("\"role\":\"patient\"", "\"role\":\"admin\""));
    let tampered = format!("{}.{}.{}", parts[0], as_admin, parts[2]);
    let none_header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let unsigned = format!("{none_header}.{}.", parts[1]);
    let other_key = spawn_app().await;
    let (_, foreign) = other_key.patient("Eve", "Foreign").await;

    for (name, token) in [
        ("tampered", tampered.as_str()),
        ("alg none", unsigned.as_str()),
        ("refresh token as access token", patient.refresh.as_str()),
        ("signed by another key", foreign.access.as_str()),
        ("garbage", "not.a.token"),
        ("empty", ""),
    ] {
        let reply = app.get("/me", Some(token)).await;
        assert_problem(&reply, 401);
        assert!(!reply.body.to_string().contains(token) || token.is_empty(), "{name}: token echoed");
    }
    let ok = app.get("/me", Some(&patient.access)).await;
    assert_eq!(ok.status, 200);
}

#[tokio::test]
async fn expired_access_tokens_are_rejected() {
    let app = spawn_app_with(|c| c.access_ttl = chrono::Duration::seconds(-5)).await;
    let (_, session) = {
        let email = "late@example.org";
        let reply = app.post("/patients", None, crate::helpers::patient_body(Some(email), "Late", "Comer")).await;
        assert_eq!(reply.status, 201);
        let login = app.login(email, PASSWORD).await;
        (reply.id(), login.body["access_token"].as_str().expect("token").to_owned())
    };
    let reply = app.get("/me", Some(&session)).await;
    assert_problem(&reply, 401);
    assert!(reply.body["detail"].as_str().is_some_and(|d| d.contains("expired")));
}

#[tokio::test]
async fn refresh_rotates_and_a_reused_refresh_token_ends_the_session() {
    let app = spawn_app().await;
    let (_, first) = app.patient("Ada", "Lovelace").await;
    let email = app.get("/me", Some(&first.access)).await.body["email"].as_str().expect("email").to_owned();
    let other_session = app.sign_in(&email).await;

    let rotated = app.post("/token/refresh", None, json!({ "refresh_token": first.refresh })).await;
    assert_eq!(rotated.status, 200, "{:?}", rotated.body);
    let second_refresh = rotated.body["refresh_token"].as_str().expect("refresh").to_owned();
    let second_access = rotated.body["access_token"].as_str().expect("access").to_owned();
    assert_ne!(second_refresh, first.refresh);
    assert_eq!(app.get("/me", Some(&second_access)).await.status, 200);

    // The old token again: someone copied it. The whole family dies.
    let reuse = app.post("/token/refresh", None, json!({ "refresh_token": first.refresh })).await;
    assert_problem(&reuse, 401);
    let after = app.post("/token/refresh", None, json!({ "refresh_token": second_refresh })).await;
    assert_problem(&after, 401);
    assert_problem(&app.get("/me", Some(&second_access)).await, 401);
    assert_problem(&app.get("/me", Some(&first.access)).await, 401);

    // Another session of the same account is untouched.
    assert_eq!(app.get("/me", Some(&other_session.access)).await.status, 200);
}

#[tokio::test]
async fn refresh_tokens_that_are_unknown_or_malformed_are_rejected() {
    let app = spawn_app().await;
    for token in ["mcr_doesnotexist", "", "x".repeat(150).as_str()] {
        let reply = app.post("/token/refresh", None, json!({ "refresh_token": token })).await;
        assert!(reply.status == 401 || reply.status == 400, "{token}: {}", reply.status);
    }
}

#[tokio::test]
async fn logout_ends_the_session_for_access_and_refresh_tokens() {
    let app = spawn_app().await;
    let (_, session) = app.patient("Ada", "Lovelace").await;
    let reply = app.post("/logout", Some(&session.access), json!({})).await;
    assert_eq!(reply.status, 204);
    assert_problem(&app.get("/me", Some(&session.access)).await, 401);
    assert_problem(&app.post("/token/refresh", None, json!({ "refresh_token": session.refresh })).await, 401);
}

#[tokio::test]
async fn a_deactivated_account_cannot_sign_in_and_its_tokens_stop_working() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (_, patient) = app.patient("Ada", "Lovelace").await;
    let email = app.get("/me", Some(&patient.access)).await.body["email"].as_str().expect("email").to_owned();

    let reply = app.post(&format!("/users/{}/deactivate", patient.user_id), Some(&admin.access), json!({})).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body["active"], false);
    assert_problem(&app.get("/me", Some(&patient.access)).await, 401);
    assert_problem(&app.post("/token/refresh", None, json!({ "refresh_token": patient.refresh })).await, 401);
    assert_problem(&app.login(&email, PASSWORD).await, 401);

    let reply = app.post(&format!("/users/{}/activate", patient.user_id), Some(&admin.access), json!({})).await;
    assert_eq!(reply.status, 200);
    assert_eq!(app.login(&email, PASSWORD).await.status, 200);
    // Reactivation does not revive the sessions that deactivation ended.
    assert_problem(&app.get("/me", Some(&patient.access)).await, 401);
}

#[tokio::test]
async fn admins_cannot_deactivate_themselves() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let reply = app.post(&format!("/users/{}/deactivate", admin.user_id), Some(&admin.access), json!({})).await;
    assert_problem(&reply, 422);
    assert_eq!(reply.body["field"], "user_id");
}

#[tokio::test]
async fn repeated_failed_sign_ins_are_throttled_per_email_and_address() {
    let app = spawn_app_with(|c| c.sign_in.per_account_and_address = 3).await;
    let (_, patient) = app.patient("Ada", "Lovelace").await;
    let email = app.get("/me", Some(&patient.access)).await.body["email"].as_str().expect("email").to_owned();
    for _ in 0..3 {
        assert_problem(&app.login(&email, "wrong password guess").await, 401);
    }
    // Even the right password is refused while the window lasts.
    let throttled = app.login(&email.to_uppercase(), PASSWORD).await;
    assert_problem(&throttled, 429);
    // Another account is not affected, and a success clears its own counter.
    let (_, other) = app.patient("Grace", "Hopper").await;
    let other_email = app.get("/me", Some(&other.access)).await.body["email"].as_str().expect("email").to_owned();
    assert_problem(&app.login(&other_email, "wrong password guess").await, 401);
    assert_eq!(app.login(&other_email, PASSWORD).await.status, 200);
    for _ in 0..2 {
        assert_problem(&app.login(&other_email, "wrong password guess").await, 401);
    }
    assert_eq!(app.login(&other_email, PASSWORD).await.status, 200, "the earlier failure was cleared by the success");
}
