//! Drug-interaction engine: a 10-drug check (45 pairs), one name lookup, and loading
//! the knowledge base. `cargo bench -p medconnect-benches --bench interactions`.

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use medconnect_core::ai::interactions::InteractionKb;

/// A realistic polypharmacy list: several interacting pairs through classes and
/// substances, names in French, English and with accents.
const TEN_DRUGS: [&str; 10] = [
    "warfarin",
    "acide acétylsalicylique",
    "ibuprofène",
    "simvastatine",
    "clarithromycine",
    "amlodipine",
    "metformine",
    "paracetamol",
    "oméprazole",
    "amiodarone",
];

fn check(c: &mut Criterion) {
    let kb = InteractionKb::embedded().expect("load");
    let report = kb.check(&TEN_DRUGS);
    assert_eq!(report.drugs.len(), 10, "every name is known: {:?}", report.unknown);
    c.bench_function("check 10 drugs (45 pairs)", |b| {
        b.iter(|| black_box(kb.check(black_box(&TEN_DRUGS))).pairs.len())
    });
    c.bench_function("resolve one name", |b| b.iter(|| kb.resolve(black_box("Ibuprofène")).is_ok()));
    // As a server checks: two threads at once on the same knowledge base, whose shared texts
    // every report clones and drops.
    c.bench_function("check 10 drugs while another thread checks", |b| {
        b.iter_custom(|iters| {
            let stop = AtomicBool::new(false);
            std::thread::scope(|s| {
                s.spawn(|| {
                    while !stop.load(Ordering::Relaxed) {
                        black_box(kb.check(black_box(&TEN_DRUGS)));
                    }
                });
                let start = Instant::now();
                for _ in 0..iters {
                    black_box(kb.check(black_box(&TEN_DRUGS)));
                }
                let elapsed = start.elapsed();
                stop.store(true, Ordering::Relaxed);
                elapsed
            })
        })
    });
}

fn load(c: &mut Criterion) {
    let mut group = c.benchmark_group("load");
    group.sample_size(20);
    group.bench_function("knowledge base from the embedded sources", |b| {
        b.iter(|| black_box(InteractionKb::embedded().expect("load")).interaction_count())
    });
    group.finish();
}

criterion_group!(benches, check, load);
criterion_main!(benches);
