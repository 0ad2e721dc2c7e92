//! argon2id password hashing on a bounded pool of worker threads.
//!
//! Each hash needs 19 MiB of working memory. Allocating it per hash lets glibc keep the
//! freed blocks in per-thread arenas, and resident memory climbs to gigabytes under
//! sign-in load; and nothing would bound how many hashes run at once. So a fixed number
//! of workers (one per CPU by default) each own one memory buffer, reused for every hash,
//! and take jobs from a bounded queue. When the queue is full the caller gets
//! `Unavailable` at once (a 503 with `Retry-After`), not more memory. Callers never hold a
//! database connection while they wait.

use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::oneshot;
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// How long a caller refused by a full queue should wait before retrying.
const BUSY_RETRY_AFTER: Duration = Duration::from_secs(1);

enum Task {
    Hash { password: Zeroizing<Vec<u8>> },
    Verify { password: Zeroizing<Vec<u8>>, stored: String },
}

enum Answer {
    Hashed(String),
    Verified(bool),
}

struct Job {
    task: Task,
    reply: oneshot::Sender<Result<Answer>>,
}

/// Hashes and verifies passwords with argon2id (the crate's default parameters: 19 MiB,
/// two passes, one lane). Cheap to clone; the workers stop when the last clone is dropped.
#[derive(Clone)]
pub struct PasswordHasher {
    jobs: SyncSender<Job>,
    /// A hash of a random password, verified against when the e-mail is unknown so
    /// that unknown accounts and wrong passwords take the same time.
    decoy: Arc<str>,
}

impl PasswordHasher {
    /// Starts `workers` threads (at least one) behind a queue of `queue` waiting jobs.
    pub fn new(workers: usize, queue: usize) -> Result<Self> {
        let (jobs, receiver) = sync_channel::<Job>(queue.max(1));
        let receiver = Arc::new(Mutex::new(receiver));
        for i in 0..workers.max(1) {
            let receiver = receiver.clone();
            std::thread::Builder::new()
                .name(format!("medconnect-argon2-{i}"))
                .spawn(move || work(&receiver))
                .map_err(Error::internal)?;
        }
        let mut memory = vec![Block::default(); Params::default().block_count()];
        let random: [u8; 24] = rand::random();
        let decoy = hash_into(&mut memory, &random)?;
        Ok(Self { jobs, decoy: decoy.into() })
    }

    pub async fn hash(&self, password: &str) -> Result<String> {
        match self.submit(Task::Hash { password: Zeroizing::new(password.as_bytes().to_vec()) }).await? {
            Answer::Hashed(hash) => Ok(hash),
            Answer::Verified(_) => Err(Error::internal("a hash job answered with a verification")),
        }
    }

    /// Verifies `password` against `stored`, or against the decoy when there is no stored hash.
    /// Returns true only for a real hash that matches.
    pub async fn verify(&self, password: &str, stored: Option<&str>) -> Result<bool> {
        let task = Task::Verify {
            password: Zeroizing::new(password.as_bytes().to_vec()),
            stored: stored.unwrap_or(&self.decoy).to_owned(),
        };
        match self.submit(task).await? {
            Answer::Verified(matches) => Ok(stored.is_some() && matches),
            Answer::Hashed(_) => Err(Error::internal("a verification job answered with a hash")),
        }
    }

    async fn submit(&self, task: Task) -> Result<Answer> {
        let (reply, answer) = oneshot::channel();
        match self.jobs.try_send(Job { task, reply }) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                return Err(Error::Unavailable { dependency: "password hashing", retry_after: BUSY_RETRY_AFTER });
            }
            Err(TrySendError::Disconnected(_)) => return Err(Error::internal("the password hashers have stopped")),
        }
        answer.await.map_err(|_| Error::internal("a password hasher stopped mid-job"))?
    }
}

/// One worker: owns its argon2 memory for its whole life and reuses it for every job.
fn work(receiver: &Mutex<Receiver<Job>>) {
    let mut memory = vec![Block::default(); Params::default().block_count()];
    loop {
        let job = match receiver.lock() {
            Ok(receiver) => receiver.recv(),
            Err(_) => return,
        };
        let Ok(Job { task, reply }) = job else { return };
        let answer = match task {
            Task::Hash { password } => hash_into(&mut memory, &password).map(Answer::Hashed),
            Task::Verify { password, stored } => verify_into(&mut memory, &password, &stored).map(Answer::Verified),
        };
        let _ = reply.send(answer);
    }
}

/// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`) for `password`, computed in `memory`.
fn hash_into(memory: &mut [Block], password: &[u8]) -> Result<String> {
    let params = Params::default();
    let salt: [u8; 16] = rand::random();
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    let blocks = memory.get_mut(..params.block_count()).ok_or_else(|| Error::internal("argon2 memory too small"))?;
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password_into_with_memory(password, &salt, &mut out, blocks)
        .map_err(Error::internal)?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.into(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(Error::internal)?,
        salt: Some(Salt::new(&salt).map_err(Error::internal)?),
        hash: Some(Output::new(&out).map_err(Error::internal)?),
    };
    Ok(phc.to_string())
}

/// Whether `password` matches the PHC string `stored`, computed in `memory` (or in memory of
/// its own when `stored` asks for more than the default parameters).
fn verify_into(memory: &mut [Block], password: &[u8], stored: &str) -> Result<bool> {
    let phc = PasswordHash::new(stored).map_err(Error::internal)?;
    let algorithm = Algorithm::try_from(phc.algorithm.as_str()).map_err(Error::internal)?;
    let version = match phc.version {
        Some(v) => Version::try_from(v).map_err(Error::internal)?,
        None => Version::default(),
    };
    let params = Params::try_from(&phc).map_err(Error::internal)?;
    let (Some(salt), Some(expected)) = (phc.salt, phc.hash) else {
        return Err(Error::internal("a stored password hash has no salt or no output"));
    };
    let mut out = Zeroizing::new(vec![0u8; expected.len()]);
    let argon = Argon2::new(algorithm, version, params.clone());
    let computed = match memory.get_mut(..params.block_count()) {
        Some(blocks) => argon.hash_password_into_with_memory(password, salt.as_ref(), &mut out, blocks),
        None => argon.hash_password_into(password, salt.as_ref(), &mut out),
    };
    computed.map_err(Error::internal)?;
    Ok(constant_time_eq(&out, expected.as_bytes()))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::PasswordVerifier as _;

    #[tokio::test]
    async fn hashes_verify_here_and_with_the_reference_implementation() {
        let hasher = PasswordHasher::new(1, 4).expect("hasher");
        let hash = hasher.hash("correct horse battery staple").await.expect("hash");
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
        assert!(hasher.verify("correct horse battery staple", Some(&hash)).await.expect("verify"));
        assert!(!hasher.verify("wrong horse", Some(&hash)).await.expect("verify"));
        assert!(!hasher.verify("anything", None).await.expect("decoy"), "the decoy never matches");
        // The argon2 crate's own verifier agrees, so stored hashes stay standard PHC strings.
        let parsed = PasswordHash::new(&hash).expect("phc");
        assert!(Argon2::default().verify_password(b"correct horse battery staple", &parsed).is_ok());
        assert!(Argon2::default().verify_password(b"wrong horse", &parsed).is_err());
    }

    #[tokio::test]
    async fn hashes_made_by_the_reference_implementation_verify() {
        use argon2::PasswordHasher as _;
        let hasher = PasswordHasher::new(1, 4).expect("hasher");
        let reference = Argon2::default().hash_password(b"a long passphrase").expect("hash").to_string();
        assert!(hasher.verify("a long passphrase", Some(&reference)).await.expect("verify"));
        assert!(!hasher.verify("another passphrase", Some(&reference)).await.expect("verify"));
    }

    #[tokio::test]
    async fn a_full_queue_is_refused_at_once_with_a_retry_time() {
        let hasher = PasswordHasher::new(1, 1).expect("hasher");
        // On this single-threaded test runtime the tasks submit one after another within
        // microseconds, while one hash takes milliseconds: one runs, one waits, the rest are refused.
        let attempts: Vec<_> = (0..8)
            .map(|_| {
                let hasher = hasher.clone();
                tokio::spawn(async move { hasher.verify("guess", None).await })
            })
            .collect();
        let mut refused = 0;
        for attempt in attempts {
            match attempt.await.expect("task") {
                Ok(matched) => assert!(!matched),
                Err(err @ Error::Unavailable { .. }) => {
                    assert_eq!(err.retry_after(), Some(BUSY_RETRY_AFTER));
                    refused += 1;
                }
                Err(other) => panic!("unexpected {other:?}"),
            }
        }
        assert!(refused >= 5, "{refused} refused");
    }
}
