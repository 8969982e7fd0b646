//! Speed of the de-identification detector on a report-sized text.
//! Run: `cargo bench --bench deid`.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

fn detect(c: &mut Criterion) {
    let unit = "Tôi là người dân phường Vĩnh Hải, ông Nguyễn Văn A nhận 5.000.000đ ngày \
                12/03/2025 theo Quyết định 123/QĐ-UBND; liên hệ 0905 000 123 hoặc an@example.com. ";
    let mixed = unit.repeat(4000 / unit.chars().count() + 1);
    let letters = "Cán bộ một cửa hẹn đi hẹn lại nhiều lần mà không giải quyết hồ sơ. ".repeat(60);
    c.bench_function("deid::detect, 4,000 chars with findings", |b| {
        b.iter(|| tipline::deid::detect(black_box(&mixed)))
    });
    c.bench_function("deid::detect, 4,000 chars of plain prose", |b| {
        b.iter(|| tipline::deid::detect(black_box(&letters)))
    });
}

criterion_group!(benches, detect);
criterion_main!(benches);
