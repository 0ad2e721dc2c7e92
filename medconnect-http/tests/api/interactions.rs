//! `POST /interactions/check` over HTTP.

use serde_json::json;

use crate::helpers::{assert_problem, spawn_app};

#[tokio::test]
async fn warfarin_with_aspirin_is_contraindicated_with_the_reasons_in_french() {
    let app = spawn_app().await;
    let (_, patient) = app.patient("Ada", "Lovelace").await;
    let reply = app
        .post("/interactions/check", Some(&patient.access), json!({ "drugs": ["Warfarin", "aspirin", "paracetamol"] }))
        .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    let body = &reply.body;
    assert!(body["edition"].as_str().is_some_and(|e| e.contains("ANSM")));
    assert_eq!(body["drugs"].as_array().map(Vec::len), Some(3));
    assert_eq!(body["drugs"][0]["name"], "warfarine");
    assert_eq!(body["drugs"][0]["matched_by"], "english_name");
    let pairs = body["pairs"].as_array().expect("pairs");
    // Warfarin + aspirin, then warfarin + paracetamol (a precaution); aspirin + paracetamol: none.
    assert_eq!(pairs.len(), 2, "{pairs:?}");
    assert_eq!(
        (&pairs[0]["drug_a"], &pairs[0]["drug_b"], &pairs[0]["severity"]),
        (&json!("Warfarin"), &json!("aspirin"), &json!("contraindicated"))
    );
    assert_eq!((&pairs[1]["drug_b"], &pairs[1]["severity"]), (&json!("paracetamol"), &json!("precaution")));
    let finding = &pairs[0]["findings"][0];
    assert_eq!(finding["mechanism"]["lang"], "fr");
    assert!(finding["mechanism"]["text"].as_str().is_some_and(|t| !t.is_empty()));
    assert_eq!(finding["through"].as_array().map(Vec::len), Some(2));
    assert!(finding["levels"].as_array().is_some_and(|l| l.len() >= 2));
}

#[tokio::test]
async fn unknown_names_come_back_with_suggestions_and_bad_lists_are_refused() {
    let app = spawn_app().await;
    let (_, patient) = app.patient("Ada", "Lovelace").await;
    let token = Some(patient.access.as_str());
    let reply = app.post("/interactions/check", token, json!({ "drugs": ["ibuprofen", "ketoprofn"] })).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body["unknown"][0]["input"], "ketoprofn");
    assert!(reply.body["unknown"][0]["suggestions"].as_array().is_some_and(|s| s.iter().any(|n| n == "ketoprofene")));

    let empty = app.post("/interactions/check", token, json!({ "drugs": [] })).await;
    assert_problem(&empty, 400);
    assert_eq!(empty.body["field"], "drugs");
    let blank = app.post("/interactions/check", token, json!({ "drugs": ["warfarin", "  "] })).await;
    assert_problem(&blank, 422);
    assert_eq!(blank.body["field"], "drugs[1]");
    let too_many: Vec<String> = (0..51).map(|i| format!("drug {i}")).collect();
    assert_problem(&app.post("/interactions/check", token, json!({ "drugs": too_many })).await, 400);
    let not_strings = app.post("/interactions/check", token, json!({ "drugs": [1, 2] })).await;
    assert_eq!(not_strings.body["field"], "drugs[0]");
}

/// A list checked again is answered with the answer kept from the first check: the same
/// bytes, whoever asks. The same names in another order or spelling are a list of their
/// own, a refused list is refused again, and without a token there is no answer at all.
#[tokio::test]
async fn a_list_checked_again_gets_the_same_answer_for_any_caller_and_none_without_a_token() {
    let app = spawn_app().await;
    let (_, patient) = app.patient("Ada", "Lovelace").await;
    let admin = app.admin().await;
    let (_, doctor) = app.doctor(&admin, "cardiology").await;
    let check = |token: Option<String>, drugs: serde_json::Value| {
        let mut req = app.client.post(format!("{}/interactions/check", app.base)).json(&json!({ "drugs": drugs }));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        async move {
            let reply = req.send().await.expect("request");
            (reply.status().as_u16(), reply.text().await.expect("body"))
        }
    };
    let list = json!(["warfarin", "aspirin", "ibuprofen"]);
    let (status, first) = check(Some(patient.access.clone()), list.clone()).await;
    assert_eq!(status, 200, "{first}");
    for token in [&doctor.access, &admin.access, &patient.access] {
        assert_eq!(check(Some(token.clone()), list.clone()).await, (200, first.clone()));
    }
    let answer: serde_json::Value = serde_json::from_str(&first).expect("json");
    assert_eq!(answer["pairs"][0]["drug_a"], "warfarin");

    let (status, reordered) = check(Some(doctor.access.clone()), json!(["ibuprofen", "aspirin", "warfarin"])).await;
    assert_eq!(status, 200);
    let reordered: serde_json::Value = serde_json::from_str(&reordered).expect("json");
    assert_eq!(reordered["drugs"][0]["input"], "ibuprofen");
    assert_eq!(reordered["pairs"].as_array().map(Vec::len), answer["pairs"].as_array().map(Vec::len));
    let (_, spelled) = check(Some(doctor.access.clone()), json!(["Warfarin", "aspirin", "ibuprofen"])).await;
    let spelled: serde_json::Value = serde_json::from_str(&spelled).expect("json");
    assert_eq!(spelled["drugs"][0]["input"], "Warfarin");
    assert_eq!(spelled["drugs"][0]["name"], answer["drugs"][0]["name"]);

    let anonymous = check(None, list.clone()).await;
    assert_eq!(anonymous.0, 401, "{}", anonymous.1);
    assert!(!anonymous.1.contains("warfarin"), "{}", anonymous.1);
    let forged = check(Some(format!("{}x", doctor.access)), list).await;
    assert_eq!(forged.0, 401);
    for _ in 0..2 {
        let blank = app.post("/interactions/check", Some(&doctor.access), json!({ "drugs": ["warfarin", "  "] })).await;
        assert_problem(&blank, 422);
        assert_eq!(blank.body["field"], "drugs[1]");
    }
}
