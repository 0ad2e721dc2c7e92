//! The audit trail: a read answers only once its row is durable, rows are sealed within
//! about a second, two instances append at once, a sealer killed mid-batch leaves nothing
//! behind, and every kind of tampering by someone who can write the table (the trigger
//! disabled, as the table owner could) but does not hold the audit key is detected.

use std::time::{Duration, Instant};

use medconnect_core::SecretKey;
use serde_json::Value;
use uuid::Uuid;

use crate::helpers::{Session, TestApp, create_test_database, spawn_app, spawn_app_on, spawn_app_with};

/// A doctor with a patient in care, and an administrator.
struct Ward {
    app: TestApp,
    admin: Session,
    doctor: Session,
    patient: Uuid,
}

async fn ward(app: TestApp) -> Ward {
    let admin = app.admin().await;
    let (doctor_id, doctor) = app.doctor(&admin, "cardiology").await;
    let (patient, patient_s) = app.patient("Ada", "Lovelace").await;
    app.grant(&patient_s, patient, doctor_id).await;
    Ward { app, admin, doctor, patient }
}

impl Ward {
    async fn reads(&self, n: usize) {
        for _ in 0..n {
            let reply = self.app.get(&format!("/patients/{}", self.patient), Some(&self.doctor.access)).await;
            assert_eq!(reply.status, 200);
        }
    }

    async fn verify(&self, query: &str) -> Value {
        let reply = self.app.get(&format!("/audit/verify{query}"), Some(&self.admin.access)).await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        reply.body
    }

    async fn unsealed(&self) -> i64 {
        sqlx::query_scalar(
            "select count(*) from audit_log a
             where not exists (select 1 from audit_seals s where (a.txid, a.seq) <= (s.last_txid, s.last_seq))",
        )
        .fetch_one(self.app.db())
        .await
        .expect("count")
    }

    /// Waits until the sealer has chained every row (it runs twice a second by default).
    async fn wait_until_sealed(&self) {
        let started = Instant::now();
        while self.unsealed().await > 0 {
            assert!(started.elapsed() < Duration::from_secs(5), "rows still unsealed after 5 s");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Seals by hand until every row is chained. A pass seals only rows older than every
    /// transaction still running in the cluster, and other tests run transactions in other
    /// databases of the same cluster, so one pass may leave rows for the next.
    async fn seal_all(&self) {
        let started = Instant::now();
        loop {
            self.app.core.seal_audit_now().await.expect("seal");
            if self.unsealed().await == 0 {
                return;
            }
            assert!(started.elapsed() < Duration::from_secs(5), "rows still unsealed after 5 s");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Runs SQL as the table owner with the append-only trigger disabled, as an attacker
    /// with write access to the database could.
    async fn tamper(&self, sql: &str) {
        let mut tx = self.app.db().begin().await.expect("begin");
        sqlx::query("alter table audit_log disable trigger audit_log_no_update").execute(&mut *tx).await.expect("off");
        sqlx::query(sqlx::AssertSqlSafe(sql.to_owned())).execute(&mut *tx).await.expect("tamper");
        sqlx::query("alter table audit_log enable trigger audit_log_no_update").execute(&mut *tx).await.expect("on");
        tx.commit().await.expect("commit");
    }

    async fn count(&self) -> i64 {
        sqlx::query_scalar("select count(*) from audit_log").fetch_one(self.app.db()).await.expect("count")
    }
}

/// A ward whose sealer waits an hour, so that rows stay unsealed for the test.
async fn ward_without_sealing() -> Ward {
    ward(spawn_app_with(|c| c.audit_seal_within = Duration::from_secs(3600)).await).await
}

#[tokio::test]
async fn a_read_answers_only_once_its_audit_row_is_durable() {
    let w = ward(spawn_app().await).await;
    for i in 1..=5 {
        let reply = w.app.get(&format!("/medical_data/{}", w.patient), Some(&w.doctor.access)).await;
        assert_eq!(reply.status, 200);
        // Another connection sees the row as soon as the answer has arrived: it was committed first.
        let rows: i64 = sqlx::query_scalar(
            "select count(*) from audit_log where action = 'medical.read' and patient_id = $1 and outcome = 'ok'",
        )
        .bind(w.patient)
        .fetch_one(w.app.db())
        .await
        .expect("count");
        assert_eq!(rows, i, "after read {i}");
    }
}

#[tokio::test]
async fn a_burst_of_reads_is_durable_before_each_answer_and_still_sealed() {
    for lanes in [1, 2, 4] {
        a_burst_of_reads_with(lanes).await;
    }
}

async fn a_burst_of_reads_with(lanes: usize) {
    let w = ward(spawn_app_with(|c| c.audit_lanes = lanes).await).await;
    let path = format!("/patients/{}", w.patient);
    let reads = (0..64).map(|_| {
        let (path, token) = (path.clone(), w.doctor.access.clone());
        let app = &w.app;
        async move { app.get(&path, Some(&token)).await.status }
    });
    let statuses = futures_util::future::join_all(reads).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    // Every answer came after its row's commit, whichever lane committed it.
    let rows: i64 = sqlx::query_scalar("select count(*) from audit_log where action = 'patient.read'")
        .fetch_one(w.app.db())
        .await
        .expect("count");
    assert_eq!(rows, 64, "with {lanes} lanes");
    // The lanes keep their connections; the sealer still has one of its own.
    w.wait_until_sealed().await;
    assert_eq!(w.verify("").await["intact"], true);
}

#[tokio::test]
async fn rows_are_sealed_within_about_a_second_and_the_chain_verifies() {
    let w = ward(spawn_app().await).await;
    w.reads(20).await;
    let started = Instant::now();
    w.wait_until_sealed().await;
    // Within the configured second (plus the wait for transactions of other tests, which
    // share the cluster, to end).
    assert!(started.elapsed() < Duration::from_secs(3), "sealed after {:?}", started.elapsed());
    let report = w.verify("").await;
    assert_eq!(report["intact"], true, "{report}");
    assert_eq!(report["complete"], true);
    assert_eq!(report["sealed_rows_checked"].as_i64(), Some(w.count().await));
    assert!(report["head"].as_str().is_some_and(|h| h.len() == 64));
    let listed = w.app.get("/audit?limit=100", Some(&w.admin.access)).await;
    assert!(listed.body["items"].as_array().expect("items").iter().all(|e| e["sealed"] == true), "{}", listed.body);
}

#[tokio::test]
async fn an_edited_sealed_row_is_detected_and_named() {
    let w = ward(spawn_app().await).await;
    w.reads(5).await;
    w.wait_until_sealed().await;
    let seq: i64 = sqlx::query_scalar("select max(seq) from audit_log where action = 'patient.read'")
        .fetch_one(w.app.db())
        .await
        .expect("seq");
    w.tamper(&format!("update audit_log set action = 'patient.list' where seq = {seq}")).await;
    let report = w.verify("").await;
    assert_eq!(report["intact"], false, "{report}");
    assert_eq!(report["problem"]["seq"], seq, "{report}");
    assert!(report["problem"]["reason"].as_str().is_some_and(|r| r.contains("edited")));
}

#[tokio::test]
async fn a_deleted_sealed_row_is_detected() {
    let w = ward(spawn_app().await).await;
    w.reads(5).await;
    w.wait_until_sealed().await;
    w.tamper("delete from audit_log where seq = (select min(seq) + 3 from audit_log)").await;
    let report = w.verify("").await;
    assert_eq!(report["intact"], false, "{report}");
    assert!(report["problem"]["seal"].is_i64(), "{report}");
    assert!(report["problem"]["reason"].as_str().is_some_and(|r| r.contains("deleted")), "{report}");
}

#[tokio::test]
async fn a_row_inserted_into_the_sealed_chain_is_detected() {
    let w = ward(spawn_app().await).await;
    w.reads(5).await;
    w.wait_until_sealed().await;
    // A plausible access, slipped between two sealed rows, with a made-up MAC (the key is not in the database).
    w.tamper(&format!(
        "insert into audit_log (seq, txid, id, at, actor_id, actor_role, action, patient_id, outcome, row_mac)
         overriding system value
         select min(seq) + 1000000, min(txid), gen_random_uuid(), now(), actor_id, actor_role, 'medical.read', '{}', 'ok',
                sha256('forged')
         from audit_log group by actor_id, actor_role limit 1",
        w.patient
    ))
    .await;
    let report = w.verify("").await;
    assert_eq!(report["intact"], false, "{report}");
    assert!(report["problem"].is_object(), "{report}");
}

#[tokio::test]
async fn reordered_rows_are_detected() {
    let w = ward(spawn_app().await).await;
    w.reads(6).await;
    w.wait_until_sealed().await;
    // Swap the places of two sealed rows in the chain order.
    w.tamper(
        "with pair as (select (array_agg(seq order by seq))[2] as a, (array_agg(seq order by seq))[5] as b,
                              (array_agg(txid order by seq))[2] as ta, (array_agg(txid order by seq))[5] as tb
                       from audit_log where action = 'patient.read')
         update audit_log set txid = case when seq = pair.a then pair.tb else pair.ta end
         from pair where seq in (pair.a, pair.b)",
    )
    .await;
    let moved: i64 = sqlx::query_scalar("select count(distinct txid) from audit_log where action = 'patient.read'")
        .fetch_one(w.app.db())
        .await
        .expect("count");
    assert!(moved > 1, "the reads ran in separate transactions");
    let report = w.verify("").await;
    assert_eq!(report["intact"], false, "{report}");
}

#[tokio::test]
async fn a_cut_tail_is_detected_against_the_head_the_operator_kept() {
    // Sealed by hand only, so that every seal is the test's own.
    let w = ward_without_sealing().await;
    let latest_seal = || async {
        sqlx::query_as::<_, (i64, String)>("select id, encode(head, 'hex') from audit_seals order by id desc limit 1")
            .fetch_one(w.app.db())
            .await
            .expect("seal")
    };
    w.reads(3).await;
    w.seal_all().await;
    let (cut_after, _) = latest_seal().await;
    w.reads(3).await;
    w.seal_all().await;
    let (_, kept) = latest_seal().await;
    w.reads(3).await;
    w.seal_all().await;
    assert_eq!(w.verify(&format!("?head={kept}")).await["kept_head_found"], true);
    // Cut everything after an earlier seal, the kept one included: rows and seal records.
    w.tamper(&format!(
        "delete from audit_log where (txid, seq) > (select last_txid, last_seq from audit_seals where id = {cut_after})"
    ))
    .await;
    sqlx::query(sqlx::AssertSqlSafe(format!("delete from audit_seals where id > {cut_after}")))
        .execute(w.app.db())
        .await
        .expect("cut seals");
    let without_head = w.verify("").await;
    assert_eq!(without_head["intact"], true, "a clean cut looks whole without a kept head: {without_head}");
    let with_head = w.verify(&format!("?head={kept}")).await;
    assert_eq!(with_head["intact"], false, "{with_head}");
    assert_eq!(with_head["kept_head_found"], false);
}

#[tokio::test]
async fn rows_waiting_to_be_sealed_are_checked_against_their_mac() {
    let w = ward_without_sealing().await;
    w.reads(4).await;
    let clean = w.verify("").await;
    assert_eq!(clean["intact"], true, "{clean}");
    assert_eq!(clean["sealed_rows_checked"], 0);
    assert_eq!(clean["unsealed_rows_checked"].as_i64(), Some(w.count().await));
    w.tamper("update audit_log set outcome = 'denied' where seq = (select max(seq) from audit_log)").await;
    let report = w.verify("").await;
    assert_eq!(report["intact"], false, "{report}");
    assert!(report["problem"]["reason"].as_str().is_some_and(|r| r.contains("waiting")), "{report}");
}

#[tokio::test]
async fn a_forged_row_waiting_to_be_sealed_is_detected() {
    let w = ward_without_sealing().await;
    w.reads(2).await;
    w.tamper(&format!(
        "insert into audit_log (id, at, action, patient_id, outcome, row_mac)
         values (gen_random_uuid(), now(), 'medical.read', '{}', 'ok', sha256('forged'))",
        w.patient
    ))
    .await;
    let report = w.verify("").await;
    assert_eq!(report["intact"], false, "{report}");
}

#[tokio::test]
async fn a_sealer_killed_mid_batch_leaves_nothing_half_sealed() {
    let w = ward_without_sealing().await;
    w.reads(10).await;
    medconnect_core::test_support::seal_batch_then_die(&w.app.core).await.expect("dies");
    let seals: i64 = sqlx::query_scalar("select count(*) from audit_seals").fetch_one(w.app.db()).await.expect("n");
    assert_eq!(seals, 0, "the killed batch left no seal");
    let before = w.verify("").await;
    assert_eq!(before["intact"], true, "{before}");
    assert_eq!(before["sealed_rows_checked"], 0);
    w.seal_all().await;
    let after = w.verify("").await;
    assert_eq!(after["intact"], true, "{after}");
    assert_eq!(after["sealed_rows_checked"].as_i64(), Some(w.count().await));
}

#[tokio::test]
async fn two_instances_append_at_once_and_the_chain_verifies() {
    let db = create_test_database().await;
    let keys = SecretKey::random();
    let a = ward(spawn_app_on(&db, keys.clone(), |_| {}).await).await;
    let b = spawn_app_on(&db, keys, |_| {}).await;
    let path = format!("/patients/{}", a.patient);
    let reads = (0..40).map(|i| {
        let (app, path, token) = (if i % 2 == 0 { &a.app } else { &b }, path.clone(), a.doctor.access.clone());
        async move { app.get(&path, Some(&token)).await.status }
    });
    let statuses = futures_util::future::join_all(reads).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    a.wait_until_sealed().await;
    let counted: i64 = sqlx::query_scalar("select count(*) from audit_log where action = 'patient.read'")
        .fetch_one(a.app.db())
        .await
        .expect("count");
    assert_eq!(counted, 40);
    let report = a.verify("").await;
    assert_eq!(report["intact"], true, "{report}");
    assert_eq!(report["sealed_rows_checked"].as_i64(), Some(a.count().await));
}

#[tokio::test]
async fn verification_reports_how_far_it_got_and_can_start_from_a_seal() {
    // Sealed by hand only, so that every seal is the test's own.
    let w = ward_without_sealing().await;
    for _ in 0..3 {
        w.reads(2).await;
        w.seal_all().await;
    }
    let seals: Vec<i64> =
        sqlx::query_scalar("select id from audit_seals order by id").fetch_all(w.app.db()).await.expect("seals");
    assert!(seals.len() >= 3, "{seals:?}");
    let partial = w.verify("?max_rows=1").await;
    assert_eq!(partial["complete"], false, "{partial}");
    assert_eq!(partial["through_seal"], seals[0]);
    let from_second = w.verify(&format!("?from_seal={}", seals[1])).await;
    assert_eq!(from_second["intact"], true, "{from_second}");
    assert_eq!(from_second["through_seal"].as_i64(), seals.last().copied());
    let unknown = w.app.get("/audit/verify?from_seal=999999", Some(&w.admin.access)).await;
    assert_eq!(unknown.status, 404);
    let bad_head = w.app.get("/audit/verify?head=xyz", Some(&w.admin.access)).await;
    assert_eq!(bad_head.status, 422);
    assert_eq!(bad_head.body["field"], "head");
}

#[tokio::test]
async fn the_command_line_verifies_against_a_kept_head_and_fails_on_tampering() {
    let db = create_test_database().await;
    let raw_key = "q8Zr2-Lm4Xp9Wt7Vb3Nc6Hd1Jf5Kg0Ys-audit-cli-test";
    let key = SecretKey::parse("MEDCONNECT_AUDIT_KEY", raw_key).expect("key");
    let w = ward(spawn_app_on(&db, key, |_| {}).await).await;
    w.reads(3).await;
    w.wait_until_sealed().await;
    let head = w.verify("").await["head"].as_str().expect("head").to_owned();
    let run = || {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_medconnect"));
        cmd.args(["audit", "verify", "--head", &head])
            .env("DATABASE_URL", &db)
            .env("MEDCONNECT_AUDIT_KEY", raw_key)
            .env("MEDCONNECT_JWT_SECRET", raw_key)
            .env("RUST_LOG", "warn");
        cmd.output().expect("run medconnect audit verify")
    };
    let ok = run();
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    let report: Value = serde_json::from_slice(&ok.stdout).expect("JSON report");
    assert_eq!(report["intact"], true);
    assert_eq!(report["kept_head_found"], true);

    w.tamper("update audit_log set outcome = 'denied' where seq = (select min(seq) from audit_log)").await;
    let broken = run();
    assert_eq!(broken.status.code(), Some(1), "{}", String::from_utf8_lossy(&broken.stdout));
    let report: Value = serde_json::from_slice(&broken.stdout).expect("JSON report");
    assert_eq!(report["intact"], false);
}
