//! Known-answer tests for the byte formats of `docs/FORMATS.md`, against vectors computed by an
//! independent implementation written from that document (`tests/data/formats/independent.py`,
//! no code shared with the crate):
//!
//! * `tests/data/pseudonym/kat.json`: server secret files (§9), pseudonyms (§10) and draft keys
//!   (§11);
//! * `tests/data/receipt/kat.json`: receipt parsing and printing (§8.1, §8.2) and the receipt
//!   derivation (§8.3): lookup id and mailbox keypair, with the test and the production argon2id
//!   parameters.
//!
//! If one of these fails, either the Rust code changed a frozen format (then it is the code that
//! is wrong: every stored receipt, pseudonym and draft depends on these bytes) or the document
//! and its independent implementation are wrong; `python3 tests/data/formats/independent.py
//! check` tells the two apart.

use std::path::PathBuf;

use serde::Deserialize;
use tipline::crypto::keyfile::KdfParams;
use tipline::crypto::receipt::RECEIPT_KDF;
use tipline::crypto::secret::SecretError;
use tipline::crypto::{CryptoError, Receipt, ServerSecret, suite};
use tipline::ids::CaseCode;

fn data_file(rel: &str) -> String {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests", "data", rel]
        .iter()
        .collect();
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap_or_else(|e| panic!("bad hex in a KAT file ({e}): {s}"))
}

// --- tests/data/pseudonym/kat.json -----------------------------------------------------------

#[derive(Deserialize)]
struct PseudonymKat {
    hmac: HmacSettings,
    draft_key: DraftKeySettings,
    secrets: Vec<SecretCase>,
    vectors: Vec<PseudonymVector>,
}

#[derive(Deserialize)]
struct HmacSettings {
    algorithm: String,
    message_prefix: String,
    message_prefix_hex: String,
}

#[derive(Deserialize)]
struct DraftKeySettings {
    kdf: String,
    salt: String,
    salt_hex: String,
    info: String,
    info_hex: String,
    length: usize,
}

#[derive(Deserialize)]
struct SecretCase {
    name: String,
    file_text: String,
    current_version: u32,
    versions: Vec<SecretVersion>,
}

#[derive(Deserialize)]
struct SecretVersion {
    version: u32,
    key_hex: String,
    draft_key_hex: String,
}

#[derive(Deserialize)]
struct PseudonymVector {
    secret: usize,
    version: u32,
    is_current: bool,
    telegram_id: i64,
    message_hex: String,
    pseudonym_hex: String,
}

fn pseudonym_kat() -> PseudonymKat {
    serde_json::from_str(&data_file("pseudonym/kat.json")).expect("pseudonym/kat.json parses")
}

fn parse_secret(case: &SecretCase) -> ServerSecret {
    ServerSecret::parse(&case.file_text)
        .unwrap_or_else(|e| panic!("secret {:?} does not parse: {e}", case.name))
}

/// The constants the file states match the ones FORMATS.md §2 gives (a guard against a KAT file
/// generated from an edited copy of the document).
#[test]
fn pseudonym_kat_states_the_documented_constants() {
    let kat = pseudonym_kat();
    assert_eq!(kat.hmac.algorithm, "HMAC-SHA256");
    assert_eq!(kat.hmac.message_prefix, "tipline/pseudonym/v1/telegram-id");
    assert_eq!(
        unhex(&kat.hmac.message_prefix_hex),
        kat.hmac.message_prefix.as_bytes()
    );
    assert_eq!(kat.draft_key.kdf, "HKDF-SHA256");
    assert_eq!(kat.draft_key.salt, "tipline");
    assert_eq!(unhex(&kat.draft_key.salt_hex), b"tipline");
    assert_eq!(kat.draft_key.info, "tipline/server-secret/v1/draft-key");
    assert_eq!(
        unhex(&kat.draft_key.info_hex),
        kat.draft_key.info.as_bytes()
    );
    assert_eq!(kat.draft_key.length, 32);
    assert_eq!(kat.secrets.len(), 2);
    assert_eq!(kat.vectors.len(), 36);
}

/// `ServerSecret::parse` reads each file text to the listed versions and keys, the highest
/// version is current, and `expose_file_text` writes the keys back in canonical form.
#[test]
fn server_secret_files_parse_to_the_known_versions() {
    let kat = pseudonym_kat();
    for case in &kat.secrets {
        let secret = parse_secret(case);
        assert_eq!(
            secret.current_version(),
            case.current_version,
            "{}: current version",
            case.name
        );
        let mut expected: Vec<u32> = case.versions.iter().map(|v| v.version).collect();
        expected.sort_unstable_by(|a, b| b.cmp(a));
        assert_eq!(
            secret.versions_newest_first(),
            expected,
            "{}: versions",
            case.name
        );
        // The key bytes are not exposed one by one; the canonical file text shows them all.
        let mut canonical = String::from(
            "# tipline server secret: keep private (mode 0600). One version per line;\n\
             # the highest is current, older ones keep drafts readable during a rotation.\n",
        );
        let mut ascending: Vec<&SecretVersion> = case.versions.iter().collect();
        ascending.sort_by_key(|v| v.version);
        for v in ascending {
            assert_eq!(v.key_hex.len(), 64);
            assert_eq!(v.key_hex, v.key_hex.to_lowercase());
            canonical.push_str(&format!("v{} {}\n", v.version, v.key_hex));
        }
        assert_eq!(
            *secret.expose_file_text(),
            canonical,
            "{}: keys (via the canonical file text)",
            case.name
        );
        // Round trip: the canonical text parses to the same secret.
        let again = ServerSecret::parse(&canonical).unwrap();
        assert_eq!(
            again.versions_newest_first(),
            secret.versions_newest_first()
        );
    }
}

#[test]
fn draft_keys_match() {
    let kat = pseudonym_kat();
    for case in &kat.secrets {
        let secret = parse_secret(case);
        for v in &case.versions {
            let key = secret
                .draft_key(v.version)
                .unwrap_or_else(|| panic!("{}: no draft key for v{}", case.name, v.version));
            assert_eq!(
                hex::encode(key.expose_bytes()),
                v.draft_key_hex,
                "{}: draft key of v{}",
                case.name,
                v.version
            );
        }
        // A version that is not in the file has no draft key.
        let absent = case.versions.iter().map(|v| v.version).max().unwrap_or(0) + 1;
        assert!(secret.draft_key(absent).is_none());
    }
}

#[test]
fn pseudonyms_match() {
    let kat = pseudonym_kat();
    let secrets: Vec<ServerSecret> = kat.secrets.iter().map(parse_secret).collect();
    let prefix = unhex(&kat.hmac.message_prefix_hex);
    let mut current_checked = 0;
    for (i, v) in kat.vectors.iter().enumerate() {
        let what = format!(
            "vector {i} (secret {}, v{}, id {})",
            v.secret, v.version, v.telegram_id
        );
        let secret = &secrets[v.secret];
        // The message the KAT states is the documented one (checks the file, not the code).
        let mut message = prefix.clone();
        message.extend_from_slice(&v.telegram_id.to_be_bytes());
        assert_eq!(hex::encode(&message), v.message_hex, "{what}: message");

        let p = secret
            .pseudonym_with(v.version, v.telegram_id)
            .unwrap_or_else(|| panic!("{what}: version missing"));
        assert_eq!(hex::encode(p.0), v.pseudonym_hex, "{what}: pseudonym_with");
        assert_eq!(
            v.is_current,
            v.version == secret.current_version(),
            "{what}: is_current"
        );
        if v.is_current {
            assert_eq!(
                hex::encode(secret.pseudonym(v.telegram_id).0),
                v.pseudonym_hex,
                "{what}: pseudonym (current version)"
            );
            current_checked += 1;
        } else {
            assert_ne!(
                secret.pseudonym(v.telegram_id),
                p,
                "{what}: versions differ"
            );
        }
    }
    assert_eq!(
        current_checked, 18,
        "nine ids under each secret's current version"
    );
}

/// The parsing details FORMATS.md §9.1 states beyond the KAT's two files.
#[test]
fn server_secret_parse_details() {
    let key = "00".repeat(32);
    let parse = |text: &str| ServerSecret::parse(text).map(|s| s.current_version());
    assert_eq!(parse(&format!("v+7 {key}")).unwrap(), 7);
    assert_eq!(parse(&format!("v007 {key}\nv3 {key}")).unwrap(), 7);
    assert_eq!(
        parse(&format!("\r\n  v4\t{}  \r\n", key.to_uppercase())).unwrap(),
        4
    );
    for bad in [
        format!("V1 {key}"),
        format!("v1 {key} # trailing comment"),
        format!("v-1 {key}"),
        format!("v4294967296 {key}"),
        format!("v1 {}", "00".repeat(31)),
        format!("v1{key}"),
    ] {
        let err = ServerSecret::parse(&format!("# c\n{bad}\n")).unwrap_err();
        assert!(matches!(err, SecretError::Malformed(2)), "{bad:?}: {err}");
    }
    let dup = ServerSecret::parse(&format!("v1 {key}\nv01 {key}\n")).unwrap_err();
    assert!(matches!(dup, SecretError::Malformed(0)), "{dup}");
    assert!(matches!(
        ServerSecret::parse("# only comments\n\n"),
        Err(SecretError::Empty)
    ));
}

/// The case code forms FORMATS.md §12.2 and docs/review-api.md state.
#[test]
fn case_code_parse_details() {
    for ok in [
        "KH-7Q4M-2XPA",
        "kh-7q4m-2xpa",
        " KH-7Q4M-2XPA\n",
        "7Q4M-2XPA",
        "7Q4M 2XPA",
        "7q4m2xpa",
        "KH-7Q4M2XPA",
    ] {
        assert_eq!(
            CaseCode::parse(ok)
                .map(|c| c.as_str().to_owned())
                .as_deref(),
            Some("KH-7Q4M-2XPA"),
            "{ok:?}"
        );
    }
    for bad in [
        "KH 7Q4M 2XPA",
        "KH7Q4M2XPA",
        "KH-7Q4M-2XP",
        "KH-7Q4M-2XPU",
        "KH-",
    ] {
        assert!(CaseCode::parse(bad).is_none(), "{bad:?}");
    }
}

// --- tests/data/receipt/kat.json -------------------------------------------------------------

#[derive(Deserialize)]
struct ReceiptKat {
    argon2: Argon2Settings,
    params: std::collections::BTreeMap<String, KdfParams>,
    vectors: Vec<ReceiptVector>,
    rejected: Vec<String>,
}

#[derive(Deserialize)]
struct Argon2Settings {
    algorithm: String,
    version: u32,
    salt_text: String,
    salt_hex: String,
    output_len: usize,
}

#[derive(Deserialize)]
struct ReceiptVector {
    receipt: String,
    also_accepted: Vec<String>,
    receipt_bytes_hex: String,
    params: String,
    kdf: KdfParams,
    mailbox_seed_hex: String,
    lookup_id_hex: String,
    mailbox_secret_hex: String,
    mailbox_public_hex: String,
}

fn receipt_kat() -> ReceiptKat {
    serde_json::from_str(&data_file("receipt/kat.json")).expect("receipt/kat.json parses")
}

#[test]
fn receipt_kat_states_the_documented_parameters() {
    let kat = receipt_kat();
    assert_eq!(kat.argon2.algorithm, "argon2id");
    assert_eq!(kat.argon2.version, 0x13);
    assert_eq!(kat.argon2.salt_text, "tipline-receipt1");
    assert_eq!(unhex(&kat.argon2.salt_hex), b"tipline-receipt1");
    assert_eq!(kat.argon2.output_len, 32);
    assert_eq!(kat.params.get("RECEIPT_KDF"), Some(&RECEIPT_KDF));
    assert_eq!(
        kat.params.get("INSECURE_FOR_TESTS"),
        Some(&KdfParams::INSECURE_FOR_TESTS)
    );
    assert_eq!(kat.vectors.len(), 6);
    for v in &kat.vectors {
        assert_eq!(kat.params.get(&v.params), Some(&v.kdf), "{}", v.receipt);
    }
    assert!(
        kat.vectors.iter().any(|v| v.kdf == RECEIPT_KDF),
        "at least one vector uses the production parameters"
    );
}

/// Printing and tolerant parsing (§8.1, §8.2). The receipt bytes are not exposed, so the check
/// that `receipt_bytes_hex` is what the text encodes goes through the base32 codec.
#[test]
fn receipts_parse_and_print() {
    let kat = receipt_kat();
    for v in &kat.vectors {
        let raw = unhex(&v.receipt_bytes_hex);
        assert_eq!(raw.len(), 10);
        let groups = tipline::crypto::base32::encode(&raw);
        assert_eq!(
            format!(
                "{}-{}-{}-{}",
                &groups[0..4],
                &groups[4..8],
                &groups[8..12],
                &groups[12..16]
            ),
            v.receipt,
            "receipt_bytes_hex"
        );
        let r = Receipt::parse(&v.receipt)
            .unwrap_or_else(|e| panic!("{:?} does not parse: {e}", v.receipt));
        assert_eq!(*r.expose_text(), v.receipt);
        for other in &v.also_accepted {
            let o = Receipt::parse(other)
                .unwrap_or_else(|e| panic!("{other:?} (for {}) does not parse: {e}", v.receipt));
            assert_eq!(*o.expose_text(), v.receipt, "{other:?}");
        }
    }
}

#[test]
fn receipts_rejected() {
    let kat = receipt_kat();
    assert!(!kat.rejected.is_empty());
    for s in &kat.rejected {
        assert_eq!(
            Receipt::parse(s).err(),
            Some(CryptoError::InvalidReceipt),
            "{s:?} must be refused"
        );
    }
}

fn check_derivation(v: &ReceiptVector) {
    let what = format!("{} with {}", v.receipt, v.params);
    // The mailbox keypair is RFC 9180 DeriveKeyPair of the seed (intermediate of the KAT).
    let (seed_sk, seed_pk) = suite::derive_keypair(&unhex(&v.mailbox_seed_hex));
    assert_eq!(
        hex::encode(seed_sk.expose_bytes()),
        v.mailbox_secret_hex,
        "{what}: DeriveKeyPair(seed) secret"
    );
    assert_eq!(
        hex::encode(seed_pk.as_bytes()),
        v.mailbox_public_hex,
        "{what}: DeriveKeyPair(seed) public"
    );

    let keys = Receipt::parse(&v.receipt)
        .unwrap()
        .derive_blocking(v.kdf)
        .unwrap_or_else(|e| panic!("{what}: derivation failed: {e}"));
    assert_eq!(
        hex::encode(keys.lookup_id.0),
        v.lookup_id_hex,
        "{what}: lookup id"
    );
    assert_eq!(
        hex::encode(keys.mailbox_secret.expose_bytes()),
        v.mailbox_secret_hex,
        "{what}: mailbox secret"
    );
    assert_eq!(
        hex::encode(keys.mailbox_public.as_bytes()),
        v.mailbox_public_hex,
        "{what}: mailbox public"
    );
    assert_eq!(keys.mailbox_secret.public_key(), keys.mailbox_public);
}

#[test]
fn receipt_derivation_test_parameters() {
    let kat = receipt_kat();
    let mut n = 0;
    for v in kat.vectors.iter().filter(|v| v.kdf != RECEIPT_KDF) {
        check_derivation(v);
        n += 1;
    }
    assert_eq!(n, 4);
}

/// The production parameters (64 MiB, 3 passes): about 0.2 s per vector.
#[test]
fn receipt_derivation_production_parameters() {
    let kat = receipt_kat();
    let mut n = 0;
    for v in kat.vectors.iter().filter(|v| v.kdf == RECEIPT_KDF) {
        check_derivation(v);
        n += 1;
    }
    assert_eq!(n, 2);
}
