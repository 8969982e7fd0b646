//! The sealed envelope: one payload, readable by a set of recipients, bound to one case and one
//! kind of object. `docs/FORMATS.md` §6 specifies it byte by byte.
//!
//! # Construction
//! A fresh random 256-bit content key `K` is drawn per envelope. From it, HKDF-SHA256 derives
//! a payload key and a 32-byte key commitment, both bound to the context (magic, version, kind,
//! case id). The payload is AES-256-GCM-encrypted under the payload key with a random nonce
//! and the associated data `context ‖ commitment`. `K` is wrapped to each recipient with HPKE
//! SealBase (RFC 9180 §6.1, the suite pinned in [`super::suite`]) with the info
//! `"tipline envelope v1 content-key wrap"` and the associated data
//! `context ‖ commitment ‖ n ‖ key_id_1 ‖ … ‖ key_id_n`, so every wrap authenticates the whole
//! recipient set: removing, adding, reordering or swapping a wrap, or moving the blob to another
//! case or kind, makes opening fail. The commitment makes the envelope key-committing (AES-GCM
//! alone is not): no two wraps can carry different keys that both open the payload. Finally an
//! HMAC-SHA256 under a third key derived from `K` covers the whole recipient header, so a
//! change to *any* byte — even in another recipient's wrap — fails for every recipient.
//!
//! Because the payload's associated data does not include the recipient list, key rotation can
//! replace the recipient header (new wraps of the same `K`) without touching the payload, which
//! for a 20 MB attachment matters ([`rewrap`], [`splice_header`]).
//!
//! # Key derivation
//! `context` is the 22 bytes `"TLSE" ‖ 0x01 ‖ kind ‖ case id` (envelope bytes 0..22). Each of
//! the three keys is HKDF-SHA256 (RFC 5869) with the salt `"tipline"` (7 bytes), the input
//! keying material `K`, 32 bytes of output, and as *info* a label immediately followed by the
//! context bytes (no separator, no length prefix):
//! ```text
//! payload key = HKDF-SHA256(salt "tipline", ikm K, info "tipline/envelope/v1/payload"    ‖ context)
//! commitment  = HKDF-SHA256(salt "tipline", ikm K, info "tipline/envelope/v1/commit"     ‖ context)
//! MAC key     = HKDF-SHA256(salt "tipline", ikm K, info "tipline/envelope/v1/header-mac" ‖ context)
//! ```
//! When opening, the context is built from the kind and case id the caller *expects*, not read
//! from the header, so a blob presented as another kind or case fails to open.
//!
//! # Framing and padding
//! Before encryption the payload is framed as `len: u32 BE ‖ payload ‖ zero padding` up to a
//! multiple of 256 bytes, so that ciphertext lengths do not reveal the exact length of, say, a
//! reporter's name. The padding is minimal: the framed length is
//! `256 · max(1, ⌈(4 + len) / 256⌉)`. After decryption the reader accepts exactly that framing
//! and nothing else: a framed length that is not a multiple of 256, padding bytes that are not
//! zero, or more padding than needed (e.g. an extra block of zeros) make opening fail with
//! [`CryptoError::InvalidEnvelope`], so every payload has one encoding.
//!
//! # Byte layout, version 1
//! ```text
//! offset  size     field
//! 0       4        magic "TLSE"
//! 4       1        version = 1
//! 5       1        kind (see ItemKind)
//! 6       16       case id
//! 22      32       key commitment (see Key derivation)
//! 54      1        n = number of recipients, 1..=64
//! 55      n × 88   wraps, sorted by key id, no duplicates:
//!                    key id (8) ‖ HPKE enc (32) ‖ HPKE ciphertext of K (32 + 16)
//! 55+88n  32       header MAC = HMAC-SHA256(MAC key, bytes 0..55+88n)
//! 87+88n  12       payload nonce
//! 99+88n  rest     AES-256-GCM ciphertext of the framed payload ‖ tag (16): 256k + 16 bytes
//! ```
//! `context` is bytes 0..22. The parser ([`parse`]) checks every length before slicing and never
//! panics; the fuzz target `fuzz/fuzz_targets/envelope_parse.rs` exercises it.

use std::marker::PhantomData;

use zeroize::Zeroizing;

use super::aead::{AeadKey, NONCE_LEN, TAG_LEN};
use super::keys::{KEY_ID_LEN, KeyId, PublicKey, SecretKey};
use super::suite::{self, ENC_LEN};
use super::{CryptoError, OsRng};
use crate::ids::CaseId;

/// The four magic bytes that start every envelope.
pub const MAGIC: [u8; 4] = *b"TLSE";
/// The envelope format version this build writes and reads for objects any one recipient opens.
pub const VERSION: u8 = 1;
/// The version of threshold envelopes (k of n recipients open them together), specified in
/// [`super::threshold`] and `docs/FORMATS.md` §23. They share version 1's payload layer (the
/// context, the key derivation, framing and payload encryption), so an envelope moves from one
/// header version to the other without its payload changing.
pub const VERSION_THRESHOLD: u8 = 2;
/// The most recipients one envelope may have.
pub const MAX_RECIPIENTS: usize = 64;
pub(super) const CONTEXT_LEN: usize = 22;
pub(super) const COMMITMENT_LEN: usize = 32;
pub(super) const WRAP_CT_LEN: usize = 32 + suite::TAG_LEN;
const WRAP_LEN: usize = KEY_ID_LEN + ENC_LEN + WRAP_CT_LEN;
const FIXED_HEADER_LEN: usize = CONTEXT_LEN + COMMITMENT_LEN + 1;
const MAC_LEN: usize = 32;
pub(super) const PAD_BLOCK: usize = 256;
const WRAP_INFO: &[u8] = b"tipline envelope v1 content-key wrap";

/// What a sealed object is. Bound into the associated data, so an item cannot be presented as
/// another kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum ItemKind {
    /// The de-identified case summary (reviewers).
    Summary = 1,
    /// The reporter's identity (custodians only).
    Identity = 2,
    /// A cleaned evidence file (reviewers).
    Attachment = 3,
    /// An untouched original evidence file (custodians only).
    AttachmentOriginal = 4,
    /// A message from the Inspectorate to the reporter (mailbox key and reviewers).
    ToReporter = 5,
    /// A message from the reporter to the Inspectorate (reviewers).
    FromReporter = 6,
    /// An internal note of the Inspectorate (reviewers).
    Note = 7,
    /// An identity re-sealed by custodians to one requesting reviewer after approval.
    DisclosedIdentity = 8,
    /// The reason of a disclosure request or decision (custodians and the requester); kept
    /// in the request's row, never as an item.
    DisclosureReason = 9,
    /// One custodian's shares of a case's threshold-sealed identity (and originals), re-sealed
    /// to the requesting reviewer after that custodian's approval; `k` of them open them.
    IdentityShare = 10,
}

impl ItemKind {
    /// Every kind, in code order.
    pub const ALL: [ItemKind; 10] = [
        Self::Summary,
        Self::Identity,
        Self::Attachment,
        Self::AttachmentOriginal,
        Self::ToReporter,
        Self::FromReporter,
        Self::Note,
        Self::DisclosedIdentity,
        Self::DisclosureReason,
        Self::IdentityShare,
    ];

    /// The byte stored in the envelope.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// Parses [`ItemKind::code`].
    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }

    /// The stable name used in storage and the review API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Summary => "summary",
            Self::Identity => "identity",
            Self::Attachment => "attachment",
            Self::AttachmentOriginal => "attachment_original",
            Self::ToReporter => "to_reporter",
            Self::FromReporter => "from_reporter",
            Self::Note => "note",
            Self::DisclosedIdentity => "disclosed_identity",
            Self::DisclosureReason => "disclosure_reason",
            Self::IdentityShare => "identity_share",
        }
    }

    /// Parses [`ItemKind::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A parsed view of an envelope's bytes.
#[derive(Debug)]
pub struct Parsed<'a> {
    /// The kind recorded in the header (authenticated only when opening succeeds).
    pub kind: ItemKind,
    /// The case id recorded in the header (authenticated only when opening succeeds).
    pub case_id: CaseId,
    /// The recipients' key ids, in envelope order (sorted).
    pub recipients: Vec<KeyId>,
    /// For a threshold envelope (version 2): how many shares open it, and the dealer points.
    pub threshold: Option<super::threshold::ThresholdHeader>,
    pub(super) commitment: &'a [u8],
    pub(super) wraps: Vec<&'a [u8]>,
    /// The header up to (not including) its MAC, and the MAC.
    header_body: &'a [u8],
    header_mac: &'a [u8],
    header_len: usize,
    pub(super) nonce: &'a [u8; NONCE_LEN],
    pub(super) ciphertext: &'a [u8],
}

/// The 22-byte context of the payload layer, `"TLSE" ‖ 0x01 ‖ kind ‖ case id`, the same for
/// both header versions.
pub(super) fn context(kind: ItemKind, case_id: &CaseId) -> [u8; CONTEXT_LEN] {
    let mut c = [0u8; CONTEXT_LEN];
    c[..4].copy_from_slice(&MAGIC);
    c[4] = VERSION;
    c[5] = kind.code();
    c[6..].copy_from_slice(case_id.as_bytes());
    c
}

/// Keys derived from a content key for one context.
pub(super) struct Derived {
    pub(super) payload_key: AeadKey,
    pub(super) commitment: [u8; COMMITMENT_LEN],
    mac_key: Zeroizing<[u8; 32]>,
}

pub(super) fn derive(content_key: &[u8; 32], ctx: &[u8; CONTEXT_LEN]) -> Derived {
    let mut payload = Zeroizing::new([0u8; 32]);
    super::hkdf_sha256(
        b"tipline",
        content_key,
        &[b"tipline/envelope/v1/payload", ctx],
        &mut payload[..],
    );
    let mut commitment = [0u8; COMMITMENT_LEN];
    super::hkdf_sha256(
        b"tipline",
        content_key,
        &[b"tipline/envelope/v1/commit", ctx],
        &mut commitment,
    );
    let mut mac_key = Zeroizing::new([0u8; 32]);
    super::hkdf_sha256(
        b"tipline",
        content_key,
        &[b"tipline/envelope/v1/header-mac", ctx],
        &mut mac_key[..],
    );
    Derived {
        payload_key: AeadKey::from_bytes(*payload),
        commitment,
        mac_key,
    }
}

/// The framed (padded) length of a payload of `payload_len` bytes: the 4-byte length prefix and
/// the payload, rounded up to a whole number of [`PAD_BLOCK`]s, at least one.
fn framed_len(payload_len: usize) -> usize {
    (4 + payload_len).div_ceil(PAD_BLOCK).max(1) * PAD_BLOCK
}

pub(super) fn frame(payload: &[u8]) -> Zeroizing<Vec<u8>> {
    let padded = framed_len(payload.len());
    let mut out = Zeroizing::new(Vec::with_capacity(padded));
    // Payloads are bounded by the callers (attachments are at most tens of MB) and u32 holds
    // up to 4 GiB; a larger payload would be a programming error.
    let len = u32::try_from(payload.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(payload);
    out.resize(padded, 0);
    out
}

/// Inverts [`frame`], accepting only what [`frame`] writes: the framed length is a multiple of
/// [`PAD_BLOCK`] and the smallest one that holds the payload, and every padding byte is zero.
/// (The bytes come out of an authenticated decryption, so only a key holder can make a blob
/// that fails here; refusing keeps every payload's encoding unique.)
pub(super) fn unframe(mut framed: Zeroizing<Vec<u8>>) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let (len, rest) = framed
        .split_first_chunk::<4>()
        .ok_or(CryptoError::InvalidEnvelope)?;
    let len = u32::from_be_bytes(*len) as usize;
    if len > rest.len() || framed_len(len) != framed.len() {
        return Err(CryptoError::InvalidEnvelope);
    }
    if rest[len..].iter().any(|&b| b != 0) {
        return Err(CryptoError::InvalidEnvelope);
    }
    framed.drain(..4);
    framed.truncate(len);
    Ok(framed)
}

/// Builds the recipient header (everything before the nonce) for a content key.
fn build_header(
    kind: ItemKind,
    case_id: &CaseId,
    recipients: &[PublicKey],
    content_key: &[u8; 32],
    rng: &mut impl rand_core::CryptoRng,
) -> Result<(Vec<u8>, Derived), CryptoError> {
    if recipients.is_empty() || recipients.len() > MAX_RECIPIENTS {
        return Err(CryptoError::InvalidRecipients);
    }
    let mut sorted: Vec<(KeyId, &PublicKey)> =
        recipients.iter().map(|pk| (pk.key_id(), pk)).collect();
    sorted.sort_by_key(|(id, _)| *id);
    if sorted.windows(2).any(|w| w[0].0 == w[1].0) {
        return Err(CryptoError::InvalidRecipients);
    }
    let ctx = context(kind, case_id);
    let derived = derive(content_key, &ctx);

    let mut header = Vec::with_capacity(FIXED_HEADER_LEN + sorted.len() * WRAP_LEN);
    header.extend_from_slice(&ctx);
    header.extend_from_slice(&derived.commitment);
    // `sorted.len()` ≤ MAX_RECIPIENTS = 64, checked above.
    header.push(sorted.len() as u8);
    let mut wrap_aad = header.clone();
    for (id, _) in &sorted {
        wrap_aad.extend_from_slice(id.as_bytes());
    }
    for (id, pk) in &sorted {
        let (enc, ct) = suite::seal_base_with_rng(pk, WRAP_INFO, &wrap_aad, content_key, rng)?;
        header.extend_from_slice(id.as_bytes());
        header.extend_from_slice(&enc);
        header.extend_from_slice(&ct);
    }
    let mac = super::hmac_sha256(&derived.mac_key[..], &[&header]);
    header.extend_from_slice(&mac);
    Ok((header, derived))
}

/// Seals `payload` to `recipients` as an object of `kind` in case `case_id`.
pub fn seal(
    kind: ItemKind,
    case_id: &CaseId,
    recipients: &[PublicKey],
    payload: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    seal_with_rng(kind, case_id, recipients, payload, &mut OsRng)
}

/// [`seal`] with a caller-chosen RNG, for the golden-blob test. Production code uses [`seal`].
pub fn seal_with_rng(
    kind: ItemKind,
    case_id: &CaseId,
    recipients: &[PublicKey],
    payload: &[u8],
    rng: &mut impl rand_core::CryptoRng,
) -> Result<Vec<u8>, CryptoError> {
    let mut content_key = Zeroizing::new([0u8; 32]);
    rng.fill_bytes(&mut content_key[..]);
    let (mut out, derived) = build_header(kind, case_id, recipients, &content_key, rng)?;
    let mut nonce = [0u8; NONCE_LEN];
    rng.fill_bytes(&mut nonce);
    let aad = payload_aad(kind, case_id, &derived.commitment);
    let framed = frame(payload);
    out.reserve(NONCE_LEN + framed.len() + TAG_LEN);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&derived.payload_key.seal_with_nonce(&nonce, &aad, &framed));
    Ok(out)
}

pub(super) fn payload_aad(kind: ItemKind, case_id: &CaseId, commitment: &[u8]) -> Vec<u8> {
    let mut aad = context(kind, case_id).to_vec();
    aad.extend_from_slice(commitment);
    aad
}

/// What a signature over an envelope covers: SHA-256 of `"tipline envelope content v1" ‖
/// context (22) ‖ key commitment (32) ‖ nonce (12) ‖ ciphertext`, everything but the recipient
/// header. A rewrap (new wraps of the same content key) keeps it, so a signed reply or note
/// stays verifiable after key rotation; the commitment pins the content key, so no other
/// content verifies. Bytes that are not an envelope digest as a whole, under another label
/// (a signature over them verifies for nothing a reader opens).
///
/// Both header versions digest the same way (the context is the payload layer's, version byte
/// 1), so moving an envelope to a threshold header keeps its digest too.
pub fn content_digest(bytes: &[u8]) -> [u8; 32] {
    match parse(bytes) {
        Ok(p) => super::sha256(&[
            b"tipline envelope content v1",
            &context(p.kind, &p.case_id),
            p.commitment,
            p.nonce,
            p.ciphertext,
        ]),
        Err(_) => super::sha256(&[b"tipline not an envelope", bytes]),
    }
}

/// Parses an envelope without decrypting anything. Never panics, whatever the input.
///
/// Of the payload part it only requires the minimum (a nonce and one padded block plus the
/// tag): the store lists recipients from a fixed-length prefix of each blob
/// ([`recipients`] on the first 8,192 bytes), which would fail any check of the whole length.
/// The framing and padding are checked by [`open`] after decryption.
pub fn parse(bytes: &[u8]) -> Result<Parsed<'_>, CryptoError> {
    let magic = bytes.get(..4).ok_or(CryptoError::InvalidEnvelope)?;
    if magic != MAGIC {
        return Err(CryptoError::InvalidEnvelope);
    }
    let version = *bytes.get(4).ok_or(CryptoError::InvalidEnvelope)?;
    if version == VERSION_THRESHOLD {
        return super::threshold::parse_v2(bytes);
    }
    if version != VERSION {
        return Err(CryptoError::UnsupportedVersion);
    }
    if bytes.len() < FIXED_HEADER_LEN {
        return Err(CryptoError::InvalidEnvelope);
    }
    let kind = ItemKind::from_code(bytes[5]).ok_or(CryptoError::InvalidEnvelope)?;
    let case_id = CaseId::from_slice(&bytes[6..22]).ok_or(CryptoError::InvalidEnvelope)?;
    let commitment = &bytes[CONTEXT_LEN..CONTEXT_LEN + COMMITMENT_LEN];
    let n = usize::from(bytes[FIXED_HEADER_LEN - 1]);
    if n == 0 || n > MAX_RECIPIENTS {
        return Err(CryptoError::InvalidEnvelope);
    }
    let header_len = FIXED_HEADER_LEN + n * WRAP_LEN + MAC_LEN;
    let rest = bytes
        .get(header_len..)
        .ok_or(CryptoError::InvalidEnvelope)?;
    let (nonce, ciphertext) = rest
        .split_first_chunk::<NONCE_LEN>()
        .ok_or(CryptoError::InvalidEnvelope)?;
    if ciphertext.len() < TAG_LEN + PAD_BLOCK {
        return Err(CryptoError::InvalidEnvelope);
    }
    let mut recipients = Vec::with_capacity(n);
    let mut wraps = Vec::with_capacity(n);
    let header_body = &bytes[..header_len - MAC_LEN];
    let header_mac = &bytes[header_len - MAC_LEN..header_len];
    for wrap in header_body[FIXED_HEADER_LEN..].chunks_exact(WRAP_LEN) {
        let (id, _) = wrap
            .split_first_chunk::<KEY_ID_LEN>()
            .ok_or(CryptoError::InvalidEnvelope)?;
        let id = KeyId::from_bytes(*id);
        if recipients.last().is_some_and(|last| *last >= id) {
            return Err(CryptoError::InvalidEnvelope);
        }
        recipients.push(id);
        wraps.push(wrap);
    }
    Ok(Parsed {
        kind,
        case_id,
        recipients,
        threshold: None,
        commitment,
        wraps,
        header_body,
        header_mac,
        header_len,
        nonce,
        ciphertext,
    })
}

impl<'a> Parsed<'a> {
    fn wrap_aad(&self, kind: ItemKind, case_id: &CaseId) -> Vec<u8> {
        let mut aad = context(kind, case_id).to_vec();
        aad.extend_from_slice(self.commitment);
        // n ≤ 64, checked by `parse`.
        aad.push(self.recipients.len() as u8);
        for id in &self.recipients {
            aad.extend_from_slice(id.as_bytes());
        }
        aad
    }

    /// Unwraps the content key with `sk`, checking it against the commitment.
    fn content_key(
        &self,
        kind: ItemKind,
        case_id: &CaseId,
        sk: &SecretKey,
    ) -> Result<(Zeroizing<[u8; 32]>, Derived), CryptoError> {
        if self.threshold.is_some() {
            return Err(CryptoError::NeedsShares);
        }
        let my_id = sk.public_key().key_id();
        let index = self
            .recipients
            .iter()
            .position(|id| *id == my_id)
            .ok_or(CryptoError::NotARecipient)?;
        let wrap = self.wraps[index];
        let (enc, ct) = wrap[KEY_ID_LEN..]
            .split_first_chunk::<ENC_LEN>()
            .ok_or(CryptoError::InvalidEnvelope)?;
        let key = suite::open_base(sk, enc, WRAP_INFO, &self.wrap_aad(kind, case_id), ct)?;
        let key: Zeroizing<[u8; 32]> = Zeroizing::new(
            key[..]
                .try_into()
                .map_err(|_| CryptoError::DecryptionFailed)?,
        );
        let derived = derive(&key, &context(kind, case_id));
        if !super::ct_eq(&derived.commitment, self.commitment) {
            return Err(CryptoError::DecryptionFailed);
        }
        let mac = super::hmac_sha256(&derived.mac_key[..], &[self.header_body]);
        if !super::ct_eq(&mac, self.header_mac) {
            return Err(CryptoError::DecryptionFailed);
        }
        Ok((key, derived))
    }

    /// The length of the recipient header (everything before the nonce).
    pub fn header_len(&self) -> usize {
        self.header_len
    }

    /// A parsed view of a version 2 header and what follows it (see [`super::threshold`]).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn threshold_view(
        kind: ItemKind,
        case_id: CaseId,
        recipients: Vec<KeyId>,
        threshold: super::threshold::ThresholdHeader,
        commitment: &'a [u8],
        wraps: Vec<&'a [u8]>,
        header: &'a [u8],
        nonce: &'a [u8; NONCE_LEN],
        ciphertext: &'a [u8],
    ) -> Self {
        Self {
            kind,
            case_id,
            recipients,
            threshold: Some(threshold),
            commitment,
            wraps,
            header_body: header,
            header_mac: &[],
            header_len: header.len(),
            nonce,
            ciphertext,
        }
    }

    /// The payload key for `content_key`, after checking it against the key commitment (so a
    /// wrong key, or shares that do not belong together, never decrypt anything).
    pub(super) fn check_content_key(
        &self,
        kind: ItemKind,
        case_id: &CaseId,
        content_key: &[u8; 32],
    ) -> Result<Derived, CryptoError> {
        let derived = derive(content_key, &context(kind, case_id));
        if !super::ct_eq(&derived.commitment, self.commitment) {
            return Err(CryptoError::DecryptionFailed);
        }
        Ok(derived)
    }

    /// Decrypts and unframes the payload with keys already checked.
    pub(super) fn open_payload(
        &self,
        kind: ItemKind,
        case_id: &CaseId,
        derived: &Derived,
    ) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let aad = payload_aad(kind, case_id, self.commitment);
        let framed = derived
            .payload_key
            .open_with_nonce(self.nonce, &aad, self.ciphertext)?;
        unframe(framed)
    }

    /// The content key unwrapped with `sk` from a version 1 header (checked against the
    /// commitment and the header MAC).
    pub(super) fn v1_content_key(
        &self,
        kind: ItemKind,
        case_id: &CaseId,
        sk: &SecretKey,
    ) -> Result<Zeroizing<[u8; 32]>, CryptoError> {
        Ok(self.content_key(kind, case_id, sk)?.0)
    }
}

/// Opens an envelope with `sk`, expecting it to be an object of `kind` in case `case_id`.
pub fn open(
    bytes: &[u8],
    kind: ItemKind,
    case_id: &CaseId,
    sk: &SecretKey,
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let parsed = parse(bytes)?;
    let (_, derived) = parsed.content_key(kind, case_id, sk)?;
    let aad = payload_aad(kind, case_id, parsed.commitment);
    let framed = derived
        .payload_key
        .open_with_nonce(parsed.nonce, &aad, parsed.ciphertext)?;
    unframe(framed)
}

/// Makes a new recipient header for an envelope that `sk` can open, wrapping the same content
/// key to `recipients` (key rotation). The payload is untouched; the server combines the new
/// header with the stored payload through [`splice_header`].
pub fn rewrap(
    bytes: &[u8],
    kind: ItemKind,
    case_id: &CaseId,
    sk: &SecretKey,
    recipients: &[PublicKey],
) -> Result<Vec<u8>, CryptoError> {
    let parsed = parse(bytes)?;
    let (key, _) = parsed.content_key(kind, case_id, sk)?;
    let (header, _) = build_header(kind, case_id, recipients, &key, &mut OsRng)?;
    Ok(header)
}

/// Replaces the recipient header of `stored` with `new_header` (made by [`rewrap`], or a
/// threshold header of [`super::threshold`]). Refuses a header for another kind, case or
/// content key (the commitment must match), so a client can only re-address an item, never
/// replace it. The header version may change (1 to 2): the payload layer is the same.
pub fn splice_header(stored: &[u8], new_header: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let old = parse(stored)?;
    let fixed = new_header
        .get(..FIXED_HEADER_LEN)
        .ok_or(CryptoError::InvalidEnvelope)?;
    // Magic, kind, case id and commitment; byte 4 is the header version.
    if fixed[..4] != stored[..4]
        || fixed[5..CONTEXT_LEN + COMMITMENT_LEN] != stored[5..CONTEXT_LEN + COMMITMENT_LEN]
    {
        return Err(CryptoError::InvalidEnvelope);
    }
    let mut out = Vec::with_capacity(new_header.len() + stored.len() - old.header_len);
    out.extend_from_slice(new_header);
    out.extend_from_slice(&stored[old.header_len..]);
    let new = parse(&out)?;
    if new.header_len != new_header.len() {
        return Err(CryptoError::InvalidEnvelope);
    }
    Ok(out)
}

/// The key ids an envelope is sealed to.
pub fn recipients(bytes: &[u8]) -> Result<Vec<KeyId>, CryptoError> {
    Ok(parse(bytes)?.recipients)
}

/// A payload type that can travel in a [`Sealed`] envelope.
pub trait Payload: Sized {
    /// Encodes the value as bytes.
    fn encode(&self) -> Vec<u8>;
    /// Decodes bytes made by [`Payload::encode`].
    fn decode(bytes: &[u8]) -> Result<Self, CryptoError>;
}

impl Payload for Vec<u8> {
    fn encode(&self) -> Vec<u8> {
        self.clone()
    }
    fn decode(bytes: &[u8]) -> Result<Self, CryptoError> {
        Ok(bytes.to_vec())
    }
}

/// Implements [`Payload`] as JSON for serde types.
#[macro_export]
macro_rules! json_payload {
    ($t:ty) => {
        impl $crate::crypto::envelope::Payload for $t {
            fn encode(&self) -> Vec<u8> {
                // Serializing plain data structs to JSON cannot fail.
                #[allow(clippy::expect_used)]
                serde_json::to_vec(self).expect("payload serializes")
            }
            fn decode(bytes: &[u8]) -> Result<Self, $crate::crypto::CryptoError> {
                serde_json::from_slice(bytes)
                    .map_err(|_| $crate::crypto::CryptoError::InvalidEnvelope)
            }
        }
    };
}

/// Sealed bytes of a `T`. A `Sealed<T>` is not a `T`: the only way to a `T` is
/// [`Sealed::open`] with a recipient's secret key.
pub struct Sealed<T> {
    bytes: Vec<u8>,
    _payload: PhantomData<fn() -> T>,
}

impl<T: Payload> Sealed<T> {
    /// Seals `value` to `recipients`.
    pub fn seal(
        value: &T,
        kind: ItemKind,
        case_id: &CaseId,
        recipients: &[PublicKey],
    ) -> Result<Self, CryptoError> {
        let plain = Zeroizing::new(value.encode());
        Ok(Self::from_bytes(seal(kind, case_id, recipients, &plain)?))
    }

    /// Seals `value` so that any `k` of `recipients` open it together
    /// ([`super::threshold`]); with `k = 1`, like [`Sealed::seal`].
    pub fn seal_threshold(
        value: &T,
        kind: ItemKind,
        case_id: &CaseId,
        recipients: &[PublicKey],
        k: u8,
    ) -> Result<Self, CryptoError> {
        let plain = Zeroizing::new(value.encode());
        Ok(Self::from_bytes(super::threshold::seal(
            kind, case_id, recipients, k, &plain,
        )?))
    }

    /// Wraps stored bytes (not checked until opened).
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self {
            bytes,
            _payload: PhantomData,
        }
    }

    /// The envelope bytes, for storage or transport.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The envelope bytes, for storage or transport.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    /// Opens the envelope as an object of `kind` in case `case_id`.
    pub fn open(&self, kind: ItemKind, case_id: &CaseId, sk: &SecretKey) -> Result<T, CryptoError> {
        let plain = open(&self.bytes, kind, case_id, sk)?;
        T::decode(&plain)
    }
}

impl<T> std::fmt::Debug for Sealed<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Sealed({} bytes)", self.bytes.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn keys(n: usize) -> Vec<(SecretKey, PublicKey)> {
        (0..n).map(|_| suite::generate_keypair()).collect()
    }

    #[test]
    fn every_recipient_opens_outsider_does_not() {
        let ks = keys(5);
        let pks: Vec<_> = ks.iter().map(|k| k.1).collect();
        let case = CaseId::random();
        let blob = seal(ItemKind::Summary, &case, &pks, b"payload").unwrap();
        for (sk, _) in &ks {
            assert_eq!(
                &open(&blob, ItemKind::Summary, &case, sk).unwrap()[..],
                b"payload"
            );
        }
        let (outsider, _) = suite::generate_keypair();
        assert_eq!(
            open(&blob, ItemKind::Summary, &case, &outsider).unwrap_err(),
            CryptoError::NotARecipient
        );
        assert_eq!(recipients(&blob).unwrap().len(), 5);
    }

    #[test]
    fn bound_to_kind_and_case() {
        let (sk, pk) = suite::generate_keypair();
        let case = CaseId::random();
        let blob = seal(ItemKind::Identity, &case, &[pk], b"x").unwrap();
        assert!(open(&blob, ItemKind::Summary, &case, &sk).is_err());
        assert!(open(&blob, ItemKind::Identity, &CaseId::random(), &sk).is_err());
        assert!(open(&blob, ItemKind::Identity, &case, &sk).is_ok());
    }

    #[test]
    fn refuses_bad_recipient_sets() {
        let (_, pk) = suite::generate_keypair();
        let case = CaseId::random();
        assert_eq!(
            seal(ItemKind::Note, &case, &[], b"x").unwrap_err(),
            CryptoError::InvalidRecipients
        );
        assert_eq!(
            seal(ItemKind::Note, &case, &[pk, pk], b"x").unwrap_err(),
            CryptoError::InvalidRecipients
        );
    }

    #[test]
    fn padding_hides_exact_length() {
        let (_, pk) = suite::generate_keypair();
        let case = CaseId::random();
        let a = seal(ItemKind::Note, &case, &[pk], b"An").unwrap();
        let b = seal(ItemKind::Note, &case, &[pk], "Nguyễn Thị Hoa".as_bytes()).unwrap();
        assert_eq!(a.len(), b.len());
    }

    #[test]
    fn wrap_swapped_between_envelopes_fails() {
        let ks = keys(2);
        let pks: Vec<_> = ks.iter().map(|k| k.1).collect();
        let case = CaseId::random();
        let a = seal(ItemKind::Summary, &case, &pks, b"aaaa").unwrap();
        let b = seal(ItemKind::Summary, &case, &pks, b"bbbb").unwrap();
        // Put b's first wrap into a.
        let mut mixed = a.clone();
        mixed[FIXED_HEADER_LEN..FIXED_HEADER_LEN + WRAP_LEN]
            .copy_from_slice(&b[FIXED_HEADER_LEN..FIXED_HEADER_LEN + WRAP_LEN]);
        let first = parse(&a).unwrap().recipients[0];
        let sk = ks
            .iter()
            .find(|k| k.1.key_id() == first)
            .map(|k| &k.0)
            .unwrap();
        assert!(open(&mixed, ItemKind::Summary, &case, sk).is_err());
        // Swap the order of the two wraps inside a.
        let mut swapped = a.clone();
        let w0 = a[FIXED_HEADER_LEN..FIXED_HEADER_LEN + WRAP_LEN].to_vec();
        let w1 = a[FIXED_HEADER_LEN + WRAP_LEN..FIXED_HEADER_LEN + 2 * WRAP_LEN].to_vec();
        swapped[FIXED_HEADER_LEN..FIXED_HEADER_LEN + WRAP_LEN].copy_from_slice(&w1);
        swapped[FIXED_HEADER_LEN + WRAP_LEN..FIXED_HEADER_LEN + 2 * WRAP_LEN].copy_from_slice(&w0);
        for (sk, _) in &ks {
            assert!(open(&swapped, ItemKind::Summary, &case, sk).is_err());
        }
    }

    #[test]
    fn dropping_a_recipient_fails_for_the_rest() {
        let ks = keys(3);
        let pks: Vec<_> = ks.iter().map(|k| k.1).collect();
        let case = CaseId::random();
        let blob = seal(ItemKind::Summary, &case, &pks, b"x").unwrap();
        // Remove the last wrap and decrement n.
        let mut cut = blob[..FIXED_HEADER_LEN + 2 * WRAP_LEN].to_vec();
        cut[FIXED_HEADER_LEN - 1] = 2;
        cut.extend_from_slice(&blob[FIXED_HEADER_LEN + 3 * WRAP_LEN..]);
        let remaining = parse(&cut).unwrap().recipients;
        for (sk, pk) in &ks {
            if remaining.contains(&pk.key_id()) {
                assert!(open(&cut, ItemKind::Summary, &case, sk).is_err());
            }
        }
    }

    #[test]
    fn rewrap_and_splice() {
        let ks = keys(3);
        let case = CaseId::random();
        let blob = seal(ItemKind::Attachment, &case, &[ks[0].1, ks[1].1], b"file").unwrap();
        let header = rewrap(
            &blob,
            ItemKind::Attachment,
            &case,
            &ks[1].0,
            &[ks[1].1, ks[2].1],
        )
        .unwrap();
        let new = splice_header(&blob, &header).unwrap();
        assert_eq!(
            open(&new, ItemKind::Attachment, &case, &ks[0].0).unwrap_err(),
            CryptoError::NotARecipient
        );
        assert_eq!(
            &open(&new, ItemKind::Attachment, &case, &ks[1].0).unwrap()[..],
            b"file"
        );
        assert_eq!(
            &open(&new, ItemKind::Attachment, &case, &ks[2].0).unwrap()[..],
            b"file"
        );
        // A header from another envelope (other content key) is refused.
        let other = seal(ItemKind::Attachment, &case, &[ks[2].1], b"evil").unwrap();
        let other_header = &other[..parse(&other).unwrap().header_len()];
        assert!(splice_header(&blob, other_header).is_err());
        // Truncated headers are refused without panicking.
        for cut in 0..header.len() {
            assert!(splice_header(&blob, &header[..cut]).is_err());
        }
    }

    #[test]
    fn version_is_checked() {
        let (_, pk) = suite::generate_keypair();
        let case = CaseId::random();
        let mut blob = seal(ItemKind::Note, &case, &[pk], b"x").unwrap();
        blob[4] = 3;
        assert_eq!(parse(&blob).unwrap_err(), CryptoError::UnsupportedVersion);
    }

    /// Seals `framed` as the decrypted payload plaintext exactly as given, bypassing [`frame`]:
    /// what a key holder with a non-conforming writer could produce.
    fn seal_framed(
        kind: ItemKind,
        case_id: &CaseId,
        recipients: &[PublicKey],
        framed: &[u8],
    ) -> Vec<u8> {
        let content_key = Zeroizing::new(super::super::random_array::<32>());
        let (mut out, derived) =
            build_header(kind, case_id, recipients, &content_key, &mut OsRng).unwrap();
        let nonce: [u8; NONCE_LEN] = super::super::random_array();
        let aad = payload_aad(kind, case_id, &derived.commitment);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&derived.payload_key.seal_with_nonce(&nonce, &aad, framed));
        out
    }

    /// Opens `framed` sealed through [`seal_framed`].
    fn open_framed(framed: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let (sk, pk) = suite::generate_keypair();
        let case = CaseId::from_bytes([9; 16]);
        let blob = seal_framed(ItemKind::Note, &case, &[pk], framed);
        open(&blob, ItemKind::Note, &case, &sk)
    }

    #[test]
    fn framing_sizes() {
        for (len, framed) in [
            (0, 256),
            (1, 256),
            (252, 256),
            (253, 512),
            (508, 512),
            (509, 768),
        ] {
            let f = frame(&vec![0xa5; len]);
            assert_eq!(f.len(), framed, "payload of {len} bytes");
            assert_eq!(framed_len(len), framed);
            assert_eq!(&f[..4], &u32::try_from(len).unwrap().to_be_bytes());
            assert!(f[4 + len..].iter().all(|&b| b == 0));
            assert_eq!(&unframe(f).unwrap()[..], &vec![0xa5; len][..]);
        }
    }

    #[test]
    fn canonical_framing_opens() {
        for len in [0, 1, 39, 252, 253, 600] {
            let payload = vec![0x5a; len];
            assert_eq!(&open_framed(&frame(&payload)).unwrap()[..], &payload[..]);
        }
    }

    #[test]
    fn non_zero_padding_byte_is_refused() {
        for at in [5, 100, 255] {
            let mut framed = frame(b"x").to_vec();
            framed[at] = 1;
            assert_eq!(
                open_framed(&framed).unwrap_err(),
                CryptoError::InvalidEnvelope,
                "non-zero padding at {at}"
            );
        }
        // The last byte of a second block's padding.
        let mut framed = frame(&[1; 253]).to_vec();
        assert_eq!(framed.len(), 512);
        framed[511] = 0x80;
        assert_eq!(
            open_framed(&framed).unwrap_err(),
            CryptoError::InvalidEnvelope
        );
    }

    #[test]
    fn extra_padding_block_is_refused() {
        for len in [0, 1, 252, 253] {
            let mut framed = frame(&vec![7; len]).to_vec();
            framed.extend_from_slice(&[0; PAD_BLOCK]);
            assert_eq!(
                open_framed(&framed).unwrap_err(),
                CryptoError::InvalidEnvelope,
                "payload of {len} bytes with an extra block of zeros"
            );
        }
    }

    #[test]
    fn framed_length_not_a_multiple_of_256_is_refused() {
        // Longer than a block (parse's minimum), but not a whole number of blocks: trailing
        // zeros, and the same payload with too little padding.
        for extra in [1, 17, 255] {
            let mut framed = frame(b"payload").to_vec();
            framed.extend_from_slice(&vec![0; extra]);
            assert_eq!(
                open_framed(&framed).unwrap_err(),
                CryptoError::InvalidEnvelope,
                "{} framed bytes",
                framed.len()
            );
        }
        let mut framed = frame(&[3; 300]).to_vec();
        framed.truncate(4 + 300 + 10);
        assert_eq!(
            open_framed(&framed).unwrap_err(),
            CryptoError::InvalidEnvelope
        );
        // A payload that fills the framed bytes exactly but is not a whole number of blocks.
        let mut framed = 296u32.to_be_bytes().to_vec();
        framed.extend_from_slice(&[4; 296]);
        assert_eq!(
            open_framed(&framed).unwrap_err(),
            CryptoError::InvalidEnvelope
        );
        // A length field larger than the framed bytes, as before.
        let mut framed = frame(b"abc").to_vec();
        framed[..4].copy_from_slice(&253u32.to_be_bytes());
        assert_eq!(
            open_framed(&framed).unwrap_err(),
            CryptoError::InvalidEnvelope
        );
    }

    /// The frozen golden blob (tests/data/envelope/golden-v1.json, also checked byte for byte by
    /// tests/envelope_golden.rs) still opens under the strict framing rules.
    #[test]
    fn golden_blob_opens() {
        let g: serde_json::Value =
            serde_json::from_str(include_str!("../../tests/data/envelope/golden-v1.json")).unwrap();
        let field = |k: &str| hex::decode(g[k].as_str().unwrap()).unwrap();
        let blob = field("blob");
        let kind = ItemKind::parse(g["kind"].as_str().unwrap()).unwrap();
        let case = CaseId::from_slice(&field("case_id")).unwrap();
        let ikms = g["recipient_ikms"].as_array().unwrap();
        assert_eq!(ikms.len(), 3);
        for ikm in ikms {
            let (sk, _) = suite::derive_keypair(&hex::decode(ikm.as_str().unwrap()).unwrap());
            assert_eq!(
                &open(&blob, kind, &case, &sk).unwrap()[..],
                &field("plaintext")[..]
            );
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Flipping any bit of any byte makes opening fail for every recipient.
        #[test]
        fn any_single_byte_change_fails(payload in proptest::collection::vec(any::<u8>(), 0..600), idx in any::<proptest::sample::Index>(), flip in 1u8..=255) {
            let ks = keys(2);
            let pks: Vec<_> = ks.iter().map(|k| k.1).collect();
            let case = CaseId::random();
            let mut blob = seal(ItemKind::Summary, &case, &pks, &payload).unwrap();
            let i = idx.index(blob.len());
            blob[i] ^= flip;
            for (sk, _) in &ks {
                prop_assert!(open(&blob, ItemKind::Summary, &case, sk).is_err());
            }
        }

        /// Any other kind or case id in the associated data makes opening fail.
        #[test]
        fn any_aad_change_fails(kind_code in 1u8..=8, case_bytes in any::<[u8; 16]>()) {
            let (sk, pk) = suite::generate_keypair();
            let case = CaseId::from_bytes([7; 16]);
            let blob = seal(ItemKind::Summary, &case, &[pk], b"summary").unwrap();
            let kind = ItemKind::from_code(kind_code).unwrap();
            let other_case = CaseId::from_bytes(case_bytes);
            if kind != ItemKind::Summary || other_case != case {
                prop_assert!(open(&blob, kind, &other_case, &sk).is_err());
            }
        }

        /// `unframe` inverts `frame`, and refuses any change to a padding byte.
        #[test]
        fn framing_round_trip_and_padding_is_checked(payload in proptest::collection::vec(any::<u8>(), 0..800), idx in any::<proptest::sample::Index>(), flip in 1u8..=255) {
            let framed = frame(&payload);
            prop_assert_eq!(framed.len() % PAD_BLOCK, 0);
            prop_assert_eq!(&unframe(framed.clone()).unwrap()[..], &payload[..]);
            let padding = framed.len() - 4 - payload.len();
            if padding > 0 {
                let mut bad = framed.clone();
                bad[4 + payload.len() + idx.index(padding)] ^= flip;
                prop_assert_eq!(unframe(bad).unwrap_err(), CryptoError::InvalidEnvelope);
            }
        }

        /// The parser never panics, on random bytes or on mutations of a valid blob.
        #[test]
        fn parser_total(bytes in proptest::collection::vec(any::<u8>(), 0..800), cut in any::<proptest::sample::Index>()) {
            let _ = parse(&bytes);
            let (_, pk) = suite::generate_keypair();
            let blob = seal(ItemKind::Note, &CaseId::from_bytes([1; 16]), &[pk], &bytes).unwrap();
            let _ = parse(&blob[..cut.index(blob.len())]);
        }
    }
}
