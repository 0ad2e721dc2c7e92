//! Bounded sign-in work, tried like an attacker: parallel bursts against the limits,
//! guesses from other source addresses (any 127.x works on loopback), spoofed
//! `X-Forwarded-For`, bytes PostgreSQL cannot store, and a full queue of password hashers.

use futures_util::future::join_all;
use serde_json::json;

use crate::helpers::{PASSWORD, TestApp, assert_problem, patient_body, spawn_app_with};

async fn email_of(app: &TestApp, token: &str) -> String {
    app.get("/me", Some(token)).await.body["email"].as_str().expect("email").to_owned()
}

#[tokio::test]
async fn a_burst_of_parallel_guesses_gets_at_most_the_limit_checked() {
    let app = spawn_app_with(|c| c.sign_in.per_account_and_address = 5).await;
    let (_, patient) = app.patient("Ada", "Lovelace").await;
    let email = email_of(&app, &patient.access).await;
    let guesses: Vec<String> = (0..40).map(|i| format!("wrong guess {i}")).collect();
    let replies = join_all(guesses.iter().map(|guess| app.login(&email, guess))).await;
    let checked = replies.iter().filter(|r| r.status == 401).count();
    let throttled: Vec<_> = replies.iter().filter(|r| r.status == 429).collect();
    assert!(checked <= 5, "{checked} guesses were checked");
    assert_eq!(checked + throttled.len(), 40, "{:?}", replies.iter().map(|r| r.status).collect::<Vec<_>>());
    for reply in &throttled {
        assert_problem(reply, 429);
        let wait = reply.retry_after.expect("Retry-After on 429");
        assert!((1..=900).contains(&wait), "Retry-After {wait}");
    }
    // The right password from the same place waits too; the owner elsewhere does not.
    assert_problem(&app.login(&email, PASSWORD).await, 429);
    assert_eq!(app.seen_from("127.0.0.2").login(&email, PASSWORD).await.status, 200);
}

#[tokio::test]
async fn guesses_spread_over_many_emails_are_limited_per_address() {
    let app = spawn_app_with(|c| c.sign_in.per_address = 10).await;
    let attacker = app.seen_from("127.0.0.3");
    let mut statuses = Vec::new();
    for i in 0..15 {
        statuses.push(attacker.login(&format!("victim{i}@example.org"), "a guessed password").await.status);
    }
    assert_eq!(&statuses[..10], &[401; 10], "{statuses:?}");
    assert!(statuses[10..].iter().all(|s| *s == 429), "{statuses:?}");
    let elsewhere = app.seen_from("127.0.0.4");
    assert_eq!(elsewhere.login("victim0@example.org", "a guessed password").await.status, 401);
}

#[tokio::test]
async fn successful_sign_ins_from_a_shared_address_never_add_up_to_a_limit() {
    let app = spawn_app_with(|c| {
        c.sign_in.per_address = 5;
        c.sign_in.per_account_and_address = 3;
    })
    .await;
    let (_, patient) = app.patient("Ada", "Lovelace").await;
    let email = email_of(&app, &patient.access).await;
    for _ in 0..8 {
        assert_eq!(app.login(&email, PASSWORD).await.status, 200);
    }
    // Failures, then a success: the success starts the (e-mail, address) count again (four
    // failures in all would otherwise pass its limit of three).
    for _ in 0..2 {
        assert_problem(&app.login(&email, "not it").await, 401);
    }
    assert_eq!(app.login(&email, PASSWORD).await.status, 200);
    for _ in 0..2 {
        assert_problem(&app.login(&email, "not it").await, 401);
    }
    assert_eq!(app.login(&email, PASSWORD).await.status, 200);
}

#[tokio::test]
async fn sign_ups_are_limited_per_address() {
    let app = spawn_app_with(|c| c.sign_in.sign_ups_per_address = 3).await;
    let crowd = app.seen_from("127.0.0.5");
    for i in 0..3 {
        let reply = crowd.post("/patients", None, patient_body(Some(&format!("p{i}@example.org")), "A", "B")).await;
        assert_eq!(reply.status, 201, "{:?}", reply.body);
    }
    let fourth = crowd.post("/patients", None, patient_body(Some("p3@example.org"), "A", "B")).await;
    assert_problem(&fourth, 429);
    assert!(fourth.retry_after.is_some());
    let elsewhere = app.seen_from("127.0.0.6");
    assert_eq!(elsewhere.post("/patients", None, patient_body(Some("p4@example.org"), "A", "B")).await.status, 201);
}

#[tokio::test]
async fn a_deactivated_account_answers_exactly_like_a_wrong_password() {
    let app = spawn_app_with(|_| {}).await;
    let admin = app.admin().await;
    let (_, gone) = app.patient("Gone", "Away").await;
    let (_, active) = app.patient("Still", "Here").await;
    let gone_email = email_of(&app, &gone.access).await;
    let active_email = email_of(&app, &active.access).await;
    let reply = app.post(&format!("/users/{}/deactivate", gone.user_id), Some(&admin.access), json!({})).await;
    assert_eq!(reply.status, 200);
    let right_password = app.login(&gone_email, PASSWORD).await;
    let wrong_password = app.login(&gone_email, "not the password").await;
    let someone_else_wrong = app.login(&active_email, "not the password").await;
    assert_problem(&right_password, 401);
    assert_eq!(right_password.body, wrong_password.body);
    assert_eq!(right_password.body, someone_else_wrong.body);
}

#[tokio::test]
async fn bytes_postgresql_cannot_store_are_422_naming_the_field_in_the_login() {
    let app = spawn_app_with(|_| {}).await;
    let json_login = app.login("a\u{0}b@example.org", PASSWORD).await;
    assert_problem(&json_login, 422);
    assert_eq!(json_login.body["field"], "email");
    let form = app
        .client
        .post(format!("{}/token", app.base))
        .form(&[("grant_type", "password"), ("username", "a\u{0}b@example.org"), ("password", PASSWORD)])
        .send()
        .await
        .expect("send");
    assert_eq!(form.status().as_u16(), 422);
    let body: serde_json::Value = form.json().await.expect("problem");
    assert_eq!(body["field"], "email");
    let mut body = patient_body(Some("nul@example.org"), "Ada", "Lovelace");
    body["family_name"] = json!("Love\u{0}lace");
    let sign_up = app.post("/patients", None, body).await;
    assert_problem(&sign_up, 422);
    assert_eq!(sign_up.body["field"], "family_name");
}

#[tokio::test]
async fn forwarded_for_is_believed_only_from_a_trusted_proxy() {
    // Without trusted proxies, a client cannot escape its limit by naming another address.
    let app = spawn_app_with(|c| c.sign_in.per_address = 3).await;
    let mut statuses = Vec::new();
    for i in 0..5 {
        let reply = app
            .client
            .post(format!("{}/login", app.base))
            .header("x-forwarded-for", format!("198.51.100.{i}"))
            .json(&json!({ "email": format!("x{i}@example.org"), "password": "guess" }))
            .send()
            .await
            .expect("send");
        statuses.push(reply.status().as_u16());
    }
    assert_eq!(statuses, [401, 401, 401, 429, 429]);
}

#[tokio::test]
async fn a_full_queue_of_password_hashers_answers_503_with_retry_after() {
    let app = spawn_app_with(|c| {
        c.hash_workers = 1;
        c.hash_queue = 1;
        c.sign_in.per_account_and_address = 1000;
        c.sign_in.per_address = 1000;
    })
    .await;
    let (_, patient) = app.patient("Ada", "Lovelace").await;
    let email = email_of(&app, &patient.access).await;
    let replies = join_all((0..24).map(|_| app.login(&email, PASSWORD))).await;
    let statuses: Vec<u16> = replies.iter().map(|r| r.status).collect();
    assert!(statuses.iter().all(|s| *s == 200 || *s == 503), "{statuses:?}");
    assert!(statuses.contains(&200) && statuses.contains(&503), "{statuses:?}");
    for reply in replies.iter().filter(|r| r.status == 503) {
        assert_problem(reply, 503);
        assert_eq!(reply.retry_after, Some(1));
    }
    // Nothing was counted against the owner for the attempts that were never checked.
    assert_eq!(app.login(&email, PASSWORD).await.status, 200);
}
