//! Criterion benchmarks for the cryptographic hot paths. Run: `cargo bench --bench crypto`.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use tipline::crypto::envelope::{self, ItemKind};
use tipline::crypto::receipt::RECEIPT_KDF;
use tipline::crypto::{Receipt, suite};
use tipline::ids::CaseId;

fn seal_open(c: &mut Criterion) {
    let keys: Vec<_> = (0..5).map(|_| suite::generate_keypair()).collect();
    let pks: Vec<_> = keys.iter().map(|k| k.1).collect();
    let case = CaseId::random();
    let summary = vec![0x41u8; 4096];
    c.bench_function("seal 4 KiB summary to 5 recipients", |b| {
        b.iter(|| {
            envelope::seal(
                ItemKind::Summary,
                &case,
                black_box(&pks),
                black_box(&summary),
            )
            .unwrap()
        })
    });
    let blob = envelope::seal(ItemKind::Summary, &case, &pks, &summary).unwrap();
    c.bench_function("open 4 KiB summary (1 of 5 recipients)", |b| {
        b.iter(|| envelope::open(black_box(&blob), ItemKind::Summary, &case, &keys[4].0).unwrap())
    });
    c.bench_function("seal + open 4 KiB summary, 5 recipients", |b| {
        b.iter(|| {
            let blob = envelope::seal(ItemKind::Summary, &case, &pks, black_box(&summary)).unwrap();
            envelope::open(&blob, ItemKind::Summary, &case, &keys[0].0).unwrap()
        })
    });
}

/// An identity split among n custodians with k = 2 (the default) and k = ⌈n/2⌉: sealing as
/// the bot does at submission, and opening as the requester does with k shares (each share
/// opened by its custodian first, as their clients do).
fn threshold_identity(c: &mut Criterion) {
    use tipline::crypto::threshold;
    let mut g = c.benchmark_group("threshold identity (300 B)");
    let identity = vec![0x41u8; 300];
    let case = CaseId::random();
    for n in [3usize, 5, 10] {
        let keys: Vec<_> = (0..n).map(|_| suite::generate_keypair()).collect();
        let pks: Vec<_> = keys.iter().map(|k| k.1).collect();
        let mut ks = vec![2u8];
        if n.div_ceil(2) > 2 {
            ks.push(n.div_ceil(2) as u8);
        }
        for k in ks {
            g.bench_function(format!("seal, n = {n}, k = {k}"), |b| {
                b.iter(|| {
                    threshold::seal(ItemKind::Identity, &case, black_box(&pks), k, &identity)
                        .unwrap()
                })
            });
            let blob = threshold::seal(ItemKind::Identity, &case, &pks, k, &identity).unwrap();
            g.bench_function(format!("open with k shares, n = {n}, k = {k}"), |b| {
                b.iter(|| {
                    let shares: Vec<_> = keys[..usize::from(k)]
                        .iter()
                        .map(|(sk, _)| {
                            threshold::share_of(black_box(&blob), ItemKind::Identity, &case, sk)
                                .unwrap()
                        })
                        .collect();
                    threshold::open_with_shares(&blob, ItemKind::Identity, &case, &shares).unwrap()
                })
            });
        }
    }
    g.finish();
}

fn receipt(c: &mut Criterion) {
    let mut g = c.benchmark_group("receipt");
    g.sample_size(10);
    let text = Receipt::generate().expose_text();
    g.bench_function(
        "derive lookup id + mailbox key (argon2id 64 MiB, t=3)",
        |b| {
            b.iter(|| {
                Receipt::parse(&text)
                    .unwrap()
                    .derive_blocking(RECEIPT_KDF)
                    .unwrap()
            })
        },
    );
    g.finish();
}

criterion_group!(benches, seal_open, threshold_identity, receipt);
criterion_main!(benches);
