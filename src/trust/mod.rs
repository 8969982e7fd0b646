//! Trust that does not rest on the server: the keyring is an append-only chain of statements
//! signed by an offline **keyring authority** (Ed25519, [`crate::crypto::sign`]), whose public
//! key the bot takes from its configuration — never from the database. The bot seals only to
//! keys the verified chain proves active, so whoever can write to the database (a DBA, a
//! restored backup, an injection elsewhere) cannot add a recipient, bring a retired one back,
//! or swap a key: a forged statement has no valid signature, a removed or reordered one breaks
//! the hash chain, and a chain cut short is older than the one this process last saw
//! ([`Trust`] remembers the highest epoch and its head, in memory and in a 0600 file in the
//! data directory).
//!
//! Several authority keys may be pinned with a threshold (`TIPLINE_AUTHORITY_THRESHOLD`): a
//! statement counts when that many distinct pinned authorities signed it.
//!
//! Statement body (version 1), the bytes signed under the context `keyring-statement`: a
//! sequence of fields, each a 4-byte big-endian length followed by its bytes:
//!
//! | # | field | bytes |
//! |---|-------|-------|
//! | 0 | magic | `tipline keyring statement v1` |
//! | 1 | seq | 8, big-endian, 1 for the first statement |
//! | 2 | prev | 32: [`statement_hash`] of the previous body, zeros for seq 1 |
//! | 3 | op | `add` or `retire` |
//! | 4 | role | `reviewer` or `custodian` |
//! | 5 | name | the holder's name, UTF-8 (empty for `retire`) |
//! | 6 | key | 32: the recipient's X25519 public key |
//! | 7 | verify | 32: the recipient's Ed25519 verification key (`add`); empty (`retire`) |
//!
//! A body must decode to exactly these fields and re-encode to the same bytes.

pub mod audit;

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::crypto::sign::{Signature, SigningKey, VerifyingKey};
use crate::crypto::{PublicKey, RecipientRole};
use crate::store::{Keyring, KeyringChange, Store, StoreError, StoredStatement};

/// The signing context of keyring statements.
pub const STATEMENT_CONTEXT: &str = "keyring-statement";
const MAGIC: &[u8] = b"tipline keyring statement v1";
const FILE_FORMAT: &str = "tipline-keyring-statement";
const CHAIN_FORMAT: &str = "tipline-keyring-chain";

/// Why a keyring statement or chain is not trusted. Each says what failed verification.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    /// No authority key is configured.
    #[error(
        "no keyring authority is configured: set TIPLINE_AUTHORITY to the authority's tlauth1… string (the key ceremony in deploy/README.md)"
    )]
    NoAuthority,
    /// A configured authority string does not parse.
    #[error("TIPLINE_AUTHORITY: {0:?} is not a valid tlauth1… authority key string")]
    BadAuthority(String),
    /// The threshold is 0 or above the number of authority keys.
    #[error("TIPLINE_AUTHORITY_THRESHOLD must be between 1 and the number of authority keys ({0})")]
    BadThreshold(usize),
    /// A statement is malformed.
    #[error("keyring statement {seq}: malformed ({what})")]
    Malformed {
        /// Its position.
        seq: i64,
        /// What is wrong.
        what: &'static str,
    },
    /// A statement lacks enough valid signatures of pinned authorities.
    #[error(
        "keyring statement {seq}: not signed by the keyring authority ({valid} valid signature(s) of a pinned authority, {needed} needed)"
    )]
    Unsigned {
        /// Its position.
        seq: i64,
        /// Valid signatures found.
        valid: usize,
        /// Signatures required.
        needed: usize,
    },
    /// The chain has a gap, a statement out of place, or a broken hash link.
    #[error("keyring statement {seq}: does not follow the statement before it (chain broken)")]
    Broken {
        /// Its position.
        seq: i64,
    },
    /// A statement adds a key that was added before, or retires one that is not active.
    #[error("keyring statement {seq}: {what}")]
    Inconsistent {
        /// Its position.
        seq: i64,
        /// What is wrong.
        what: &'static str,
    },
    /// The chain is shorter than, or differs from, one this process verified before.
    #[error(
        "the keyring chain in the database ({found} statements) is older than, or differs from, the one verified before ({seen} statements): it was rolled back or rewritten"
    )]
    RolledBack {
        /// Statements now.
        found: i64,
        /// Statements seen before.
        seen: i64,
    },
    /// A statement file could not be read.
    #[error("{0}")]
    File(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a statement does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// Adds a recipient key.
    Add {
        /// Reviewer or custodian.
        role: RecipientRole,
        /// The holder's name.
        name: String,
        /// The X25519 public key.
        key: PublicKey,
        /// The Ed25519 key the holder signs with (replies to reporters, approvals).
        verify: VerifyingKey,
    },
    /// Retires a recipient key.
    Retire {
        /// The role the key had.
        role: RecipientRole,
        /// The X25519 public key.
        key: PublicKey,
    },
    /// Sets how many distinct custodians must approve a disclosure (1 until a statement sets
    /// it): the server and every client take it from the signed chain, so no database row can
    /// lower it.
    Approvals {
        /// The number of approvals, 1 to [`MAX_APPROVALS`].
        required: u32,
    },
}

/// The most approvals a statement may require.
pub const MAX_APPROVALS: u32 = 64;

/// One keyring statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// Position in the chain, from 1.
    pub seq: i64,
    /// [`statement_hash`] of the previous body (zeros for the first).
    pub prev: [u8; 32],
    /// What it does.
    pub op: Op,
}

fn push_field(out: &mut Vec<u8>, field: &[u8]) {
    // Fields are short (a name is limited when statements are made): u32 always holds them.
    out.extend_from_slice(&u32::try_from(field.len()).unwrap_or(u32::MAX).to_be_bytes());
    out.extend_from_slice(field);
}

impl Statement {
    /// The canonical body (see the module docs).
    pub fn encode(&self) -> Vec<u8> {
        let (op, role, name, key, verify) = match &self.op {
            Op::Add {
                role,
                name,
                key,
                verify,
            } => ("add", *role, name.as_str(), key, &verify.as_bytes()[..]),
            Op::Retire { role, key } => ("retire", *role, "", key, &[][..]),
            Op::Approvals { required } => {
                let name = required.to_string();
                let mut out = Vec::with_capacity(128);
                push_field(&mut out, MAGIC);
                push_field(&mut out, &self.seq.to_be_bytes());
                push_field(&mut out, &self.prev);
                push_field(&mut out, b"approvals");
                push_field(&mut out, RecipientRole::Custodian.as_str().as_bytes());
                push_field(&mut out, name.as_bytes());
                push_field(&mut out, &[]);
                push_field(&mut out, &[]);
                return out;
            }
        };
        let mut out = Vec::with_capacity(160 + name.len());
        push_field(&mut out, MAGIC);
        push_field(&mut out, &self.seq.to_be_bytes());
        push_field(&mut out, &self.prev);
        push_field(&mut out, op.as_bytes());
        push_field(&mut out, role.as_str().as_bytes());
        push_field(&mut out, name.as_bytes());
        push_field(&mut out, key.as_bytes());
        push_field(&mut out, verify);
        out
    }

    /// Decodes a body; `seq` names it in errors.
    pub fn decode(body: &[u8], seq: i64) -> Result<Statement, TrustError> {
        let bad = |what| TrustError::Malformed { seq, what };
        let mut fields = Vec::with_capacity(7);
        let mut rest = body;
        while !rest.is_empty() {
            let (len, tail) = rest.split_at_checked(4).ok_or(bad("truncated length"))?;
            let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
            let (field, tail) = tail.split_at_checked(len).ok_or(bad("truncated field"))?;
            fields.push(field);
            rest = tail;
        }
        let [magic, seq_b, prev, op, role, name, key, verify] = fields[..] else {
            return Err(bad("wrong number of fields"));
        };
        if magic != MAGIC {
            return Err(bad("not a keyring statement"));
        }
        let own_seq = i64::from_be_bytes(seq_b.try_into().map_err(|_| bad("sequence number"))?);
        let prev: [u8; 32] = prev.try_into().map_err(|_| bad("previous hash"))?;
        let role = std::str::from_utf8(role)
            .ok()
            .and_then(RecipientRole::parse)
            .ok_or(bad("role"))?;
        let name = std::str::from_utf8(name)
            .map_err(|_| bad("name"))?
            .to_owned();
        let op = match op {
            // The number as decimal ASCII, no sign or leading zero (canonical re-encoding).
            b"approvals"
                if role == RecipientRole::Custodian && key.is_empty() && verify.is_empty() =>
            {
                Op::Approvals {
                    required: name
                        .parse()
                        .ok()
                        .filter(|k| (1..=MAX_APPROVALS).contains(k))
                        .ok_or(bad("number of approvals"))?,
                }
            }
            b"approvals" => return Err(bad("operation")),
            _ => {
                let key = PublicKey::from_slice(key).map_err(|_| bad("key"))?;
                Self::key_op(op, role, name, key, verify).ok_or(bad("operation"))?
            }
        };
        let s = Statement {
            seq: own_seq,
            prev,
            op,
        };
        if s.encode() != body {
            return Err(bad("not canonical"));
        }
        Ok(s)
    }

    fn key_op(
        op: &[u8],
        role: RecipientRole,
        name: String,
        key: PublicKey,
        verify: &[u8],
    ) -> Option<Op> {
        Some(match op {
            b"add" if !name.is_empty() => Op::Add {
                role,
                name,
                key,
                verify: VerifyingKey::from_slice(verify).ok()?,
            },
            b"retire" if name.is_empty() && verify.is_empty() => Op::Retire { role, key },
            _ => return None,
        })
    }

    /// One line for people: what it does and to which key.
    pub fn describe(&self) -> String {
        match &self.op {
            Op::Add {
                role,
                name,
                key,
                verify,
            } => format!(
                "#{} add {role} {name:?} key {} ({})",
                self.seq,
                key.key_id(),
                crate::crypto::RecipientKeys {
                    role: *role,
                    encryption: *key,
                    verification: Some(*verify),
                }
                .to_key_string()
            ),
            Op::Retire { role, key } => {
                format!("#{} retire {role} key {}", self.seq, key.key_id())
            }
            Op::Approvals { required } => format!(
                "#{} require {required} custodian approval(s) for a disclosure",
                self.seq
            ),
        }
    }
}

/// The signing context of replies to the reporter.
pub const REPLY_CONTEXT: &str = "reporter-reply";

/// What a reviewer signs for a reply to the reporter: the case id (16 bytes), the reply's
/// number in the thread (8, big-endian), the reporter's mailbox public key (32) and the
/// envelope's content digest (32, [`crate::crypto::envelope::content_digest`]: unchanged by a
/// rewrap). The bot shows a reply only when this verifies with the
/// verification key the signed keyring gives the uploading reviewer, so a planted message
/// ("send us your ID number") is never shown as the Inspectorate's.
pub fn reply_message(
    case_id: &crate::ids::CaseId,
    seq: i64,
    mailbox: &PublicKey,
    envelope: &[u8],
) -> Vec<u8> {
    let mut m = Vec::with_capacity(88);
    m.extend_from_slice(case_id.as_bytes());
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend_from_slice(mailbox.as_bytes());
    m.extend_from_slice(&crate::crypto::envelope::content_digest(envelope));
    m
}

/// The signing context of staff items other than replies: notes (by reviewers) and disclosed
/// identities (by the custodian who re-sealed them).
pub const ITEM_CONTEXT: &str = "staff-item";

/// What a staff member signs for a note or a disclosed identity: the item kind's name as a
/// 4-byte big-endian length and its bytes, the case id (16), the disclosure request id (8,
/// big-endian; 0 for a note) and the envelope's content digest (32,
/// [`crate::crypto::envelope::content_digest`]). The client that
/// shows the item shows it only when this verifies with its author's key from the signed
/// keyring, so a note or an identity planted by a database writer (anyone can seal to a public
/// key) is never shown as a colleague's.
pub fn item_message(
    kind: crate::crypto::ItemKind,
    case_id: &crate::ids::CaseId,
    request_id: i64,
    envelope: &[u8],
) -> Vec<u8> {
    let name = kind.as_str().as_bytes();
    let mut m = Vec::with_capacity(4 + name.len() + 56);
    m.extend_from_slice(&u32::try_from(name.len()).unwrap_or(u32::MAX).to_be_bytes());
    m.extend_from_slice(name);
    m.extend_from_slice(case_id.as_bytes());
    m.extend_from_slice(&request_id.to_be_bytes());
    m.extend_from_slice(&crate::crypto::envelope::content_digest(envelope));
    m
}

/// The signing context of reviewers' disclosure requests.
pub const REQUEST_CONTEXT: &str = "disclosure-request";

/// What a reviewer signs to request a reporter's identity: the case id (16), the reviewer's
/// own key id (8) and X25519 key (32), and the SHA-256 of the reason (32). A custodian approves
/// only a request that verifies for the reviewer it names.
pub fn request_message(
    case_id: &crate::ids::CaseId,
    requester: &PublicKey,
    reason: &str,
) -> Vec<u8> {
    let mut m = Vec::with_capacity(88);
    m.extend_from_slice(case_id.as_bytes());
    m.extend_from_slice(requester.key_id().as_bytes());
    m.extend_from_slice(requester.as_bytes());
    m.extend_from_slice(&crate::crypto::sha256(&[reason.as_bytes()]));
    m
}

/// The signing context of custodians' approvals of disclosure requests.
pub const APPROVAL_CONTEXT: &str = "disclosure-approval";

/// What a custodian signs to approve a disclosure request: the request id (8, big-endian),
/// the case id (16), the requester's key id (8) and X25519 key (32), and the SHA-256 of the
/// reason as the custodian read it (32). The custodian who re-seals the identity counts only
/// approvals that verify for exactly this request and requester.
pub fn approval_message(
    request_id: i64,
    case_id: &crate::ids::CaseId,
    requester: &PublicKey,
    reason: &str,
) -> Vec<u8> {
    let mut m = Vec::with_capacity(96);
    m.extend_from_slice(&request_id.to_be_bytes());
    m.extend_from_slice(case_id.as_bytes());
    m.extend_from_slice(requester.key_id().as_bytes());
    m.extend_from_slice(requester.as_bytes());
    m.extend_from_slice(&crate::crypto::sha256(&[reason.as_bytes()]));
    m
}

/// The hash that links a statement to the next: SHA-256("tipline keyring statement hash v1"
/// ‖ body).
pub fn statement_hash(body: &[u8]) -> [u8; 32] {
    crate::crypto::sha256(&[b"tipline keyring statement hash v1", body])
}

/// A statement body with its signatures.
#[derive(Debug, Clone)]
pub struct SignedStatement {
    /// The canonical body.
    pub body: Vec<u8>,
    /// (authority, signature) pairs.
    pub signatures: Vec<(VerifyingKey, Signature)>,
}

#[derive(Serialize, Deserialize)]
struct SignatureJson {
    authority: String,
    signature: String,
}

#[derive(Serialize, Deserialize)]
struct StatementJson {
    format: String,
    version: u32,
    /// For people only; never trusted.
    #[serde(default)]
    summary: String,
    body: String,
    signatures: Vec<SignatureJson>,
}

#[derive(Serialize, Deserialize)]
struct ChainJson {
    format: String,
    version: u32,
    statements: Vec<StatementJson>,
}

impl SignedStatement {
    /// Signs `statement` with `key`.
    pub fn sign(statement: &Statement, key: &SigningKey) -> SignedStatement {
        let body = statement.encode();
        let sig = key.sign(STATEMENT_CONTEXT, &body);
        SignedStatement {
            body,
            signatures: vec![(key.verifying_key(), sig)],
        }
    }

    /// Adds `key`'s signature (a co-signing authority); a second signature by the same key
    /// replaces the first.
    pub fn cosign(&mut self, key: &SigningKey) {
        let v = key.verifying_key();
        self.signatures.retain(|(k, _)| *k != v);
        self.signatures
            .push((v, key.sign(STATEMENT_CONTEXT, &self.body)));
    }

    fn to_json(&self, seq: i64) -> StatementJson {
        let summary = Statement::decode(&self.body, seq)
            .map(|s| s.describe())
            .unwrap_or_default();
        StatementJson {
            format: FILE_FORMAT.into(),
            version: 1,
            summary,
            body: hex::encode(&self.body),
            signatures: self
                .signatures
                .iter()
                .map(|(k, s)| SignatureJson {
                    authority: k.to_authority_string(),
                    signature: hex::encode(s.as_bytes()),
                })
                .collect(),
        }
    }

    fn from_json(j: StatementJson) -> Result<SignedStatement, TrustError> {
        let bad = |what: &str| TrustError::File(format!("not a keyring statement file ({what})"));
        if j.format != FILE_FORMAT || j.version != 1 {
            return Err(bad("format"));
        }
        let body = hex::decode(&j.body).map_err(|_| bad("body"))?;
        let signatures = j
            .signatures
            .iter()
            .map(|s| {
                let k = VerifyingKey::parse_authority_string(&s.authority)
                    .map_err(|_| bad("authority"))?;
                let sig = hex::decode(&s.signature)
                    .ok()
                    .and_then(|b| Signature::from_slice(&b).ok())
                    .ok_or_else(|| bad("signature"))?;
                Ok((k, sig))
            })
            .collect::<Result<_, TrustError>>()?;
        Ok(SignedStatement { body, signatures })
    }

    /// The statement file's text (JSON, with a summary line for people).
    pub fn to_file_text(&self) -> String {
        let seq = Statement::decode(&self.body, 0).map_or(0, |s| s.seq);
        let mut text = serde_json::to_string_pretty(&self.to_json(seq)).unwrap_or_default();
        text.push('\n');
        text
    }

    /// Parses a statement file.
    pub fn from_file_text(text: &str) -> Result<SignedStatement, TrustError> {
        let j: StatementJson = serde_json::from_str(text)
            .map_err(|_| TrustError::File("not a keyring statement file".into()))?;
        Self::from_json(j)
    }

    /// As stored in the database.
    pub fn to_stored(&self, seq: i64) -> StoredStatement {
        let sigs: Vec<SignatureJson> = self.to_json(seq).signatures;
        StoredStatement {
            seq,
            body: self.body.clone(),
            signatures: serde_json::to_string(&sigs).unwrap_or_default(),
        }
    }

    /// From the database (a row a database writer may have forged: parsing trusts nothing).
    pub fn from_stored(s: &StoredStatement) -> Result<SignedStatement, TrustError> {
        let sigs: Vec<SignatureJson> =
            serde_json::from_str(&s.signatures).map_err(|_| TrustError::Malformed {
                seq: s.seq,
                what: "signatures",
            })?;
        Self::from_json(StatementJson {
            format: FILE_FORMAT.into(),
            version: 1,
            summary: String::new(),
            body: hex::encode(&s.body),
            signatures: sigs,
        })
        .map_err(|_| TrustError::Malformed {
            seq: s.seq,
            what: "signatures",
        })
    }
}

/// The text of a chain file: every statement, for the authority's offline machine.
pub fn chain_file_text(chain: &[SignedStatement]) -> String {
    let j = ChainJson {
        format: CHAIN_FORMAT.into(),
        version: 1,
        statements: chain
            .iter()
            .enumerate()
            .map(|(i, s)| s.to_json(i as i64 + 1))
            .collect(),
    };
    let mut text = serde_json::to_string_pretty(&j).unwrap_or_default();
    text.push('\n');
    text
}

/// Parses a chain file.
pub fn parse_chain_file(text: &str) -> Result<Vec<SignedStatement>, TrustError> {
    let j: ChainJson = serde_json::from_str(text)
        .map_err(|_| TrustError::File("not a keyring chain file".into()))?;
    if j.format != CHAIN_FORMAT || j.version != 1 {
        return Err(TrustError::File("not a keyring chain file (format)".into()));
    }
    j.statements
        .into_iter()
        .map(SignedStatement::from_json)
        .collect()
}

/// A recipient key as the verified chain knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Reviewer or custodian.
    pub role: RecipientRole,
    /// The holder's name, as the authority signed it.
    pub name: String,
    /// The X25519 public key.
    pub key: PublicKey,
    /// The Ed25519 key the holder signs with.
    pub verify: VerifyingKey,
    /// False once retired.
    pub active: bool,
}

/// The keyring as proven by a verified chain.
#[derive(Debug, Clone)]
pub struct VerifiedKeyring {
    /// Number of statements.
    pub epoch: i64,
    /// Hash of the last statement (zeros when empty).
    pub head: [u8; 32],
    /// Every key the chain ever added, in order.
    pub members: Vec<Member>,
    /// Distinct custodian approvals a disclosure needs, as the newest approvals statement set
    /// it; `None` until one does ([`VerifiedKeyring::threshold`] applies the default then).
    pub approvals: Option<u32>,
}

impl VerifiedKeyring {
    /// Active keys of `role`.
    pub fn active(&self, role: RecipientRole) -> Vec<PublicKey> {
        self.members
            .iter()
            .filter(|m| m.active && m.role == role)
            .map(|m| m.key)
            .collect()
    }

    /// `k`: how many custodians must cooperate to open an identity, and approve its
    /// disclosure. The authority's approvals statement sets it; until one does, 1 with a single
    /// custodian and 2 with more. Never more than the active custodians (who could otherwise
    /// never open anything); the import of a statement that would make it so is refused.
    pub fn threshold(&self) -> u32 {
        let n = u32::try_from(self.active(RecipientRole::Custodian).len()).unwrap_or(u32::MAX);
        let k = self.approvals.unwrap_or(if n >= 2 { 2 } else { 1 });
        k.min(n).max(1)
    }

    /// The member holding `key`, if the chain ever added it.
    pub fn member(&self, key: &PublicKey) -> Option<&Member> {
        self.members.iter().find(|m| m.key == *key)
    }

    /// The statement that would come next, doing `op`.
    pub fn next(&self, op: Op) -> Statement {
        Statement {
            seq: self.epoch + 1,
            prev: self.head,
            op,
        }
    }
}

/// The pinned authority keys and how many must sign a statement.
#[derive(Debug, Clone)]
pub struct Authorities {
    keys: Vec<VerifyingKey>,
    threshold: usize,
}

impl Authorities {
    /// `list`: authority strings separated by commas or white space; `threshold`: how many must
    /// sign (default 1).
    pub fn parse(list: &str, threshold: Option<usize>) -> Result<Authorities, TrustError> {
        let mut keys = Vec::new();
        for s in list.split([',', ' ', '\n', '\t']).filter(|s| !s.is_empty()) {
            let k = VerifyingKey::parse_authority_string(s)
                .map_err(|_| TrustError::BadAuthority(s.to_owned()))?;
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
        if keys.is_empty() {
            return Err(TrustError::NoAuthority);
        }
        let threshold = threshold.unwrap_or(1);
        if threshold == 0 || threshold > keys.len() {
            return Err(TrustError::BadThreshold(keys.len()));
        }
        Ok(Authorities { keys, threshold })
    }

    /// One authority key, threshold 1.
    pub fn single(key: VerifyingKey) -> Authorities {
        Authorities {
            keys: vec![key],
            threshold: 1,
        }
    }

    /// The pinned keys.
    pub fn keys(&self) -> &[VerifyingKey] {
        &self.keys
    }

    /// Checks that `s` carries valid signatures of at least `threshold` distinct pinned
    /// authorities.
    pub fn check_signatures(&self, s: &SignedStatement, seq: i64) -> Result<(), TrustError> {
        let mut valid: Vec<VerifyingKey> = Vec::new();
        for (k, sig) in &s.signatures {
            if self.keys.contains(k)
                && !valid.contains(k)
                && k.verify(STATEMENT_CONTEXT, &s.body, sig).is_ok()
            {
                valid.push(*k);
            }
        }
        if valid.len() < self.threshold {
            return Err(TrustError::Unsigned {
                seq,
                valid: valid.len(),
                needed: self.threshold,
            });
        }
        Ok(())
    }

    /// Verifies a whole chain, statement 1 first, and computes the keyring it proves.
    pub fn verify_chain(&self, chain: &[SignedStatement]) -> Result<VerifiedKeyring, TrustError> {
        let mut ring = VerifiedKeyring {
            epoch: 0,
            head: [0; 32],
            members: Vec::new(),
            approvals: None,
        };
        for (i, signed) in chain.iter().enumerate() {
            let seq = i as i64 + 1;
            let s = Statement::decode(&signed.body, seq)?;
            if s.seq != seq || s.prev != ring.head {
                return Err(TrustError::Broken { seq });
            }
            self.check_signatures(signed, seq)?;
            apply(&mut ring, &s.op, seq)?;
            ring.epoch = seq;
            ring.head = statement_hash(&signed.body);
        }
        Ok(ring)
    }
}

fn apply(ring: &mut VerifiedKeyring, op: &Op, seq: i64) -> Result<(), TrustError> {
    match op {
        Op::Add {
            role,
            name,
            key,
            verify,
        } => {
            if ring.member(key).is_some() || ring.members.iter().any(|m| m.verify == *verify) {
                return Err(TrustError::Inconsistent {
                    seq,
                    what: "adds a key that was added before (a retired key never comes back)",
                });
            }
            key.check_usable().map_err(|_| TrustError::Inconsistent {
                seq,
                what: "adds a key that cannot be sealed to",
            })?;
            ring.members.push(Member {
                role: *role,
                name: name.clone(),
                key: *key,
                verify: *verify,
                active: true,
            });
        }
        Op::Retire { role, key } => {
            let m = ring
                .members
                .iter_mut()
                .find(|m| m.key == *key && m.active && m.role == *role)
                .ok_or(TrustError::Inconsistent {
                    seq,
                    what: "retires a key that is not active in that role",
                })?;
            m.active = false;
        }
        Op::Approvals { required } => ring.approvals = Some(*required),
    }
    Ok(())
}

/// The chain as the database holds it, parsed (not yet verified).
pub async fn stored_chain(store: &Store) -> Result<Vec<SignedStatement>, TrustError> {
    let rows = store.keyring_statements().await?;
    let mut chain = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        if row.seq != i as i64 + 1 {
            return Err(TrustError::Broken { seq: i as i64 + 1 });
        }
        chain.push(SignedStatement::from_stored(row)?);
    }
    Ok(chain)
}

/// Verifies `statement` as the next link of the stored chain and stores it (the recipients
/// table, the epoch and the audit log follow in the same transaction). Returns the keyring
/// after it.
pub async fn import(
    store: &Store,
    authorities: &Authorities,
    statement: &SignedStatement,
    actor: &str,
) -> Result<(Statement, VerifiedKeyring), TrustError> {
    let mut chain = stored_chain(store).await?;
    let before = authorities.verify_chain(&chain)?;
    let s = Statement::decode(&statement.body, before.epoch + 1)?;
    chain.push(statement.clone());
    let after = authorities.verify_chain(&chain)?;
    let change = match &s.op {
        Op::Add {
            role, name, key, ..
        } => KeyringChange::Add {
            role: *role,
            key,
            name,
        },
        Op::Retire { role, key } => KeyringChange::Retire { role: *role, key },
        Op::Approvals { required } => KeyringChange::Approvals(*required),
    };
    store
        .append_keyring_statement(&statement.to_stored(s.seq), change, actor)
        .await?;
    Ok((s, after))
}

/// Signs and imports the next statement with an authority key held here: for `tipline demo`,
/// the load test and tests, which play the authority themselves. A real install signs on the
/// authority's offline machine (`tipline authority sign`).
pub async fn register(
    store: &Store,
    authority: &SigningKey,
    op: Op,
) -> Result<VerifiedKeyring, TrustError> {
    let authorities = Authorities::single(authority.verifying_key());
    let ring = authorities.verify_chain(&stored_chain(store).await?)?;
    let signed = SignedStatement::sign(&ring.next(op), authority);
    Ok(import(store, &authorities, &signed, "authority").await?.1)
}

/// The bot's (or a client's) pin: the authorities, and the newest chain verified so far, so a
/// chain cut short or rewritten is refused. The newest head is also kept in a 0600 file
/// (`keyring-head` in the data directory) so a restart does not forget it.
pub struct Trust {
    authorities: Authorities,
    seen: Mutex<Option<(i64, [u8; 32])>>,
    head_file: Option<PathBuf>,
}

impl Trust {
    /// A pin on `authorities`, remembering the head in `head_file` (if given).
    pub fn new(authorities: Authorities, head_file: Option<&Path>) -> Trust {
        let seen = head_file.and_then(read_head_file);
        Trust {
            authorities,
            seen: Mutex::new(seen),
            head_file: head_file.map(Path::to_path_buf),
        }
    }

    /// The pinned authorities.
    pub fn authorities(&self) -> &Authorities {
        &self.authorities
    }

    /// Verifies the stored chain and checks it extends the newest one seen; remembers it.
    pub async fn keyring(&self, store: &Store) -> Result<VerifiedKeyring, TrustError> {
        self.accept(&stored_chain(store).await?)
    }

    /// Verifies `chain` (from the database, or as a server sent it) and checks it extends the
    /// newest one seen; remembers it.
    pub fn accept(&self, chain: &[SignedStatement]) -> Result<VerifiedKeyring, TrustError> {
        let ring = self.authorities.verify_chain(chain)?;
        let seen = *self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((epoch, head)) = seen {
            let extends = match usize::try_from(epoch) {
                Ok(0) => true,
                Ok(n) => chain
                    .get(n - 1)
                    .is_some_and(|s| statement_hash(&s.body) == head),
                Err(_) => false,
            };
            if ring.epoch < epoch || !extends {
                return Err(TrustError::RolledBack {
                    found: ring.epoch,
                    seen: epoch,
                });
            }
        }
        // Compared again under the lock: a concurrent caller may have recorded a newer head
        // meanwhile, which an older one must not overwrite.
        let mut current = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if current.is_none_or(|(epoch, _)| ring.epoch > epoch) {
            *current = Some((ring.epoch, ring.head));
            if let Some(path) = &self.head_file {
                write_head_file(path, ring.epoch, &ring.head);
            }
        }
        drop(current);
        Ok(ring)
    }

    /// The keys to seal new items to: the verified chain's active keys, with the database's
    /// epoch (which moves with every import, so a change between sealing and committing is
    /// caught by [`Store::submit_case`]).
    pub async fn sealing_keyring(&self, store: &Store) -> Result<Keyring, TrustError> {
        let epoch = store.keyring_epoch().await?;
        let ring = self.keyring(store).await?;
        Ok(Keyring {
            epoch,
            reviewers: ring.active(RecipientRole::Reviewer),
            custodians: ring.active(RecipientRole::Custodian),
            // At most 64 custodians (the envelope's limit), so k fits a byte.
            threshold: u8::try_from(ring.threshold()).unwrap_or(u8::MAX),
        })
    }
}

pub(crate) fn read_head_file(path: &Path) -> Option<(i64, [u8; 32])> {
    let text = std::fs::read_to_string(path).ok()?;
    let (epoch, head) = text.trim().split_once(' ')?;
    Some((
        epoch.parse().ok()?,
        hex::decode(head).ok()?.try_into().ok()?,
    ))
}

pub(crate) fn write_head_file(path: &Path, epoch: i64, head: &[u8; 32]) {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("tmp");
    let _ = std::fs::remove_file(&tmp);
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .and_then(|mut f| {
            f.write_all(format!("{epoch} {}\n", hex::encode(head)).as_bytes())?;
            f.sync_all()
        })
        .and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = written {
        tracing::warn!(error = %e, "could not record the keyring head");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::suite;

    fn add(role: RecipientRole, name: &str) -> Op {
        Op::Add {
            role,
            name: name.into(),
            key: suite::generate_keypair().1,
            verify: SigningKey::generate().verifying_key(),
        }
    }

    fn chain_of(auth: &SigningKey, ops: Vec<Op>) -> Vec<SignedStatement> {
        let a = Authorities::single(auth.verifying_key());
        let mut chain = Vec::new();
        for op in ops {
            let ring = a.verify_chain(&chain).unwrap();
            chain.push(SignedStatement::sign(&ring.next(op), auth));
        }
        chain
    }

    #[test]
    fn a_signed_chain_proves_the_active_keys() {
        let auth = SigningKey::generate();
        let a = Authorities::single(auth.verifying_key());
        let r = add(RecipientRole::Reviewer, "R");
        let Op::Add { key: rk, .. } = r.clone() else {
            unreachable!()
        };
        let chain = chain_of(
            &auth,
            vec![
                r,
                add(RecipientRole::Custodian, "C"),
                Op::Retire {
                    role: RecipientRole::Reviewer,
                    key: rk,
                },
            ],
        );
        let ring = a.verify_chain(&chain).unwrap();
        assert_eq!(ring.epoch, 3);
        assert!(ring.active(RecipientRole::Reviewer).is_empty());
        assert_eq!(ring.active(RecipientRole::Custodian).len(), 1);
        // Text forms round-trip.
        let again = parse_chain_file(&chain_file_text(&chain)).unwrap();
        assert_eq!(a.verify_chain(&again).unwrap().head, ring.head);
    }

    #[test]
    fn forged_reordered_cut_and_readded_chains_are_refused() {
        let auth = SigningKey::generate();
        let a = Authorities::single(auth.verifying_key());
        let chain = chain_of(
            &auth,
            vec![
                add(RecipientRole::Reviewer, "R"),
                add(RecipientRole::Custodian, "C"),
            ],
        );
        // Signed by someone else.
        let rogue = SigningKey::generate();
        let mut forged = chain.clone();
        let ring = a.verify_chain(&chain).unwrap();
        forged.push(SignedStatement::sign(
            &ring.next(add(RecipientRole::Reviewer, "Mallory")),
            &rogue,
        ));
        assert!(matches!(
            a.verify_chain(&forged),
            Err(TrustError::Unsigned { seq: 3, .. })
        ));
        // A body changed after signing.
        let mut edited = chain.clone();
        let last = edited[1].body.len() - 1;
        edited[1].body[last] ^= 1;
        assert!(a.verify_chain(&edited).is_err());
        // Reordered.
        let swapped = vec![chain[1].clone(), chain[0].clone()];
        assert!(matches!(
            a.verify_chain(&swapped),
            Err(TrustError::Broken { seq: 1 })
        ));
        // A key added twice.
        let Op::Add { key, .. } = Statement::decode(&chain[0].body, 1).unwrap().op else {
            unreachable!()
        };
        let mut twice = chain.clone();
        twice.push(SignedStatement::sign(
            &ring.next(Op::Add {
                role: RecipientRole::Reviewer,
                name: "again".into(),
                key,
                verify: SigningKey::generate().verifying_key(),
            }),
            &auth,
        ));
        assert!(matches!(
            a.verify_chain(&twice),
            Err(TrustError::Inconsistent { seq: 3, .. })
        ));
    }

    #[test]
    fn thresholds_count_distinct_pinned_signers() {
        let (k1, k2, k3) = (
            SigningKey::generate(),
            SigningKey::generate(),
            SigningKey::generate(),
        );
        let list = format!(
            "{},{} {}",
            k1.verifying_key(),
            k2.verifying_key(),
            k3.verifying_key()
        );
        let a = Authorities::parse(&list, Some(2)).unwrap();
        let s = Statement {
            seq: 1,
            prev: [0; 32],
            op: add(RecipientRole::Reviewer, "R"),
        };
        let mut signed = SignedStatement::sign(&s, &k1);
        assert!(a.verify_chain(std::slice::from_ref(&signed)).is_err());
        signed.cosign(&k1);
        assert!(
            a.verify_chain(std::slice::from_ref(&signed)).is_err(),
            "same signer twice"
        );
        signed.cosign(&k3);
        assert!(a.verify_chain(std::slice::from_ref(&signed)).is_ok());
        assert!(Authorities::parse(&list, Some(4)).is_err());
        assert!(Authorities::parse("", None).is_err());
    }

    #[test]
    fn bodies_are_canonical() {
        let s = Statement {
            seq: 7,
            prev: [9; 32],
            op: add(RecipientRole::Custodian, "Nguyễn Thị C"),
        };
        let body = s.encode();
        assert_eq!(Statement::decode(&body, 7).unwrap(), s);
        let mut longer = body.clone();
        longer.extend_from_slice(&[0, 0, 0, 0]);
        assert!(Statement::decode(&longer, 7).is_err());
        assert!(Statement::decode(&body[..body.len() - 1], 7).is_err());
    }
}
