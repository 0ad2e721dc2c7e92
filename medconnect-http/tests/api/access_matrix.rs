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
        World {
            prediction,
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

    /// Puts the spare doctor in the patient's care (for rows that revoke it).
    async fn ensure_spare_in_care(&self) {
        let path = format!("/patients/{}/care-team/{}", self.patient, self.spare_doctor);
        let reply = self.app.post(&path, Some(&self.admin_s.access), json!({})).await;
        assert_eq!(reply.status, 200);
    }
}

/// One endpoint: how to call it, and the expected status for each caller in `CALLERS` order.
struct Row {
    name: &'static str,
    method: &'static str,
    path: fn(&World) -> String,
    body: fn(&World) -> Option<Value>,
    /// Put the spare doctor in care before each call (rows that revoke it).
    spare_in_care: bool,
    expect: [u16; 7],
}

fn no_body(_: &World) -> Option<Value> {
    None
}

fn unique() -> String {
    Uuid::new_v4().simple().to_string()
}

fn rows() -> Vec<Row> {
    vec![
        Row {
            name: "GET /health",
            method: "GET",
            path: |_| "/health".into(),
            body: no_body,
            spare_in_care: false,
            expect: [200; 7],
        },
        Row {
            name: "GET /ready",
            method: "GET",
            path: |_| "/ready".into(),
            body: no_body,
            spare_in_care: false,
            expect: [200; 7],
        },
        Row {
            name: "POST /login (wrong password)",
            method: "POST",
            path: |_| "/login".into(),
            body: |_| Some(json!({ "email": "nobody@example.org", "password": "not the password" })),
            spare_in_care: false,
            expect: [401; 7],
        },
        Row {
            name: "POST /token/refresh (unknown token)",
            method: "POST",
            path: |_| "/token/refresh".into(),
            body: |_| Some(json!({ "refresh_token": "mcr_unknown" })),
            spare_in_care: false,
            expect: [401; 7],
        },
        Row {
            name: "GET /me",
            method: "GET",
            path: |_| "/me".into(),
            body: no_body,
            spare_in_care: false,
            expect: [401, 200, 200, 200, 200, 200, 401],
        },
        Row {
            name: "GET /patients/{id}",
            method: "GET",
            path: |w| format!("/patients/{}", w.patient),
            body: no_body,
            spare_in_care: false,
            expect: [401, 200, 404, 200, 404, 200, 401],
        },
        Row {
            name: "GET /patients/{unknown id}",
            method: "GET",
            path: |_| format!("/patients/{}", Uuid::new_v4()),
            body: no_body,
            spare_in_care: false,
            expect: [401, 404, 404, 404, 404, 404, 401],
        },
        Row {
            name: "GET /patients",
            method: "GET",
            path: |_| "/patients".into(),
            body: no_body,
            spare_in_care: false,
            expect: [401, 200, 200, 200, 200, 200, 401],
        },
        Row {
            name: "POST /patients (staff registration, no account)",
            method: "POST",
            path: |_| "/patients".into(),
            body: |_| Some(patient_body(None, "Walk", "In")),
            spare_in_care: false,
            // Anonymous sign-up needs credentials: 422 naming `email`.
            expect: [422, 403, 403, 201, 201, 201, 401],
        },
        Row {
            name: "GET /patients/{id}/care-team",
            method: "GET",
            path: |w| format!("/patients/{}/care-team", w.patient),
            body: no_body,
            spare_in_care: false,
            expect: [401, 200, 404, 200, 404, 200, 401],
        },
        Row {
            name: "POST /patients/{id}/care-team/{doctor}",
            method: "POST",
            path: |w| format!("/patients/{}/care-team/{}", w.patient, w.spare_doctor),
            body: |_| Some(json!({})),
            spare_in_care: false,
            expect: [401, 200, 404, 403, 404, 200, 401],
        },
        Row {
            name: "DELETE /patients/{id}/care-team/{doctor}",
            method: "DELETE",
            path: |w| format!("/patients/{}/care-team/{}", w.patient, w.spare_doctor),
            body: no_body,
            spare_in_care: true,
            expect: [401, 204, 404, 403, 404, 204, 401],
        },
        Row {
            name: "GET /doctors/{id}",
            method: "GET",
            path: |w| format!("/doctors/{}", w.doctor),
            body: no_body,
            spare_in_care: false,
            expect: [401, 200, 200, 200, 200, 200, 401],
        },
        Row {
            name: "GET /doctors",
            method: "GET",
            path: |_| "/doctors?specialty=cardiology".into(),
            body: no_body,
            spare_in_care: false,
            expect: [401, 200, 200, 200, 200, 200, 401],
        },
        Row {
            name: "POST /doctors",
            method: "POST",
            path: |_| "/doctors".into(),
            body: |_| {
                let n = unique();
                Some(doctor_body(&format!("new-{n}@example.org"), &n[..12], "oncology"))
            },
            spare_in_care: false,
            expect: [401, 403, 403, 403, 403, 201, 401],
        },
        Row {
            name: "POST /medical_data",
            method: "POST",
            path: |_| "/medical_data".into(),
            body: |w| Some(json!({ "patient_id": w.patient, "entry": blood_pressure(120.0) })),
            spare_in_care: false,
            expect: [401, 201, 404, 201, 404, 403, 401],
        },
        Row {
            name: "GET /medical_data/{id}",
            method: "GET",
            path: |w| format!("/medical_data/{}", w.patient),
            body: no_body,
            spare_in_care: false,
            expect: [401, 200, 404, 200, 404, 403, 401],
        },
        Row {
            name: "POST /interactions/check",
            method: "POST",
            path: |_| "/interactions/check".into(),
            body: |_| Some(json!({ "drugs": ["warfarin", "aspirin"] })),
            spare_in_care: false,
            expect: [401, 200, 200, 200, 200, 200, 401],
        },
        Row {
            name: "POST /predict",
            method: "POST",
            path: |_| "/predict".into(),
            body: |w| Some(json!({ "patient_id": w.patient, "kind": "treatment_options" })),
            spare_in_care: false,
            expect: [401, 403, 404, 201, 404, 403, 401],
        },
        Row {
            name: "GET /predictions/{id}",
            method: "GET",
            path: |w| format!("/predictions/{}", w.patient),
            body: no_body,
            spare_in_care: false,
            expect: [401, 200, 404, 200, 404, 403, 401],
        },
        Row {
            name: "POST /predictions/{id}/review",
            method: "POST",
            path: |w| format!("/predictions/{}/review", w.prediction),
            body: |_| Some(json!({ "comment": "seen" })),
            spare_in_care: false,
            expect: [401, 403, 404, 200, 404, 403, 401],
        },
        Row {
            name: "POST /predictions/{unknown id}/review",
            method: "POST",
            path: |_| format!("/predictions/{}/review", Uuid::new_v4()),
            body: |_| Some(json!({})),
            spare_in_care: false,
            expect: [401, 404, 404, 404, 404, 404, 401],
        },
        Row {
            name: "GET /users",
            method: "GET",
            path: |_| "/users".into(),
            body: no_body,
            spare_in_care: false,
            expect: [401, 403, 403, 403, 403, 200, 401],
        },
        Row {
            name: "POST /users/{id}/deactivate",
            method: "POST",
            path: |w| format!("/users/{}/deactivate", w.spare_account),
            body: |_| Some(json!({})),
            spare_in_care: false,
            expect: [401, 403, 403, 403, 403, 200, 401],
        },
        Row {
            name: "POST /users/{id}/activate",
            method: "POST",
            path: |w| format!("/users/{}/activate", w.spare_account),
            body: |_| Some(json!({})),
            spare_in_care: false,
            expect: [401, 403, 403, 403, 403, 200, 401],
        },
        Row {
            name: "GET /audit",
            method: "GET",
            path: |_| "/audit".into(),
            body: no_body,
            spare_in_care: false,
            expect: [401, 403, 403, 403, 403, 200, 401],
        },
        Row {
            name: "GET /audit/verify",
            method: "GET",
            path: |_| "/audit/verify".into(),
            body: no_body,
            spare_in_care: false,
            expect: [401, 403, 403, 403, 403, 200, 401],
        },
        // Last: it ends each caller's session.
        Row {
            name: "POST /logout",
            method: "POST",
            path: |_| "/logout".into(),
            body: |_| Some(json!({})),
            spare_in_care: false,
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
            let reply = world.app.send(row.method, &(row.path)(&world), world.token(*caller), (row.body)(&world)).await;
            if reply.status != expected {
                failures.push(format!(
                    "{} as {caller:?}: expected {expected}, got {} {}",
                    row.name, reply.status, reply.body
                ));
            }
            if reply.status >= 400 {
                assert_eq!(reply.content_type, "application/problem+json", "{} as {caller:?}", row.name);
            }
        }
    }
    assert!(failures.is_empty(), "access matrix mismatches:\n{}", failures.join("\n"));
}

#[tokio::test]
async fn refusals_never_carry_the_patients_data() {
    let world = World::new().await;
    world.app.add_entry(&world.doctor_s.access, world.patient, blood_pressure(187.0)).await;
    for caller in [Caller::AnotherPatient, Caller::DoctorNotInCare, Caller::Admin] {
        for path in [format!("/medical_data/{}", world.patient), format!("/patients/{}", world.patient)] {
            let reply = world.app.get(&path, world.token(caller)).await;
            let text = reply.body.to_string();
            if reply.status >= 400 {
                assert!(!text.contains("187") && !text.contains("Lovelace"), "{caller:?} {path}: {text}");
            }
        }
    }
}

/// `{patient_id}`, `{id}` and `{unknown id}` all become `{}`.
fn route_shape(path: &str) -> String {
    let mut out = String::new();
    let mut depth = 0;
    for c in path.chars() {
        match c {
            '{' => {
                depth += 1;
                out.push('{');
            }
            '}' => {
                depth -= 1;
                out.push('}');
            }
            _ if depth > 0 => {}
            c => out.push(c),
        }
    }
    out
}

#[test]
fn every_operation_in_the_spec_has_a_row_in_the_matrix() {
    let spec: Value = serde_json::from_str(&medconnect_http::openapi("http://localhost").spec()).expect("spec");
    let covered: Vec<(String, String)> = rows()
        .iter()
        .map(|row| {
            let (method, rest) = row.name.split_once(' ').expect("METHOD /path");
            let path = rest.split(" (").next().unwrap_or(rest);
            (method.to_owned(), route_shape(path))
        })
        .collect();
    let mut missing = Vec::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("operations").keys() {
            let key = (method.to_ascii_uppercase(), route_shape(path));
            if !covered.contains(&key) {
                missing.push(format!("{} {path}", key.0));
            }
        }
    }
    assert!(missing.is_empty(), "operations without a row in the access matrix: {missing:?}");
}
