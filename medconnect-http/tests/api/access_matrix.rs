//! Every endpoint × every kind of caller, with the status each must get. New endpoints
//! add a row. Ids in the rows belong to "the patient" and "the doctor in care"; the
//! other callers are strangers to them, so this also covers "someone else's ids".

use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Session, TestApp, blood_pressure, doctor_body, patient_body, spawn_app};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    Anonymous,
    PatientThemself,
    AnotherPatient,
    DoctorInCare,
    DoctorNotInCare,
    Admin,
    Deactivated,
}

const CALLERS: [Caller; 7] = [
    Caller::Anonymous,
    Caller::PatientThemself,
    Caller::AnotherPatient,
    Caller::DoctorInCare,
    Caller::DoctorNotInCare,
    Caller::Admin,
    Caller::Deactivated,
];

struct World {
    app: TestApp,
    patient: Uuid,
    patient_s: Session,
    other_s: Session,
    doctor: Uuid,
    doctor_s: Session,
    stranger_doctor_s: Session,
    spare_doctor: Uuid,
    admin_s: Session,
    deactivated_s: Session,
    spare_account: Uuid,
    prediction: Uuid,
    /// A consultation the patient asked the doctor in care for.
    consultation: Uuid,
    /// The consultation made for the current call of a row that changes one.
    fresh: std::sync::Mutex<Uuid>,
}

impl World {
    async fn new() -> Self {
        let app = spawn_app().await;
        let admin_s = app.admin().await;
        let (doctor, doctor_s) = app.doctor(&admin_s, "cardiology").await;
        let (_, stranger_doctor_s) = app.doctor(&admin_s, "cardiology").await;
        let (spare_doctor, _) = app.doctor(&admin_s, "neurology").await;
        let (patient, patient_s) = app.patient("Ada", "Lovelace").await;
        let (_, other_s) = app.patient("Grace", "Hopper").await;
        let (_, spare_s) = app.patient("Spare", "Account").await;
        let (_, deactivated_s) = app.patient("Gone", "Away").await;
        app.grant(&patient_s, patient, doctor).await;
        let reply =
            app.post(&format!("/users/{}/deactivate", deactivated_s.user_id), Some(&admin_s.access), json!({})).await;
        assert_eq!(reply.status, 200);
        let body = json!({ "patient_id": patient, "kind": "drug_interactions" });
        let prediction = app.post("/predict", Some(&doctor_s.access), body).await.id();
        let consultation = app.post("/consultations", Some(&patient_s.access), consultation_request(doctor)).await.id();
        World {
            prediction,
            consultation,
            fresh: std::sync::Mutex::new(Uuid::nil()),
            patient,
            patient_s,
            other_s,
            doctor,
            doctor_s,
            stranger_doctor_s,
            spare_doctor,
            admin_s,
            deactivated_s,
            spare_account: spare_s.user_id,
            app,
        }
    }

    fn token(&self, caller: Caller) -> Option<&str> {
        Some(match caller {
            Caller::Anonymous => return None,
            Caller::PatientThemself => &self.patient_s.access,
            Caller::AnotherPatient => &self.other_s.access,
            Caller::DoctorInCare => &self.doctor_s.access,
            Caller::DoctorNotInCare => &self.stranger_doctor_s.access,
            Caller::Admin => &self.admin_s.access,
            Caller::Deactivated => &self.deactivated_s.access,
        })
    }

    /// A new consultation of the patient with the doctor in care, in the state asked for.
    async fn make_fresh(&self, state: Fresh) {
        let body = consultation_request(self.doctor);
        let id = self.app.post("/consultations", Some(&self.patient_s.access), body).await.id();
        if state == Fresh::Accepted {
            let accept = json!({ "scheduled_for": chrono::Utc::now() + chrono::Duration::days(1) });
            let reply =
                self.app.post(&format!("/consultations/{id}/accept"), Some(&self.doctor_s.access), accept).await;
            assert_eq!(reply.status, 200);
        }
        *self.fresh.lock().expect("lock") = id;
    }

    fn fresh(&self) -> Uuid {
        *self.fresh.lock().expect("lock")
    }

    /// Puts the spare doctor in the patient's care (for rows that revoke it).
    async fn ensure_spare_in_care(&self) {
        let path = format!("/patients/{}/care-team/{}", self.patient, self.spare_doctor);
        let reply = self.app.post(&path, Some(&self.admin_s.access), json!({})).await;
        assert_eq!(reply.status, 200);
    }
}

/// One operation of the spec, one way of calling it, and the expected status for each
/// caller in `CALLERS` order. `route` is the operation's path exactly as the served spec
/// writes it; the test checks that the path the row sends matches it, so a row cannot
/// claim an operation it does not call.
struct Row {
    route: &'static str,
    /// What this row tries, when an operation has several rows.
    case: &'static str,
    method: &'static str,
    path: fn(&World) -> String,
    body: fn(&World) -> Option<Value>,
    /// A form body instead of JSON (the OAuth2 token endpoint).
    form: Option<&'static [(&'static str, &'static str)]>,
    /// Put the spare doctor in care before each call (rows that revoke it).
    spare_in_care: bool,
    /// Make a new consultation of the patient with the doctor in care before each call
    /// (rows that change one): `World::fresh` then names it.
    consultation: Fresh,
    expect: [u16; 7],
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Fresh {
    No,
    Requested,
    Accepted,
}

fn no_body(_: &World) -> Option<Value> {
    None
}

fn consultation_request(doctor: Uuid) -> Value {
    json!({ "doctor_id": doctor, "reason": "A check-up", "mode": "phone" })
}

fn unique() -> String {
    Uuid::new_v4().simple().to_string()
}

fn rows() -> Vec<Row> {
    vec![
        Row {
            route: "/health",
            case: "",
            method: "GET",
            path: |_| "/health".into(),
            body: no_body,
            form: None,
            spare_in_care: false,
            consultation: Fresh::No,
            expect: [200; 7],
        },
        Row {
            route: "/ready",
            case: "",
            method: "GET",
            path: |_| "/ready".into(),
            body: no_body,
            form: None,
            spare_in_care: false,
            consultation: Fresh::No,
            expect: [200; 7],
        },
        Row {
            route: "/login",
            case: "wrong password",
            method: "POST",
            path: |_| "/login".into(),
            body: |_| Some(json!({ "email": "nobody@example.org", "password": "not the password" })),
            form: None,
            spare_in_care: false,
            consultation: Fresh::No,
            expect: [401; 7],
        },
        Row {
            route: "/token",
            case: "wrong password",
            method: "POST",
            path: |_| "/token".into(),
            body: no_body,
            form: Some(&[("grant_type", "password"), ("username", "nobody-else@example.org"), ("password", "not it")]),
            spare_in_care: false,
            consultation: Fresh::No,
            expect: [401; 7],
        },
        Row {
            route: "/token/refresh",
            case: "unknown token",
            method: "POST",
            path: |_| "/token/refresh".into(),
            body: |_| Some(json!({ "refresh_token": "mcr_unknown" })),
            form: None,
            spare_in_care: false,
            consultation: Fresh::No,
            expect: [401; 7],
        },
        Row {
            route: "/me",
            case: "",
            method: "GET",
            path: |_| "/me".into(),
            body: no_body,
            form: None,
            spare_in_care: false,
            consultation: Fresh::No,
            expect: [401, 200, 200, 200, 200, 200, 401],
        },
        Row {
            route: "/patients/{patient_id}",
            case: "",
            method: "GET",
            path: |w| format!("/patients/{}", w.patient),
            body: no_body,
            form: None,
            spare_in_care: false,
            consultation: Fresh::No,
            expect: [401, 200, 404, 200, 404, 200, 401],
        },
        Row {
            route: "/patients/{patient_id}",
            case: "unknown id",
            method: "GET",
            path: |_| format!("/patients/{}", Uuid::new_v4()),
            body: no_body,
            form: None,
            spare_in_care: false,
            consultation: Fresh::No,
            expect: [401, 404, 404, 404, 404, 404, 401],
        },
        Row {
            route: "/patients",
            case: "",
            method: "GET",
            path: |_| "/patients".into(),
            body: no_body,
            form: None,
            spare_in_care: false,
            consultation: Fresh::No,
            expect: [401, 200, 200, 200, 200, 200, 401],
        },
        Row {
            route: "/patients",
            case: "staff registration, no account",
            method: "POST",
            path: |_| "/patients".into(),
            body: |_| Some(patient_body(None, "Walk", "In")),
            form: None,
            spare_in_care: false,
            consultation: Fresh::No,
            // Anonymous sign-up needs credentials: 422 naming `email`.
            expect: [422, 403, 403, 201, 201, 201, 401],
        },
        Row {
            route: "/patients/{patient_id}/care-team",
            case: "",
            method: "GET",
            path: |w| format!("/patients/{}/care-team", w.patient),
            body: no_body,
            form: None,
            spare_in_care: false,
            consultation: Fresh::No,
            expect: [401, 200, 404, 200, 404, 200, 401],
        },
        Row {
            route: "/patients/{patient_id}/care-team/{doctor_id}",
            case: "",
            method: "POST",
            path: |w| format!("/patients/{}/care-team/{}", w.patient, w.spare_doctor),
            body: |_| Some(json!({})),
            form: None,
            spare_in_care: false,
            consultation: Fresh::No,
            expect: [401, 200, 404, 403, 404, 200, 401],
        },
        Row {
            route: "/patients/{patient_id}/care-team/{doctor_id}",
            case: "",
            method: "DELETE",
            path: |w| format!("/patients/{}/care-team/{}", w.patient, w.spare_doctor),
            body: no_body,
            form: None,
            spare_in_care: true,
            consultation: Fresh::No,
            expect: [401, 204, 404, 403, 404, 204, 401],
        },
        Row {
            route: "/doctors/{doctor_id}",
            case: "",
            method: "GET",
            path: |w| format!("/doctors/{}", w.doctor),
            body: no_body,
            form: None,
            spare_in_care: false,
            consultation: Fresh::No,
            expect: [401, 200, 200, 200, 200, 200, 401],
        },
        Row {
            route: "/doctors",
            case: "",
            method: "GET",
            path: |_| "/doctors?specialty=cardiology".into(),
            body: no_body,
            form: None,
            spare_in_care: false,
            consultation: Fresh::No,
            expect: [401, 200, 200, 200, 200, 200, 401],
        },
        Row {
            route: "/doctors",
            case: "",
            method: "POST",
            path: |_| "/doctors".into(),
            body: |_| {
                let n = unique();
                Some(doctor_body(&format!("new-{n}@example.org"), &n[..12], "oncology"))
            },
            form: None,
            spare_in_care: false,
            consultation: Fresh::No,
            expect: [401, 403, 403, 403, 403, 201, 401],
        },
        Row {
            route: "/medical_data",
            case: "",
            method: "POST",
            path: |_| "/medical_data".into(),
            body: |w| Some(json!({ "patient_id": w.patient, "entry": blood_pressure(120.0) })),
            form: None,
            spare_in_care: false,
            consultation: Fresh::No,
            expect: [401, 201, 404, 201, 404, 403, 401],
        },
        Row {
            route: "/medical_data/{patient_id}",
            case: "",
            method: "GET",
            path: |w| format!("/medical_data/{}", w.patient),
            body: no_body,
            form: None,
            spare_in_care: false,
            consultation: Fresh::No,
            expect: [401, 200, 404, 200, 404, 403, 401],
        },
        Row {
            route: "/interactions/check",
            case: "",
            method: "POST",
            path: |_| "/interactions/check".into(),
            body: |_| Some(json!({ "drugs": ["warfarin", "aspirin"] })),
            form: None,
            spare_in_care: false,
            consultation: Fresh::No,
            expect: [401, 200, 200, 200, 200, 200, 401],
        },
        Row {
            route: "/predict",
            case: "",
            method: "POST",
            path: |_| "/predict".into(),
            body: |w| Some(json!({ "patient_id": w.patient, "kind": "treatment_options" })),
            form: None,
            spare_in_care: false,
            consultation: Fresh::No,
            expect: [401, 403, 404, 201, 404, 403, 401],
        },
        Row {
            route: "/predictions/{patient_id}",
            case: "",
            method: "GET",
            path: |w| format!("/predictions/{}", w.patient),
            body: no_body,
            form: None,
            spare_in_care: false,
            consultation: Fresh::No,
            expect: [401, 200, 404, 200, 404, 403, 401],
        },
        Row {
            route: "/predictions/{prediction_id}/review",
            case: "",
            method: "POST",
            path: |w| format!("/predictions/{}/review", w.prediction),
            body: |_| Some(json!({ "comment": "seen" })),
            form: None,
            spare_in_care: false,
            consultation: Fresh::No,
            expect: [401, 403, 404, 200, 404, 403, 401],
        },
        Row {
            route: "/predictions/{prediction_id}/review",
            case: "unknown id",
            method: "POST",
            path: |_| format!("/predictions/{}/review", Uuid::new_v4()),
            body: |_| Some(json!({})),
            form: None,
            spare_in_care: false,
            consultation: Fresh::No,
            expect: [401, 404, 404, 404, 404, 404, 401],
        },
        Row {
            route: "/users",
            case: "",
            method: "GET",
            path: |_| "/users".into(),
            body: no_body,
            form: None,
            spare_in_care: false,
            consultation: Fresh::No,
            expect: [401, 403, 403, 403, 403, 200, 401],
        },
        Row {
            route: "/users/{user_id}/deactivate",
            case: "",
            method: "POST",
            path: |w| format!("/users/{}/deactivate", w.spare_account),
            body: |_| Some(json!({})),
            form: None,
            spare_in_care: false,
            consultation: Fresh::No,
            expect: [401, 403, 403, 403, 403, 200, 401],
        },
        Row {
            route: "/users/{user_id}/activate",
            case: "",
            method: "POST",
            path: |w| format!("/users/{}/activate", w.spare_account),
            body: |_| Some(json!({})),
            form: None,
            spare_in_care: false,
            consultation: Fresh::No,
            expect: [401, 403, 403, 403, 403, 200, 401],
        },
        Row {
            route: "/audit",
            case: "",
            method: "GET",
            path: |_| "/audit".into(),
            body: no_body,
            form: None,
            spare_in_care: false,
            consultation: Fresh::No,
            expect: [401, 403, 403, 403, 403, 200, 401],
        },
        Row {
            route: "/audit/verify",
            case: "",
            method: "GET",
            path: |_| "/audit/verify".into(),
            body: no_body,
            form: None,
            spare_in_care: false,
            consultation: Fresh::No,
            expect: [401, 403, 403, 403, 403, 200, 401],
        },
        // Last: it ends each caller's session.
        Row {
            route: "/users/{user_id}/api-keys",
            case: "for the spare account",
            method: "POST",
            path: |w| format!("/users/{}/api-keys", w.spare_account),
            body: |_| Some(json!({ "name": "matrix" })),
            form: None,
            spare_in_care: false,
            consultation: Fresh::No,
            expect: [401, 403, 403, 403, 403, 201, 401],
        },
        Row {
            route: "/users/{user_id}/api-keys",
            case: "",
            method: "GET",
            path: |w| format!("/users/{}/api-keys", w.spare_account),
            body: no_body,
            form: None,
            spare_in_care: false,
            consultation: Fresh::No,
            expect: [401, 403, 403, 403, 403, 200, 401],
        },
        Row {
            route: "/users/{user_id}/api-keys/{key_id}",
            case: "unknown key",
            method: "DELETE",
            path: |w| format!("/users/{}/api-keys/{}", w.spare_account, Uuid::new_v4()),
            body: no_body,
            form: None,
            spare_in_care: false,
            consultation: Fresh::No,
            expect: [401, 403, 403, 403, 403, 404, 401],
        },
        Row {
            route: "/consultations",
            case: "ask the doctor in care",
            method: "POST",
            path: |_| "/consultations".into(),
            body: |w| Some(consultation_request(w.doctor)),
            form: None,
            spare_in_care: false,
            consultation: Fresh::No,
            expect: [401, 201, 201, 403, 403, 403, 401],
        },
        Row {
            route: "/consultations",
            case: "",
            method: "GET",
            path: |_| "/consultations".into(),
            body: no_body,
            form: None,
            spare_in_care: false,
            consultation: Fresh::No,
            expect: [401, 200, 200, 200, 200, 200, 401],
        },
        Row {
            route: "/consultations/{consultation_id}",
            case: "",
            method: "GET",
            path: |w| format!("/consultations/{}", w.consultation),
            body: no_body,
            form: None,
            spare_in_care: false,
            consultation: Fresh::No,
            expect: [401, 200, 404, 200, 404, 200, 401],
        },
        Row {
            route: "/consultations/{consultation_id}",
            case: "unknown id",
            method: "GET",
            path: |_| format!("/consultations/{}", Uuid::new_v4()),
            body: no_body,
            form: None,
            spare_in_care: false,
            consultation: Fresh::No,
            expect: [401, 404, 404, 404, 404, 404, 401],
        },
        Row {
            route: "/consultations/{consultation_id}/accept",
            case: "",
            method: "POST",
            path: |w| format!("/consultations/{}/accept", w.fresh()),
            body: |_| Some(json!({ "scheduled_for": chrono::Utc::now() + chrono::Duration::days(1) })),
            form: None,
            spare_in_care: false,
            consultation: Fresh::Requested,
            expect: [401, 403, 404, 200, 404, 403, 401],
        },
        Row {
            route: "/consultations/{consultation_id}/decline",
            case: "",
            method: "POST",
            path: |w| format!("/consultations/{}/decline", w.fresh()),
            body: |_| Some(json!({ "reason": "Not my specialty" })),
            form: None,
            spare_in_care: false,
            consultation: Fresh::Requested,
            expect: [401, 403, 404, 200, 404, 403, 401],
        },
        Row {
            route: "/consultations/{consultation_id}/cancel",
            case: "",
            method: "POST",
            path: |w| format!("/consultations/{}/cancel", w.fresh()),
            body: |_| Some(json!({})),
            form: None,
            spare_in_care: false,
            consultation: Fresh::Accepted,
            expect: [401, 200, 404, 200, 404, 403, 401],
        },
        Row {
            route: "/consultations/{consultation_id}/complete",
            case: "",
            method: "POST",
            path: |w| format!("/consultations/{}/complete", w.fresh()),
            body: |_| Some(json!({ "note": "Seen and examined" })),
            form: None,
            spare_in_care: false,
            consultation: Fresh::Accepted,
            expect: [401, 403, 404, 200, 404, 403, 401],
        },
        Row {
            route: "/logout",
            case: "",
            method: "POST",
            path: |_| "/logout".into(),
            body: |_| Some(json!({})),
            form: None,
            spare_in_care: false,
            consultation: Fresh::No,
            expect: [401, 204, 204, 204, 204, 204, 401],
        },
    ]
}

#[tokio::test]
async fn every_endpoint_gives_each_caller_the_expected_status() {
    let world = World::new().await;
    let mut failures = Vec::new();
    for row in rows() {
        for (caller, expected) in CALLERS.iter().zip(row.expect) {
            if row.spare_in_care {
                world.ensure_spare_in_care().await;
            }
            if row.consultation != Fresh::No {
                world.make_fresh(row.consultation).await;
            }
            let path = (row.path)(&world);
            let reply = match row.form {
                Some(form) => world.app.send_form(&path, world.token(*caller), form).await,
                None => world.app.send(row.method, &path, world.token(*caller), (row.body)(&world)).await,
            };
            if reply.status != expected {
                failures.push(format!(
                    "{} {} ({}) as {caller:?}: expected {expected}, got {} {}",
                    row.method, row.route, row.case, reply.status, reply.body
                ));
            }
            if reply.status >= 400 {
                assert_eq!(
                    reply.content_type, "application/problem+json",
                    "{} {} as {caller:?}",
                    row.method, row.route
                );
            }
        }
    }
    assert!(failures.is_empty(), "access matrix mismatches:\n{}", failures.join("\n"));
}

#[tokio::test]
async fn refusals_never_carry_the_patients_data() {
    let world = World::new().await;
    world.app.add_entry(&world.doctor_s.access, world.patient, blood_pressure(187.0)).await;
    let records = format!("/medical_data/{}", world.patient);
    let profile = format!("/patients/{}", world.patient);
    let predictions = format!("/predictions/{}", world.patient);
    let refusals = [
        (Caller::AnotherPatient, &records),
        (Caller::AnotherPatient, &profile),
        (Caller::AnotherPatient, &predictions),
        (Caller::DoctorNotInCare, &records),
        (Caller::DoctorNotInCare, &profile),
        (Caller::DoctorNotInCare, &predictions),
        (Caller::Admin, &records),
        (Caller::Admin, &predictions),
        (Caller::Deactivated, &records),
        (Caller::Anonymous, &profile),
    ];
    for (caller, path) in refusals {
        let reply = world.app.get(path, world.token(caller)).await;
        // Whatever the status, the body carries none of the patient's data (the entry is
        // looked for by its unit: its value's digits can turn up in ids in the body).
        let text = reply.body.to_string();
        assert!(
            !text.contains("mm[Hg]") && !text.contains("Lovelace") && !text.contains("Ada"),
            "{caller:?} {path}: {text}"
        );
        assert!([401, 403, 404].contains(&reply.status), "{caller:?} {path} was not refused: {}", reply.status);
    }
}

/// Whether a concrete path (query string ignored) is an instance of a spec route.
fn sends_route(path: &str, route: &str) -> bool {
    let path = path.split('?').next().unwrap_or(path);
    let (sent, template): (Vec<&str>, Vec<&str>) = (path.split('/').collect(), route.split('/').collect());
    sent.len() == template.len()
        && sent.iter().zip(&template).all(|(s, t)| (t.starts_with('{') && t.ends_with('}') && !s.is_empty()) || s == t)
}

#[tokio::test]
async fn every_operation_of_the_served_spec_has_rows_for_all_seven_callers() {
    let world = World::new().await;
    let spec = world.app.get("/openapi.json", None).await.body;
    let rows = rows();
    for row in &rows {
        let sent = (row.path)(&world);
        assert!(sends_route(&sent, row.route), "the row for {} {} sends {sent}", row.method, row.route);
        assert_eq!(row.expect.len(), CALLERS.len());
    }
    let mut missing = Vec::new();
    let mut operations = 0;
    for (route, item) in spec["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("operations").keys() {
            operations += 1;
            let method = method.to_ascii_uppercase();
            if !rows.iter().any(|r| r.method == method && r.route == route) {
                missing.push(format!("{method} {route}"));
            }
        }
    }
    assert!(operations >= 26, "the served spec lists {operations} operations");
    assert!(missing.is_empty(), "operations of the served spec without a row: {missing:?}");
    for row in &rows {
        let in_spec = spec["paths"][row.route][row.method.to_ascii_lowercase()].is_object();
        assert!(in_spec, "{} {} is not an operation of the served spec", row.method, row.route);
    }
}

#[test]
fn a_row_that_sends_another_path_than_its_route_is_caught() {
    assert!(sends_route("/patients/5f0c/care-team", "/patients/{patient_id}/care-team"));
    assert!(sends_route("/doctors?specialty=x", "/doctors"));
    assert!(!sends_route("/patients/5f0c", "/patients/{patient_id}/care-team"));
    assert!(!sends_route("/medical_data/5f0c", "/patients/{patient_id}"));
    assert!(!sends_route("/patients/", "/patients/{patient_id}"));
}
