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

#[test]
fn the_docker_build_context_leaves_out_build_output_the_private_cluster_and_local_settings() {
    let ignore =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../.dockerignore")).expect(".dockerignore");
    let listed: Vec<&str> = ignore.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).collect();
    for needed in ["target/", ".local/", ".env"] {
        assert!(listed.contains(&needed), "{needed} must be in .dockerignore: {listed:?}");
    }
    assert!(!listed.iter().any(|l| *l == "!.local/" || *l == "!target/"), "nothing re-includes them");
    let dockerfile =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../Dockerfile")).expect("Dockerfile");
    assert!(dockerfile.contains("HEALTHCHECK") && dockerfile.contains("\"medconnect\", \"health\""), "{dockerfile}");
    assert!(!dockerfile.contains("/dev/tcp"), "no bash-only health check under /bin/sh");
}
