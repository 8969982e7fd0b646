//! Precision and recall of `tipline::deid::detect` on the labelled synthetic corpus
//! `tests/data/deid/corpus.jsonl` (one JSON object per line: `text` and `expect`, a list of
//! `{kind, text}` where `text` is an exact substring of the line).
//!
//! Matching rule: a finding is a true positive when its kind equals the expected kind and its
//! span, after trimming whitespace and punctuation at both ends, either equals the expected
//! span or overlaps it by at least 80 % of the longer of the two. Matching is one-to-one. An
//! expected text that occurs several times in a line stands for its occurrences in order.
//!
//! For numeric kinds (phones, IDs, passports, bank accounts, tax and social-insurance codes,
//! plates) the finding must also cover every digit of the expected span: a redaction that
//! leaves digits visible is a miss however much it overlaps.
//!
//! Thresholds (from the brief): recall ≥ 0.98 for phones (mobile + landline, a mobile/landline
//! mix-up counting as found), e-mails and ID numbers (CCCD/CMND + passport), recall ≥ 0.95 for
//! every numeric kind on its own, and overall precision ≥ 0.95. Run with `-- --nocapture` to see the table; set `DEID_CORPUS_VERBOSE=1` to
//! list the misses (the corpus is synthetic, so printing it is harmless).

use std::collections::BTreeMap;
use std::ops::Range;

use serde::Deserialize;
use tipline::deid::{FieldHint, FindingKind, Owner, detect, owners};

#[derive(Deserialize)]
struct Line {
    text: String,
    expect: Vec<Expected>,
}

#[derive(Deserialize)]
struct Expected {
    kind: String,
    text: String,
    /// Whose it is: `reporter`, `official`, `agency` or `third_party` (the independent set, and
    /// the development lines written for ownership).
    #[serde(default)]
    owner: Option<String>,
}

const CORPUS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/deid/corpus.jsonl"
));

/// The independent evaluation set (`tests/data/deid/INDEPENDENT.md`): written without seeing
/// the detector, and never tuned against line by line.
const INDEPENDENT: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/deid/independent.jsonl"
));

#[derive(Default, Clone, Copy)]
struct Counts {
    tp: usize,
    fp: usize,
    fn_: usize,
}

impl Counts {
    fn precision(self) -> f64 {
        ratio(self.tp, self.tp + self.fp)
    }
    fn recall(self) -> f64 {
        ratio(self.tp, self.tp + self.fn_)
    }
    fn add(&mut self, o: Counts) {
        self.tp += o.tp;
        self.fp += o.fp;
        self.fn_ += o.fn_;
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 1.0 } else { a as f64 / b as f64 }
}

fn trim(text: &str, r: Range<usize>) -> Range<usize> {
    let s = &text[r.clone()];
    let is_edge = |c: char| c.is_whitespace() || (c.is_ascii_punctuation() && c != '+' && c != '@');
    let left = s.len() - s.trim_start_matches(is_edge).len();
    let right = s.trim_end_matches(is_edge).len();
    if left >= right {
        return r;
    }
    r.start + left..r.start + right
}

fn matches(text: &str, a: &Range<usize>, b: &Range<usize>) -> bool {
    let (a, b) = (trim(text, a.clone()), trim(text, b.clone()));
    if text[a.clone()] == text[b.clone()] {
        return true;
    }
    let overlap = a.end.min(b.end).saturating_sub(a.start.max(b.start));
    overlap * 5 >= a.len().max(b.len()) * 4
}

/// Kinds whose value is a number (passports and plates too: letters and digits): a
/// redaction that leaves any of its digits visible has failed.
fn numeric(kind: FindingKind) -> bool {
    matches!(
        kind,
        FindingKind::MobilePhone
            | FindingKind::Landline
            | FindingKind::CitizenId
            | FindingKind::Passport
            | FindingKind::BankAccount
            | FindingKind::TaxCode
            | FindingKind::SocialInsurance
            | FindingKind::LicencePlate
    )
}

/// For numeric kinds, the finding `found` must cover every digit of the expected span.
fn covers_digits(text: &str, expected: &Range<usize>, found: &Range<usize>) -> bool {
    let digits: Vec<usize> = text[expected.clone()]
        .char_indices()
        .filter(|(_, c)| c.is_numeric())
        .map(|(i, c)| expected.start + i + c.len_utf8())
        .collect();
    let first = text[expected.clone()]
        .char_indices()
        .find(|(_, c)| c.is_numeric())
        .map(|(i, _)| expected.start + i);
    match (first, digits.last()) {
        (Some(first), Some(&last_end)) => found.start <= first && found.end >= last_end,
        _ => true,
    }
}

/// Whether a finding of kind `kind` at `found` stands for the expected span.
fn hit(text: &str, kind: FindingKind, expected: &Range<usize>, found: &Range<usize>) -> bool {
    if numeric(kind) {
        covers_digits(text, expected, found) && matches(text, expected, found)
    } else {
        matches(text, expected, found)
    }
}

/// Locates each expected text in the line, the n-th repetition at the n-th occurrence.
fn locate(line_no: usize, line: &Line) -> Vec<(FindingKind, Range<usize>)> {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    line.expect
        .iter()
        .map(|e| {
            let kind = FindingKind::from_code(&e.kind)
                .unwrap_or_else(|| panic!("line {line_no}: unknown kind {}", e.kind));
            let nth = seen.entry(e.text.as_str()).or_insert(0);
            let start = line
                .text
                .match_indices(e.text.as_str())
                .nth(*nth)
                .unwrap_or_else(|| panic!("line {line_no}: {:?} not in text", e.text))
                .0;
            *nth += 1;
            (kind, start..start + e.text.len())
        })
        .collect()
}

/// Phone and ID groups for the recall thresholds.
fn group(kind: FindingKind) -> &'static str {
    match kind {
        FindingKind::MobilePhone | FindingKind::Landline => "phones",
        FindingKind::CitizenId | FindingKind::Passport => "ids",
        other => other.code(),
    }
}

struct Tally {
    /// Recall by owner of the expected span (`-` when the corpus has none).
    by_owner: BTreeMap<String, Counts>,
    strict: BTreeMap<FindingKind, Counts>,
    grouped: BTreeMap<&'static str, Counts>,
    negative_lines: usize,
    negative_lines_flagged: usize,
    /// Negative lines with a finding that the review would remove by default (one that seems
    /// the reporter's): the text would lose something for nothing.
    negative_lines_removed: usize,
    /// Found spans with an owner label: (decided right, total) by label. Right means kept by
    /// default for an official's or an office's, removed by default for the reporter's or a
    /// third party's.
    owner_decisions: BTreeMap<String, (usize, usize)>,
    lines: usize,
}

fn score(
    text: &str,
    expected: &[(FindingKind, Range<usize>)],
    found: &[(FindingKind, Range<usize>)],
    same: impl Fn(FindingKind, FindingKind) -> bool,
    mut bump: impl FnMut(FindingKind, Counts),
    verbose: bool,
) {
    let mut used = vec![false; found.len()];
    for (ek, er) in expected {
        let hit = found
            .iter()
            .enumerate()
            .position(|(i, (fk, fr))| !used[i] && same(*ek, *fk) && hit(text, *ek, er, fr));
        match hit {
            Some(i) => {
                used[i] = true;
                bump(
                    *ek,
                    Counts {
                        tp: 1,
                        ..Counts::default()
                    },
                );
            }
            None => {
                if verbose {
                    println!(
                        "  MISS {:<20} {:?}  in {:?}",
                        ek.code(),
                        &text[er.clone()],
                        text
                    );
                }
                bump(
                    *ek,
                    Counts {
                        fn_: 1,
                        ..Counts::default()
                    },
                );
            }
        }
    }
    for (i, (fk, fr)) in found.iter().enumerate() {
        if !used[i] {
            if verbose {
                println!(
                    "  FALSE {:<19} {:?}  in {:?}",
                    fk.code(),
                    &text[fr.clone()],
                    text
                );
            }
            bump(
                *fk,
                Counts {
                    fp: 1,
                    ..Counts::default()
                },
            );
        }
    }
}

fn run_corpus(corpus: &str) -> Tally {
    let verbose = std::env::var_os("DEID_CORPUS_VERBOSE").is_some();
    let mut tally = Tally {
        by_owner: BTreeMap::new(),
        strict: BTreeMap::new(),
        grouped: BTreeMap::new(),
        negative_lines: 0,
        negative_lines_flagged: 0,
        negative_lines_removed: 0,
        owner_decisions: BTreeMap::new(),
        lines: 0,
    };
    for (i, raw) in corpus.lines().enumerate() {
        if raw.trim().is_empty() {
            continue;
        }
        let line_no = i + 1;
        let line: Line = serde_json::from_str(raw)
            .unwrap_or_else(|e| panic!("line {line_no}: invalid JSON: {e}"));
        tally.lines += 1;
        let expected = locate(line_no, &line);
        let findings = detect(&line.text);
        let decided = owners(&line.text, &findings, FieldHint::None);
        let found: Vec<(FindingKind, Range<usize>)> =
            findings.into_iter().map(|f| (f.kind, f.range)).collect();
        if expected.is_empty() {
            tally.negative_lines += 1;
            if !found.is_empty() {
                tally.negative_lines_flagged += 1;
            }
            if decided.iter().any(|o| o.removed_by_default()) {
                tally.negative_lines_removed += 1;
                if verbose {
                    println!("  REMOVED-BY-DEFAULT in negative {:?}", line.text);
                }
            }
        }
        for (e, (kind, range)) in line.expect.iter().zip(&expected) {
            let Some(label) = e.owner.clone() else {
                continue;
            };
            let Some(i) = found
                .iter()
                .position(|(fk, fr)| fk == kind && hit(&line.text, *kind, range, fr))
            else {
                continue;
            };
            let keep_wanted = matches!(label.as_str(), "official" | "agency");
            let right = decided[i].removed_by_default() != keep_wanted;
            if verbose && !right {
                println!(
                    "  OWNER {label} decided {:?}: {:?} in {:?}",
                    decided[i],
                    &line.text[range.clone()],
                    line.text
                );
            }
            let entry = tally.owner_decisions.entry(label).or_default();
            entry.0 += usize::from(right);
            entry.1 += 1;
        }
        score(
            &line.text,
            &expected,
            &found,
            |a, b| a == b,
            |k, c| tally.strict.entry(k).or_default().add(c),
            verbose,
        );
        score(
            &line.text,
            &expected,
            &found,
            |a, b| group(a) == group(b),
            |k, c| tally.grouped.entry(group(k)).or_default().add(c),
            false,
        );
        for (e, (kind, range)) in line.expect.iter().zip(&expected) {
            let owner = e.owner.clone().unwrap_or_else(|| "-".into());
            let found_it = found
                .iter()
                .any(|(fk, fr)| fk == kind && hit(&line.text, *kind, range, fr));
            tally.by_owner.entry(owner).or_default().add(Counts {
                tp: usize::from(found_it),
                fn_: usize::from(!found_it),
                ..Counts::default()
            });
        }
    }
    tally
}

/// Prints the per-kind table of a tally and returns the overall counts.
fn print_table(tally: &Tally) -> Counts {
    let mut total = Counts::default();
    println!();
    println!("| kind | expected | TP | FP | FN | precision | recall |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for kind in FindingKind::ALL {
        let c = tally.strict.get(&kind).copied().unwrap_or_default();
        total.add(c);
        println!(
            "| {} | {} | {} | {} | {} | {:.3} | {:.3} |",
            kind.code(),
            c.tp + c.fn_,
            c.tp,
            c.fp,
            c.fn_,
            c.precision(),
            c.recall()
        );
    }
    println!(
        "| **all** | {} | {} | {} | {} | {:.3} | {:.3} |",
        total.tp + total.fn_,
        total.tp,
        total.fp,
        total.fn_,
        total.precision(),
        total.recall()
    );
    println!();
    for g in ["phones", "email", "ids"] {
        let c = tally.grouped.get(g).copied().unwrap_or_default();
        println!(
            "group {g}: recall {:.3} ({} of {})",
            c.recall(),
            c.tp,
            c.tp + c.fn_
        );
    }
    for (owner, c) in &tally.by_owner {
        println!(
            "owner {owner}: recall {:.3} ({} of {})",
            c.recall(),
            c.tp,
            c.tp + c.fn_
        );
    }
    for (owner, (right, n)) in &tally.owner_decisions {
        println!(
            "owner {owner}: default decided right for {right} of {n} found ({:.3})",
            *right as f64 / (*n).max(1) as f64
        );
    }
    println!(
        "lines: {}, negative lines: {}, negative lines with a finding: {}, with a finding removed by default: {}",
        tally.lines,
        tally.negative_lines,
        tally.negative_lines_flagged,
        tally.negative_lines_removed
    );
    total
}

/// Share of found, owner-labelled spans whose default (keep or remove) is right.
fn owner_accuracy(tally: &Tally) -> f64 {
    let (right, n) = tally
        .owner_decisions
        .values()
        .fold((0, 0), |(r, t), (a, b)| (r + a, t + b));
    right as f64 / n.max(1) as f64
}

#[test]
fn corpus_precision_and_recall() {
    let tally = run_corpus(CORPUS);
    let total = print_table(&tally);

    assert!(tally.lines >= 300, "corpus too small: {}", tally.lines);
    assert!(
        tally.negative_lines >= 120,
        "too few negatives: {}",
        tally.negative_lines
    );
    for kind in FindingKind::ALL {
        let n = tally.strict.get(&kind).map_or(0, |c| c.tp + c.fn_);
        assert!(
            n >= 5,
            "kind {} has only {n} labelled examples",
            kind.code()
        );
    }
    for g in ["phones", "email", "ids"] {
        let c = tally.grouped.get(g).copied().unwrap_or_default();
        assert!(c.recall() >= 0.98, "{g} recall {:.3} < 0.98", c.recall());
    }
    for kind in FindingKind::ALL.into_iter().filter(|k| numeric(*k)) {
        let c = tally.strict.get(&kind).copied().unwrap_or_default();
        assert!(
            c.recall() >= 0.95,
            "{} recall {:.3} < 0.95",
            kind.code(),
            c.recall()
        );
    }
    assert!(
        total.precision() >= 0.95,
        "overall precision {:.3} < 0.95",
        total.precision()
    );
    // Whose it is: officials' and offices' numbers kept by default, the reporter's removed.
    let labelled: usize = tally.owner_decisions.values().map(|(_, n)| n).sum();
    assert!(labelled >= 25, "only {labelled} owner-labelled spans found");
    assert!(
        owner_accuracy(&tally) >= 0.95,
        "owner defaults right for only {:.3}",
        owner_accuracy(&tally)
    );
    assert_eq!(Owner::from_code("official"), Owner::Official);
}

/// The independent set's figures, as BENCHMARKS.md reports them (`cargo test --test all
/// deid_corpus::independent -- --nocapture`). Its thresholds (issue 17) are not met yet, so
/// this checks only that the set is whole: every line parses, every span is in its line,
/// every kind has examples, and about two lines in five are negatives.
#[test]
fn independent_corpus_figures() {
    let tally = run_corpus(INDEPENDENT);
    print_table(&tally);
    assert!(
        tally.lines >= 600,
        "independent set too small: {}",
        tally.lines
    );
    assert!(
        tally.negative_lines * 10 >= tally.lines * 3,
        "too few negatives: {} of {}",
        tally.negative_lines,
        tally.lines
    );
    for kind in FindingKind::ALL {
        let n = tally.strict.get(&kind).map_or(0, |c| c.tp + c.fn_);
        assert!(n >= 4, "kind {} has only {n} examples", kind.code());
    }
    assert!(
        tally
            .by_owner
            .keys()
            .all(|o| ["reporter", "official", "agency", "third_party"].contains(&o.as_str()))
    );
}

#[test]
fn matching_rule_examples() {
    let t = "sđt: 0905 000 123.";
    let exp = 5..t.len() - 1;
    assert!(
        matches(t, &exp, &(5..t.len())),
        "trailing punctuation ignored"
    );
    assert!(matches(t, &exp, &(4..t.len())), "leading space ignored");
    assert!(!matches(t, &exp, &(5..9)), "a fragment is not a match");
    // 80 % overlap is enough for text, not for a number that leaves digits visible.
    let t = "CCCD 079 200 000 123";
    let exp = 5..t.len();
    let short = 5..t.len() - 1;
    assert!(matches(t, &exp, &short));
    assert!(
        !hit(t, FindingKind::CitizenId, &exp, &short),
        "a digit stays visible"
    );
    assert!(hit(t, FindingKind::CitizenId, &exp, &(4..t.len())));
}
