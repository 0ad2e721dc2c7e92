//! Every dependency fault is a 503 with `Retry-After`, never a 500: a pool with no free
//! connection, and a PostgreSQL restarted, stopped and started again under load. The
//! restart runs on a throwaway cluster of its own (initdb in a temporary directory), so the
//! other tests' shared cluster is never touched.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use medconnect_core::SecretKey;
use uuid::Uuid;

use crate::helpers::{assert_problem, blood_pressure, spawn_app_on, spawn_app_with};

#[tokio::test]
async fn a_pool_with_no_free_connection_answers_503_with_retry_after() {
    let app = spawn_app_with(|c| {
        c.max_connections = 1;
        c.acquire_timeout = Duration::from_millis(300);
    })
    .await;
    let admin = app.admin().await;
    let held = app.db().acquire().await.expect("the only connection");
    let reply = app.get("/me", Some(&admin.access)).await;
    assert_problem(&reply, 503);
    assert_eq!(reply.retry_after, Some(1));
    drop(held);
    assert_eq!(app.get("/me", Some(&admin.access)).await.status, 200);
}

/// A PostgreSQL cluster of one test's own, in a temporary directory.
struct TempCluster {
    dir: PathBuf,
    port: u16,
    bin: PathBuf,
    as_root: bool,
}

impl TempCluster {
    fn start() -> Self {
        let bin = PathBuf::from(
            std::env::var("MEDCONNECT_TEST_PG_BIN").expect("MEDCONNECT_TEST_PG_BIN is set by ./scripts/test"),
        );
        let as_root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"));
        let dir = std::env::temp_dir().join(format!("mctest-pg-{}", Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("temporary directory");
        if as_root {
            let chown = Command::new("chown").arg("postgres").arg(&dir).status().expect("chown");
            assert!(chown.success());
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("free port").local_addr().expect("addr").port();
        let cluster = Self { dir, port, bin, as_root };
        let data = cluster.data();
        cluster.run("initdb", &["-D", &data, "-U", "postgres", "--auth=trust", "--encoding=UTF8"]);
        cluster.ctl("start");
        cluster
    }

    fn data(&self) -> String {
        self.dir.join("data").display().to_string()
    }

    /// A PostgreSQL binary, run as the cluster owner (initdb refuses to run as root).
    fn command(&self, program: &str) -> Command {
        let program = self.bin.join(program);
        if self.as_root {
            let mut cmd = Command::new("runuser");
            cmd.args(["-u", "postgres", "--"]).arg(program);
            cmd
        } else {
            Command::new(program)
        }
    }

    fn run(&self, program: &str, args: &[&str]) {
        let out = self.command(program).args(args).output().expect("run a PostgreSQL binary");
        assert!(out.status.success(), "{program} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// `pg_ctl start | stop | restart`, fast shutdown, waiting for it to finish.
    fn ctl(&self, action: &str) {
        let options = format!("-p {} -k {} -c listen_addresses=127.0.0.1", self.port, self.dir.display());
        let log = self.dir.join("log").display().to_string();
        let data = self.data();
        let mut args = vec![action, "-D", &data, "-w", "-t", "30", "-m", "fast", "-l", &log];
        if action != "stop" {
            args.extend(["-o", &options]);
        }
        self.run("pg_ctl", &args);
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for TempCluster {
    fn drop(&mut self) {
        let _ = self.command("pg_ctl").args(["stop", "-D", &self.data(), "-m", "immediate"]).output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test]
async fn postgresql_restarted_and_stopped_under_load_gives_503_never_500() {
    let cluster = std::sync::Arc::new(TempCluster::start());
    let app = spawn_app_on(&cluster.url(), SecretKey::random(), |c| {
        c.max_connections = 4;
        c.acquire_timeout = Duration::from_secs(1);
    })
    .await;
    let admin = app.admin().await;
    let (doctor_id, doctor) = app.doctor(&admin, "cardiology").await;
    let (patient, patient_s) = app.patient("Ada", "Lovelace").await;
    app.grant(&patient_s, patient, doctor_id).await;

    let started = Instant::now();
    let deadline = started + Duration::from_secs(8);
    let workers = (0..6).map(|w| {
        let (app, token) = (app.clone(), doctor.access.clone());
        tokio::spawn(async move {
            let mut seen = Vec::new();
            let mut i = 0;
            while Instant::now() < deadline {
                let reply = if (i + w) % 2 == 0 {
                    app.get(&format!("/patients/{patient}"), Some(&token)).await
                } else {
                    app.add_entry(&token, patient, blood_pressure(120.0 + f64::from(i % 40))).await
                };
                let written = (reply.status == 201).then(|| reply.id());
                seen.push((started.elapsed(), reply.status, reply.retry_after, written));
                i += 1;
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            seen
        })
    });
    let workers: Vec<_> = workers.collect();
    let control = {
        let cluster = cluster.clone();
        tokio::task::spawn_blocking(move || {
            std::thread::sleep(Duration::from_millis(1500));
            cluster.ctl("restart");
            std::thread::sleep(Duration::from_millis(1500));
            cluster.ctl("stop");
            std::thread::sleep(Duration::from_millis(1500));
            cluster.ctl("start");
        })
    };
    let mut seen = Vec::new();
    for w in workers {
        seen.extend(w.await.expect("worker"));
    }
    control.await.expect("control");

    let count = |status: u16| seen.iter().filter(|s| s.1 == status).count();
    let unexpected: Vec<_> = seen.iter().filter(|s| ![200, 201, 503].contains(&s.1)).collect();
    assert!(unexpected.is_empty(), "answers other than 200, 201 or 503: {unexpected:?}");
    assert_eq!(count(500), 0);
    assert!(count(503) > 0, "the outage was seen");
    assert!(seen.iter().filter(|s| s.1 == 503).all(|s| s.2 == Some(1)), "every 503 says when to retry");
    let after_recovery = |status: u16| seen.iter().any(|s| s.0 > Duration::from_millis(6500) && s.1 == status);
    assert!(after_recovery(201), "writes succeed again once PostgreSQL is back");
    // Reads answer once their audit row is committed: the audit writer got a new connection.
    assert!(after_recovery(200), "audited reads succeed again once PostgreSQL is back");
    // Every acknowledged write is there.
    let acknowledged: Vec<Uuid> = seen.iter().filter_map(|s| s.3).collect();
    let stored: i64 = sqlx::query_scalar("select count(*) from medical_entries where id = any($1)")
        .bind(&acknowledged)
        .fetch_one(app.db())
        .await
        .expect("count");
    assert_eq!(stored as usize, acknowledged.len());
}
