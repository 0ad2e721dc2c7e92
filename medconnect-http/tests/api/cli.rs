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

    let mut config = medconnect_core::Config::new(db, medconnect_core::auth::SigningKey::random());
    config.max_connections = 2;
    let core = medconnect_core::MedConnect::connect(config).await.expect("connect");
    let tokens = core.login("root@example.org", PASSWORD).await.expect("admin signs in");
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
