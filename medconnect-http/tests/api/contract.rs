//! The spec as a contract: the served spec is the checked-in snapshot, so that any change
//! to the API is a reviewed change of `medconnect-http/openapi.json`.
//!
//! To accept a change: `UPDATE_SPEC_SNAPSHOT=1 ./scripts/test contract`, then review the diff.

#[test]
fn the_served_spec_is_the_checked_in_snapshot() {
    let served = medconnect_http::spec::served(&medconnect_http::openapi("/")).expect("the served spec");
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json");
    if std::env::var_os("UPDATE_SPEC_SNAPSHOT").is_some() {
        // Pretty-printed with sorted keys, so that a change reads as a small diff.
        let value: serde_json::Value = serde_json::from_str(&served).expect("served spec");
        let pretty = serde_json::to_string_pretty(&value).expect("pretty");
        std::fs::write(path, format!("{pretty}\n")).expect("write the snapshot");
    }
    let snapshot = std::fs::read_to_string(path).expect("medconnect-http/openapi.json");
    let (served_json, snapshot_json): (serde_json::Value, serde_json::Value) =
        (serde_json::from_str(&served).expect("served spec"), serde_json::from_str(&snapshot).expect("snapshot"));
    assert!(
        served_json == snapshot_json,
        "the served spec differs from medconnect-http/openapi.json: review the change, then run \
         UPDATE_SPEC_SNAPSHOT=1 ./scripts/test contract"
    );
}
