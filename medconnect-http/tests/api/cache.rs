//! The cache, against a real Redis: no caller can tell it is there except by speed.
//! Every kind of write is seen by the next read, on the same instance and on another one
//! sharing the Redis; revocations hold at once everywhere; cached data never crosses
//! callers and every cached read is still audited; Redis stopped mid-run, or the
//! invalidation channel dropped, changes nothing but speed; sign-in counters are shared.

use std::process::{Child, Command};
use std::time::{Duration, Instant};

use medconnect_core::SecretKey;
use serde_json::json;
use uuid::Uuid;

use crate::helpers::{Session, TestApp, assert_problem, blood_pressure, create_test_database, spawn_app_on};

/// Two instances of one deployment: one database, one Redis namespace, one signing key.
async fn two_instances(tweak: fn(&mut medconnect_core::Config)) -> (TestApp, TestApp) {
    let db = create_test_database().await;
    let keys = SecretKey::random();
    (spawn_app_on(&db, keys.clone(), tweak).await, spawn_app_on(&db, keys, tweak).await)
}

struct Ward {
    admin: Session,
    doctor_id: Uuid,
    doctor: Session,
    patient: Uuid,
    patient_s: Session,
}

async fn ward(app: &TestApp) -> Ward {
    let admin = app.admin().await;
    let (doctor_id, doctor) = app.doctor(&admin, "cardiology").await;
    let (patient, patient_s) = app.patient("Ada", "Lovelace").await;
    app.grant(&patient_s, patient, doctor_id).await;
    Ward { admin, doctor_id, doctor, patient, patient_s }
}

async fn records(app: &TestApp, token: &str, patient: Uuid) -> Vec<f64> {
    let reply = app.get(&format!("/medical_data/{patient}"), Some(token)).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    reply.body["items"].as_array().expect("items").iter().filter_map(|e| e["entry"]["value"].as_f64()).collect()
}

#[tokio::test]
async fn every_kind_of_write_is_seen_by_the_next_read_on_either_instance() {
    let (a, b) = two_instances(|_| {}).await;
    let w = ward(&a).await;
    // Warm both instances' caches, then write on one and read on the other, and back.
    assert!(records(&b, &w.doctor.access, w.patient).await.is_empty());
    assert_eq!(a.add_entry(&w.doctor.access, w.patient, blood_pressure(131.0)).await.status, 201);
    assert_eq!(records(&b, &w.patient_s.access, w.patient).await, vec![131.0]);
    assert_eq!(b.add_entry(&w.doctor.access, w.patient, blood_pressure(142.0)).await.status, 201);
    assert_eq!(records(&a, &w.doctor.access, w.patient).await, vec![142.0, 131.0]);

    // Care granted on B is seen by the policy on A (the relation is cached under the patient).
    let (other_id, other) = a.doctor(&w.admin, "neurology").await;
    let profile = format!("/patients/{}", w.patient);
    assert_eq!(a.get(&profile, Some(&other.access)).await.status, 404, "cached: not in care");
    b.grant(&w.patient_s, w.patient, other_id).await;
    assert_eq!(a.get(&profile, Some(&other.access)).await.status, 200, "granted on B, seen on A");
    let team = a.get(&format!("/patients/{}/care-team", w.patient), Some(&w.patient_s.access)).await;
    assert_eq!(team.body.as_array().map(Vec::len), Some(2));

    // Predictions and their reviews.
    let list = format!("/predictions/{}", w.patient);
    assert_eq!(b.get(&list, Some(&w.doctor.access)).await.body["items"].as_array().map(Vec::len), Some(0));
    let made = a
        .post("/predict", Some(&w.doctor.access), json!({ "patient_id": w.patient, "kind": "drug_interactions" }))
        .await;
    assert_eq!(made.status, 201);
    assert_eq!(b.get(&list, Some(&w.doctor.access)).await.body["items"].as_array().map(Vec::len), Some(1));
    let review = format!("/predictions/{}/review", made.id());
    assert_eq!(a.post(&review, Some(&w.doctor.access), json!({ "comment": "seen" })).await.status, 200);
    assert_eq!(b.get(&list, Some(&w.doctor.access)).await.body["items"][0]["review"]["comment"], "seen");

    // A doctor deactivated on A disappears from the directory on B.
    let doctor_path = format!("/doctors/{}", w.doctor_id);
    assert_eq!(b.get(&doctor_path, Some(&w.patient_s.access)).await.status, 200);
    let off = a.post(&format!("/users/{}/deactivate", w.doctor_id), Some(&w.admin.access), json!({})).await;
    assert_eq!(off.status, 200);
    assert_eq!(b.get(&doctor_path, Some(&w.patient_s.access)).await.status, 404);
}

#[tokio::test]
async fn revocations_hold_at_once_on_every_instance() {
    let (a, b) = two_instances(|_| {}).await;
    let w = ward(&a).await;
    let path = format!("/medical_data/{}", w.patient);
    // Warm B's cached session and relation for the doctor.
    assert_eq!(b.get(&path, Some(&w.doctor.access)).await.status, 200);
    let revoke =
        a.delete(&format!("/patients/{}/care-team/{}", w.patient, w.doctor_id), Some(&w.patient_s.access)).await;
    assert_eq!(revoke.status, 204);
    assert_problem(&b.get(&path, Some(&w.doctor.access)).await, 404);

    // Logout on A: the token is refused on B.
    assert_eq!(b.get("/me", Some(&w.patient_s.access)).await.status, 200);
    assert_eq!(a.post("/logout", Some(&w.patient_s.access), json!({})).await.status, 204);
    assert_problem(&b.get("/me", Some(&w.patient_s.access)).await, 401);

    // Deactivation on B: the doctor's token is refused on A.
    assert_eq!(a.get("/me", Some(&w.doctor.access)).await.status, 200);
    let off = b.post(&format!("/users/{}/deactivate", w.doctor_id), Some(&w.admin.access), json!({})).await;
    assert_eq!(off.status, 200);
    assert_problem(&a.get("/me", Some(&w.doctor.access)).await, 401);

    // Refresh-token reuse on A ends the session on B.
    let (_, patient) = a.patient("Grace", "Hopper").await;
    assert_eq!(b.get("/me", Some(&patient.access)).await.status, 200);
    let rotated = a.post("/token/refresh", None, json!({ "refresh_token": patient.refresh })).await;
    assert_eq!(rotated.status, 200);
    let reused = a.post("/token/refresh", None, json!({ "refresh_token": patient.refresh })).await;
    assert_problem(&reused, 401);
    assert_problem(&b.get("/me", Some(&patient.access)).await, 401);
}

#[tokio::test]
async fn cached_data_never_crosses_callers_and_every_cached_read_is_audited() {
    let (a, _) = two_instances(|_| {}).await;
    let w = ward(&a).await;
    a.add_entry(&w.doctor.access, w.patient, blood_pressure(187.0)).await;
    let path = format!("/medical_data/{}", w.patient);
    for _ in 0..3 {
        assert_eq!(records(&a, &w.doctor.access, w.patient).await, vec![187.0]);
    }
    let (_, stranger) = a.doctor(&w.admin, "cardiology").await;
    let (_, other_patient) = a.patient("Grace", "Hopper").await;
    for token in [&stranger.access, &other_patient.access] {
        let reply = a.get(&path, Some(token)).await;
        assert_problem(&reply, 404);
        assert!(!reply.body.to_string().contains("mm[Hg]"), "the entry, by its unit");
    }
    assert_problem(&a.get(&path, Some(&w.admin.access)).await, 403);
    let audited: Vec<(String, i64)> = sqlx::query_as(
        "select outcome, count(*) from audit_log where action = 'medical.read' and patient_id = $1 group by outcome order by outcome",
    )
    .bind(w.patient)
    .fetch_all(a.db())
    .await
    .expect("count");
    assert_eq!(audited, vec![("denied".to_owned(), 3), ("ok".to_owned(), 3)], "hits are audited like misses");
}

/// A Redis of one test's own, to stop and start.
struct TempRedis {
    port: u16,
    child: Option<Child>,
}

impl TempRedis {
    fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
        let mut redis = Self { port, child: None };
        redis.resume();
        redis
    }

    fn resume(&mut self) {
        let bin =
            std::env::var("MEDCONNECT_TEST_REDIS_BIN").expect("MEDCONNECT_TEST_REDIS_BIN is set by ./scripts/test");
        let child = Command::new(bin)
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server");
        self.child = Some(child);
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(started.elapsed() < Duration::from_secs(5), "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    fn cli(&self, args: &[&str]) -> String {
        let out =
            Command::new("redis-cli").arg("-p").arg(self.port.to_string()).args(args).output().expect("redis-cli");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for TempRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The patient revokes the doctor's care; the doctor's next read is refused at once.
async fn revoke_and_check_refused(app: &TestApp, w: &Ward) {
    let path = format!("/patients/{}/care-team/{}", w.patient, w.doctor_id);
    assert_eq!(app.delete(&path, Some(&w.patient_s.access)).await.status, 204);
    assert_problem(&app.get(&format!("/medical_data/{}", w.patient), Some(&w.doctor.access)).await, 404);
}

async fn cache_state(app: &TestApp) -> String {
    app.get("/ready", None).await.body["cache"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn redis_stopped_mid_run_changes_nothing_but_speed_and_is_used_again_when_back() {
    let mut redis = TempRedis::start();
    let db = create_test_database().await;
    let url = redis.url();
    let app = spawn_app_on(&db, SecretKey::random(), move |c| {
        c.redis_url = Some(url);
        c.cache_namespace = "stopped".into();
        c.redis_timeout = Duration::from_millis(50);
    })
    .await;
    let w = ward(&app).await;
    app.add_entry(&w.doctor.access, w.patient, blood_pressure(120.0)).await;
    assert_eq!(records(&app, &w.doctor.access, w.patient).await, vec![120.0]);
    assert_eq!(cache_state(&app).await, "ok");
    assert!(redis.cli(&["dbsize"]).trim().parse::<u64>().unwrap_or(0) > 0, "the cache was used");

    redis.stop();
    // Reads, writes, sign-ins and revocations go on from PostgreSQL.
    for value in [121.0, 122.0] {
        assert_eq!(app.add_entry(&w.doctor.access, w.patient, blood_pressure(value)).await.status, 201);
    }
    assert_eq!(records(&app, &w.doctor.access, w.patient).await, vec![122.0, 121.0, 120.0]);
    let me = app.get("/me", Some(&w.patient_s.access)).await;
    let email = me.body["email"].as_str().expect("email");
    assert_eq!(app.login(email, crate::helpers::PASSWORD).await.status, 200, "sign-in goes on too");
    assert_eq!(cache_state(&app).await, "degraded");
    revoke_and_check_refused(&app, &w).await;

    // Redis comes back empty: the cache is used again after the back-off, and still right.
    redis.resume();
    app.grant(&w.patient_s, w.patient, w.doctor_id).await;
    let started = Instant::now();
    loop {
        assert_eq!(records(&app, &w.doctor.access, w.patient).await, vec![122.0, 121.0, 120.0]);
        if cache_state(&app).await == "ok" && redis.cli(&["dbsize"]).trim().parse::<u64>().unwrap_or(0) > 0 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "the cache was not used again");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_dropped_invalidation_channel_leaves_no_stale_read() {
    let redis = TempRedis::start();
    let db = create_test_database().await;
    let keys = SecretKey::random();
    let tweak = {
        let url = redis.url();
        move |c: &mut medconnect_core::Config| {
            c.redis_url = Some(url.clone());
            c.cache_namespace = "dropped".into();
        }
    };
    let a = spawn_app_on(&db, keys.clone(), tweak.clone()).await;
    let b = spawn_app_on(&db, keys, tweak).await;
    let w = ward(&a).await;
    a.add_entry(&w.doctor.access, w.patient, blood_pressure(150.0)).await;
    for _ in 0..2 {
        assert_eq!(records(&a, &w.doctor.access, w.patient).await, vec![150.0]);
    }
    // Drop every subscriber's connection, as a network fault would, then write on B.
    let killed = redis.cli(&["client", "kill", "type", "pubsub"]);
    assert!(killed.trim().parse::<u64>().unwrap_or(0) >= 2, "both instances were subscribed: {killed}");
    b.add_entry(&w.doctor.access, w.patient, blood_pressure(160.0)).await;
    assert_eq!(records(&a, &w.doctor.access, w.patient).await, vec![160.0, 150.0], "no stale read on A");
    // And the channel comes back.
    let started = Instant::now();
    while redis.cli(&["pubsub", "numsub", "dropped:invalidate"]).lines().nth(1).map(str::trim) != Some("2") {
        assert!(started.elapsed() < Duration::from_secs(10), "the instances did not subscribe again");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn sign_in_counters_are_shared_by_the_instances() {
    let (a, b) = two_instances(|c| c.sign_in.per_account_and_address = 3).await;
    let (_, patient) = a.patient("Ada", "Lovelace").await;
    let email = a.get("/me", Some(&patient.access)).await.body["email"].as_str().expect("email").to_owned();
    assert_problem(&a.login(&email, "wrong one").await, 401);
    assert_problem(&b.login(&email, "wrong two").await, 401);
    assert_problem(&a.login(&email, "wrong three").await, 401);
    let fourth = b.login(&email, "wrong four").await;
    assert_problem(&fourth, 429);
    assert!(fourth.retry_after.is_some());
    let in_postgres: i64 =
        sqlx::query_scalar("select count(*) from sign_in_counters").fetch_one(a.db()).await.expect("count");
    assert_eq!(in_postgres, 0, "with Redis configured, the counters live in Redis");
}

#[tokio::test]
async fn without_redis_the_in_process_cache_serves_one_instance_correctly() {
    let db = create_test_database().await;
    let app = spawn_app_on(&db, SecretKey::random(), |c| c.redis_url = None).await;
    assert_eq!(cache_state(&app).await, "off");
    let w = ward(&app).await;
    assert!(records(&app, &w.doctor.access, w.patient).await.is_empty());
    app.add_entry(&w.doctor.access, w.patient, blood_pressure(133.0)).await;
    assert_eq!(records(&app, &w.doctor.access, w.patient).await, vec![133.0]);
    revoke_and_check_refused(&app, &w).await;
    assert_eq!(app.post("/logout", Some(&w.doctor.access), json!({})).await.status, 204);
    assert_problem(&app.get("/me", Some(&w.doctor.access)).await, 401);
}

/// Calls of one Redis command since the last `config resetstat`.
fn calls(redis: &TempRedis, command: &str) -> u64 {
    let stats = redis.cli(&["info", "commandstats"]);
    let prefix = format!("cmdstat_{command}:calls=");
    stats
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .and_then(|rest| rest.split(',').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

#[tokio::test]
async fn leased_instances_answer_warm_reads_from_memory_and_a_silent_one_is_waited_out() {
    let redis = TempRedis::start();
    let db = create_test_database().await;
    let keys = SecretKey::random();
    let lease = Duration::from_millis(600);
    let tweak = {
        let url = redis.url();
        move |c: &mut medconnect_core::Config| {
            c.redis_url = Some(url.clone());
            c.cache_namespace = "leased".into();
            c.cache_lease = Duration::from_millis(600);
        }
    };
    let a = spawn_app_on(&db, keys.clone(), tweak.clone()).await;
    let b = spawn_app_on(&db, keys, tweak).await;
    let w = ward(&a).await;
    a.add_entry(&w.doctor.access, w.patient, blood_pressure(140.0)).await;
    let started = Instant::now();
    while redis.cli(&["zcard", "leased:leases"]).trim() != "2" {
        assert!(started.elapsed() < Duration::from_secs(10), "both instances take a lease");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(lease).await;
    assert_eq!(records(&b, &w.doctor.access, w.patient).await, vec![140.0], "warms B");

    // Warm reads on a leased instance ask Redis nothing: no generation, no entry.
    redis.cli(&["config", "resetstat"]);
    let reading = Instant::now();
    for _ in 0..20 {
        assert_eq!(records(&b, &w.doctor.access, w.patient).await, vec![140.0]);
    }
    // Each instance renews its lease four times a period, with one script call.
    let renewals = 2 * (4 * reading.elapsed().as_millis() as u64 / lease.as_millis() as u64 + 1);
    let stats = redis.cli(&["info", "commandstats"]);
    assert_eq!((calls(&redis, "get"), calls(&redis, "mget"), calls(&redis, "eval")), (0, 0, 0), "{stats}");
    assert!(calls(&redis, "evalsha") <= renewals, "only lease renewals ({renewals} at most): {stats}");

    // A write is acknowledged only once B has dropped what it held: B's next read sees it.
    for value in [141.0, 142.0, 143.0] {
        assert_eq!(a.add_entry(&w.doctor.access, w.patient, blood_pressure(value)).await.status, 201);
        assert_eq!(records(&b, &w.doctor.access, w.patient).await[0], value, "B sees A's write at once");
    }

    // An instance on the lease list that never confirms (hung, or its messages lost): the
    // write strikes it off and waits until its lease has run out, then answers.
    redis.cli(&["zadd", "leased:leases", "99999999999999", "silent-instance"]);
    let writing = Instant::now();
    assert_eq!(a.add_entry(&w.doctor.access, w.patient, blood_pressure(150.0)).await.status, 201);
    assert!(writing.elapsed() >= lease, "the write waited out the silent instance's lease: {:?}", writing.elapsed());
    assert_eq!(redis.cli(&["zscore", "leased:leases", "silent-instance"]).trim(), "", "struck off");
    assert_eq!(records(&b, &w.doctor.access, w.patient).await[0], 150.0);
    let writing = Instant::now();
    assert_eq!(a.add_entry(&w.doctor.access, w.patient, blood_pressure(151.0)).await.status, 201);
    assert!(writing.elapsed() < lease, "later writes do not wait: {:?}", writing.elapsed());
}
