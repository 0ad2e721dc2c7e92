//! The `medconnect` command line: create-admin and start-up checks.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::helpers::{PASSWORD, create_test_database};

fn medconnect() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_medconnect"));
    cmd.env_remove("MEDCONNECT_JWT_SECRET").env_remove("MEDCONNECT_DEV").env("RUST_LOG", "warn");
    cmd
}

fn run_with_stdin(mut cmd: Command, stdin: &str) -> std::process::Output {
    let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn");
    child.stdin.take().expect("stdin").write_all(stdin.as_bytes()).expect("write");
    child.wait_with_output().expect("wait")
}

#[tokio::test]
async fn create_admin_reads_the_password_from_stdin_and_the_admin_can_sign_in() {
    let db = create_test_database().await;
    let mut cmd = medconnect();
    cmd.args(["create-admin", "--email", "root@example.org"]).env("DATABASE_URL", &db).env("MEDCONNECT_DEV", "1");
    let out = run_with_stdin(cmd, &format!("{PASSWORD}\n"));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains(PASSWORD), "the password was printed");

    let key = medconnect_core::SecretKey::random;
    let mut config = medconnect_core::Config::new(db, key(), key());
    config.max_connections = 2;
    let core = medconnect_core::MedConnect::connect(config).await.expect("connect");
    let tokens = core
        .login("root@example.org", PASSWORD, medconnect_core::ClientAddress::local())
        .await
        .expect("admin signs in");
    let actor = core.authenticate(&tokens.access_token).await.expect("actor");
    assert!(actor.is_admin());
}

#[tokio::test]
async fn create_admin_refuses_a_weak_password_and_has_no_password_argument() {
    let db = create_test_database().await;
    let mut cmd = medconnect();
    cmd.args(["create-admin", "--email", "root@example.org"]).env("DATABASE_URL", &db).env("MEDCONNECT_DEV", "1");
    let out = run_with_stdin(cmd, "short\n");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("password"));

    let out =
        medconnect().args(["create-admin", "--email", "a@example.org", "--password", PASSWORD]).output().expect("run");
    assert!(!out.status.success(), "a --password argument must not exist");
}

#[tokio::test]
async fn the_server_refuses_to_start_without_a_strong_signing_key_outside_dev_mode() {
    let db = create_test_database().await;
    let out = medconnect().arg("serve").env("DATABASE_URL", &db).output().expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("MEDCONNECT_JWT_SECRET"));

    let out = medconnect()
        .arg("serve")
        .env("DATABASE_URL", &db)
        .env("MEDCONNECT_JWT_SECRET", "secret")
        .output()
        .expect("run");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("MEDCONNECT_JWT_SECRET"), "{stderr}");
    assert!(!stderr.contains("\"secret\""));
}

#[tokio::test]
async fn the_server_logs_no_password_token_or_health_data() {
    use std::io::{BufRead, BufReader};

    let db = create_test_database().await;
    let mut child = medconnect()
        .arg("serve")
        .env("DATABASE_URL", &db)
        .env("MEDCONNECT_DEV", "1")
        .env("MEDCONNECT_BIND", "127.0.0.1:0")
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    // Lines are read on a thread so that a server that never starts fails the test, not hangs it.
    let stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let (lines_tx, lines) = std::sync::mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        for line in stdout.lines().map_while(Result::ok) {
            let _ = lines_tx.send(line);
        }
    });
    let mut logs = String::new();
    let addr = loop {
        let line = lines
            .recv_timeout(std::time::Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("no start-up line: {logs}"));
        logs.push_str(&line);
        logs.push('\n');
        if line.contains("listening") {
            let rest = line.split("addr=").nth(1).unwrap_or_else(|| panic!("no addr in {line:?}"));
            break rest.split_whitespace().next().expect("addr").trim_matches('"').to_owned();
        }
    };
    let base = format!("http://{addr}");
    let client = reqwest::Client::new();
    let secret_password = "Zebra-Quasar-Password-4711";
    let signup = serde_json::json!({
        "email": "logcheck@example.org", "password": secret_password, "given_name": "Ottoline",
        "family_name": "Leyland-Secretname", "date_of_birth": "1970-01-01", "sex": "female"
    });
    let reply: serde_json::Value =
        client.post(format!("{base}/patients")).json(&signup).send().await.expect("signup").json().await.expect("json");
    let patient = reply["id"].as_str().expect("id").to_owned();
    let login: serde_json::Value = client
        .post(format!("{base}/login"))
        .json(&serde_json::json!({ "email": "logcheck@example.org", "password": secret_password }))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("json");
    let token = login["access_token"].as_str().expect("token").to_owned();
    let entry = serde_json::json!({ "patient_id": patient, "entry": { "kind": "note", "text": "Confidential-Diagnosis-8841" } });
    client.post(format!("{base}/medical_data")).bearer_auth(&token).json(&entry).send().await.expect("entry");
    client.get(format!("{base}/patients?name=Leyland")).bearer_auth(&token).send().await.expect("search");
    client
        .post(format!("{base}/login"))
        .json(&serde_json::json!({ "email": "x@example.org", "password": secret_password }))
        .send()
        .await
        .expect("bad login");
    child.kill().expect("kill");
    let output = child.wait_with_output().expect("wait");
    reader.join().expect("reader");
    logs.extend(lines.try_iter().map(|l| l + "\n"));
    logs.push_str(&String::from_utf8_lossy(&output.stderr));
    assert!(logs.contains("request"), "the server logged requests: {logs}");
    for secret in
        [secret_password, token.as_str(), "Confidential-Diagnosis-8841", "Leyland", "Ottoline", "logcheck@example.org"]
    {
        assert!(!logs.contains(secret), "{secret} appears in the logs:\n{logs}");
    }
}

#[test]
fn medconnect_train_reproduces_the_shipped_model_files_cards_and_plots() {
    let out = std::env::temp_dir().join(format!("medconnect-train-{}", uuid::Uuid::new_v4().simple()));
    // One kind keeps the test short; the core's test retrains every kind in process.
    let run = medconnect().args(["train", "--kind", "diabetes_risk", "--out"]).arg(&out).output().expect("run");
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let shipped = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../models");
    for kind in ["diabetes_risk"] {
        let model = format!("risk/{kind}.model");
        assert_eq!(
            std::fs::read(out.join(&model)).expect("trained"),
            std::fs::read(shipped.join(&model)).expect("shipped"),
            "{model}"
        );
        let card = format!("{kind}.md");
        assert_eq!(
            std::fs::read_to_string(out.join(&card)).expect("card"),
            std::fs::read_to_string(shipped.join(&card)).expect("shipped card"),
            "{card}"
        );
        for plot in [format!("plots/{kind}-roc.png"), format!("plots/{kind}-calibration.png")] {
            let drawn = std::fs::read(out.join(&plot)).expect("plot drawn");
            assert!(drawn.starts_with(b"\x89PNG\r\n\x1a\n"), "{plot} is a PNG");
            assert!(drawn == std::fs::read(shipped.join(&plot)).expect("shipped plot"), "{plot} differs");
        }
    }
    let _ = std::fs::remove_dir_all(out);
}

#[tokio::test]
async fn the_health_command_says_whether_a_server_is_ready() {
    let app = crate::helpers::spawn_app().await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    let ready = tokio::task::spawn_blocking(move || medconnect().args(["health", "--addr", &addr]).output())
        .await
        .expect("task")
        .expect("run medconnect health");
    assert!(ready.status.success(), "{}", String::from_utf8_lossy(&ready.stderr));
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").to_string();
    let down = tokio::task::spawn_blocking(move || medconnect().args(["health", "--addr", &closed]).output())
        .await
        .expect("task")
        .expect("run medconnect health");
    assert!(!down.status.success(), "nothing listens there");
}

#[tokio::test]
async fn api_key_create_prints_a_key_that_acts_as_the_account_once() {
    let db = create_test_database().await;
    let mut cmd = medconnect();
    cmd.args(["create-admin", "--email", "root@example.org"]).env("DATABASE_URL", &db).env("MEDCONNECT_DEV", "1");
    assert!(run_with_stdin(cmd, &format!("{PASSWORD}\n")).status.success());
    let out = medconnect()
        .args([
            "api-key",
            "create",
            "--email",
            "root@example.org",
            "--name",
            "nightly export",
            "--expires-in-days",
            "30",
        ])
        .env("DATABASE_URL", &db)
        .env("MEDCONNECT_DEV", "1")
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let key = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(key.starts_with("mck_"), "{key}");
    assert!(!String::from_utf8_lossy(&out.stderr).contains(&key), "the key goes to stdout only");

    let secret = medconnect_core::SecretKey::random;
    let mut config = medconnect_core::Config::new(db, secret(), secret());
    config.max_connections = 2;
    let core = medconnect_core::MedConnect::connect(config).await.expect("connect");
    let actor = core.authenticate(&key).await.expect("the key acts as the account");
    assert!(actor.is_admin());
    let stored: Vec<(String, Option<chrono::DateTime<chrono::Utc>>)> =
        sqlx::query_as("select name, expires_at from api_keys")
            .fetch_all(medconnect_core::test_support::pool(&core))
            .await
            .expect("rows");
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].0, "nightly export");
    assert!(stored[0].1.is_some());

    let unknown = medconnect()
        .args(["api-key", "create", "--email", "nobody@example.org", "--name", "x"])
        .env("DATABASE_URL", &create_test_database().await)
        .env("MEDCONNECT_DEV", "1")
        .output()
        .expect("run");
    assert!(!unknown.status.success());
}
