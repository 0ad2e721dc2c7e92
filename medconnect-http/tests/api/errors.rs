//! Bad input of every shape gets a clear problem+json 4xx, never a 500.

use serde_json::json;

use crate::helpers::{assert_problem, patient_body, spawn_app};

#[tokio::test]
async fn malformed_requests_get_a_clear_400() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let token = Some(admin.access.as_str());

    let reply = app.post_raw("/patients", None, "application/json", "{\"given_name\": ").await;
    assert_problem(&reply, 400);
    let reply = app.post_raw("/patients", None, "application/json", "[]").await;
    assert_problem(&reply, 400);

    let mut unknown_field = patient_body(Some("x@example.org"), "A", "B");
    unknown_field["blood_type"] = json!("O+");
    let reply = app.post("/patients", None, unknown_field).await;
    assert_problem(&reply, 400);
    assert_eq!(reply.body["field"], "blood_type", "{:?}", reply.body);

    let reply = app.get("/patients/not-a-uuid", token).await;
    assert_problem(&reply, 400);
    assert_eq!(reply.body["field"], "patient_id");
    let reply = app.get("/doctors/123", token).await;
    assert_problem(&reply, 400);

    let mut bad_date = patient_body(Some("y@example.org"), "A", "B");
    bad_date["date_of_birth"] = json!("1985-13-45");
    let reply = app.post("/patients", None, bad_date).await;
    assert_problem(&reply, 400);
    assert_eq!(reply.body["field"], "date_of_birth");

    let mut missing = patient_body(Some("w@example.org"), "A", "B");
    missing.as_object_mut().expect("object").remove("sex");
    let reply = app.post("/patients", None, missing).await;
    assert_problem(&reply, 400);
    assert_eq!(reply.body["field"], "sex");

    let mut nested = patient_body(Some("v@example.org"), "A", "B");
    nested["emergency_contact"]["name"] = json!(42);
    let reply = app.post("/patients", None, nested).await;
    assert_eq!(reply.body["field"], "emergency_contact.name");

    let mut bad_sex = patient_body(Some("z@example.org"), "A", "B");
    bad_sex["sex"] = json!("robot");
    let reply = app.post("/patients", None, bad_sex).await;
    assert_problem(&reply, 400);
    assert_eq!(reply.body["field"], "sex");

    // A body in a format the operation does not take is 415 Unsupported Media Type
    // (RFC 9110 §15.5.16), not a malformed request.
    let reply = app.post_raw("/patients", None, "text/plain", "hello").await;
    assert_problem(&reply, 415);
}

#[tokio::test]
async fn semantic_errors_are_422_naming_the_field() {
    let app = spawn_app().await;
    let cases = [
        ("date_of_birth", json!("2999-01-01")),
        ("date_of_birth", json!("1850-01-01")),
        ("email", json!("not-an-email")),
        ("password", json!("short")),
        ("given_name", json!("   ")),
        ("phone", json!("call me maybe")),
    ];
    for (field, value) in cases {
        let mut body = patient_body(Some("valid@example.org"), "Ada", "Lovelace");
        body[field] = value.clone();
        let reply = app.post("/patients", None, body).await;
        assert_problem(&reply, 422);
        assert_eq!(reply.body["field"], field, "{field} = {value}");
        assert!(!reply.body.to_string().contains("short"), "the password is never echoed");
    }
    let mut nested = patient_body(Some("valid@example.org"), "Ada", "Lovelace");
    nested["emergency_contact"]["phone"] = json!("nope");
    let reply = app.post("/patients", None, nested).await;
    assert_eq!(reply.body["field"], "emergency_contact.phone");

    let admin = app.admin().await;
    // The range of `limit` is in the spec, so an out-of-range limit is malformed (400); a
    // cursor is only judged by the core (422).
    for (query, field, status) in
        [("limit=0", "limit", 400), ("limit=1000", "limit", 400), ("cursor=garbage", "cursor", 422)]
    {
        let reply = app.get(&format!("/patients?{query}"), Some(&admin.access)).await;
        assert_problem(&reply, status);
        assert_eq!(reply.body["field"], field);
    }
}

#[tokio::test]
async fn oversized_bodies_are_refused_with_413() {
    let app = spawn_app().await;
    let mut body = patient_body(Some("big@example.org"), "A", "B");
    body["address"] = json!("x".repeat(200 * 1024));
    let reply = app.post("/patients", None, body).await;
    assert_problem(&reply, 413);

    // Without a Content-Length header (chunked), the limit still holds.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = (0..100).map(|_| Ok(vec![b' '; 4096])).collect();
    let stream = futures_util::stream::iter(chunks);
    let reply = app.post_raw("/patients", None, "application/json", reqwest::Body::wrap_stream(stream)).await;
    assert_problem(&reply, 413);
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_in_problem_json() {
    let app = spawn_app().await;
    assert_problem(&app.get("/nothing-here", None).await, 404);
    let reply = app.send("PUT", "/patients", None, Some(json!({}))).await;
    assert!(reply.status == 405 || reply.status == 404, "{}", reply.status);
    assert_eq!(reply.content_type, "application/problem+json");
}

#[tokio::test]
async fn responses_carry_a_request_id_and_the_spec_and_docs_are_served() {
    let app = spawn_app().await;
    let resp =
        app.client.get(format!("{}/health", app.base)).header("x-request-id", "abc-123").send().await.expect("send");
    assert_eq!(resp.headers().get("x-request-id").and_then(|v| v.to_str().ok()), Some("abc-123"));
    let resp = app.client.get(format!("{}/health", app.base)).send().await.expect("send");
    assert!(resp.headers().get("x-request-id").is_some());

    let spec = app.get("/openapi.json", None).await;
    assert_eq!(spec.status, 200);
    for path in [
        "/login",
        "/token/refresh",
        "/logout",
        "/me",
        "/patients",
        "/patients/{patient_id}",
        "/doctors",
        "/medical_data",
    ] {
        assert!(spec.body["paths"].get(path).is_some(), "{path} missing from the spec");
    }
    let password_flow = &spec.body["components"]["securitySchemes"]["bearer"]["flows"]["password"];
    assert_eq!(password_flow["tokenUrl"], "/token");
    assert!(password_flow["scopes"].is_object(), "OpenAPI requires the flow's scopes");
    assert_eq!(spec.body["servers"][0]["url"], "/", "relative to wherever the spec is read from");
    let docs = app.client.get(format!("{}/docs", app.base)).send().await.expect("send");
    assert_eq!(docs.status().as_u16(), 200);
    let page = docs.text().await.expect("html");
    assert!(page.contains("swagger"));
    assert!(page.contains("\"additionalProperties\":false"), "Swagger UI embeds the served spec");
    // Methods the spec does not have for a path answer 405 naming the ones it has; HEAD is
    // served wherever GET is.
    let wrong = app.send("PUT", "/me", None, None).await;
    assert_problem(&wrong, 405);
    let wrong = app.client.put(format!("{}/patients/{}", app.base, uuid::Uuid::nil())).send().await.expect("send");
    assert_eq!(wrong.status().as_u16(), 405);
    assert_eq!(wrong.headers().get("allow").and_then(|v| v.to_str().ok()), Some("GET"));
    let head = app.client.head(format!("{}/health", app.base)).send().await.expect("send");
    assert_eq!(head.status().as_u16(), 200);
}

#[tokio::test]
async fn cross_origin_calls_are_allowed_only_for_configured_origins() {
    use medconnect_core::SecretKey;

    use crate::helpers::{create_test_database, spawn_app_configured};
    let preflight = |app: &crate::helpers::TestApp, origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, format!("{}/me", app.base))
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
            .send()
    };
    let allowed = |r: &reqwest::Response| r.headers().get("access-control-allow-origin").cloned();

    let closed = spawn_app().await;
    let reply = preflight(&closed, "https://app.example.org").await.expect("send");
    assert_eq!(allowed(&reply), None, "no CORS unless configured");

    let db = create_test_database().await;
    let open = spawn_app_configured(
        &db,
        SecretKey::random(),
        |_| {},
        |s| {
            s.cors_origins = vec!["https://app.example.org".into()];
        },
    )
    .await;
    let reply = preflight(&open, "https://app.example.org").await.expect("send");
    assert!(reply.status().is_success(), "{}", reply.status());
    assert_eq!(allowed(&reply).as_ref().and_then(|v| v.to_str().ok()), Some("https://app.example.org"));
    let methods = reply.headers().get("access-control-allow-methods").and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert!(methods.contains("GET"), "{methods}");
    let other = preflight(&open, "https://evil.example.net").await.expect("send");
    assert_eq!(allowed(&other), None, "an origin not listed gets no CORS headers");
    // A simple cross-origin call from the allowed origin can read the answer and its request id.
    let admin = open.admin().await;
    let me = open
        .client
        .get(format!("{}/me", open.base))
        .header("origin", "https://app.example.org")
        .bearer_auth(&admin.access)
        .send()
        .await
        .expect("send");
    assert_eq!(me.status().as_u16(), 200);
    assert_eq!(allowed(&me).as_ref().and_then(|v| v.to_str().ok()), Some("https://app.example.org"));
    let exposed = me.headers().get("access-control-expose-headers").and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert!(exposed.contains("x-request-id"), "{exposed}");
}
