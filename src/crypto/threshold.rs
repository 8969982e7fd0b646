//! Threshold envelopes: an object that opens only when `k` of its `n` recipients cooperate
//! (envelope header version 2). `docs/FORMATS.md` §23 specifies it byte by byte.
//!
//! # Construction
//! The payload layer is version 1's unchanged ([`super::envelope`]): a fresh 256-bit content key
//! `K`, the same context `"TLSE" ‖ 0x01 ‖ kind ‖ case id`, the same HKDF derivations, key
//! commitment, framing and AES-256-GCM payload. Only the header differs: instead of wrapping
//! `K` to every recipient, `K` is split with Shamir's secret sharing over GF(2^8), byte by
//! byte, into `n` shares at the points `x = 1..=n` (the recipients' positions in key-id order),
//! any `k` of which give `K` back; each recipient's share is HPKE-sealed to that recipient
//! alone, with the kind, case id, commitment, `k`, `n`, the dealer point, the share's point and
//! every recipient's key id in the associated data. Fewer than `k` shares say nothing about `K`
//! (Shamir's scheme is information-theoretically hiding), and `K` opens nothing unless it
//! matches the commitment, so shares that do not belong together fail instead of decrypting
//! garbage.
//!
//! # Re-sharing without reconstruction
//! When the recipients change, `k` of the current ones re-share without anyone learning `K`
//! (Desmedt–Jajodia redistribution): each such *dealer* `i` opens its own share `s_i` and
//! splits it anew for the new recipients (a *part*, [`reshare_part`]). The new header
//! ([`assemble`], done by the server, which needs no secret for it) gives each new recipient
//! `j` the `k` sub-shares `g_i(x_j)` as *components*; `j`'s share is their Lagrange
//! interpolation at 0 over the dealers' points, `Σ λ_i g_i(x_j)`, a point of the polynomial
//! `Σ λ_i g_i` whose constant term is `Σ λ_i s_i = K`. A share of the old header and one of the
//! new lie on different polynomials, so a retired recipient's share stops mattering once the
//! item is re-shared. A freshly sealed envelope has one component per recipient, at the dealer
//! point 0.
//!
//! # Why vsss-rs
//! The sharing and the interpolation come from the `vsss-rs` crate (its `Gf256` byte-wise
//! Shamir): maintained, widely used (Hyperledger, LIT Protocol, Turnkey), audited twice (the
//! audit findings are fixed in the version used, among them a coefficient sampler that leaked
//! entropy), constant-time GF(2^8) arithmetic, participant identifiers chosen by the caller, and
//! without default features it needs no curve or big-integer code. `sharks` is unmaintained and
//! its fork `blahaj` keeps its field arithmetic private; a polynomial written here would be
//! exactly what must not be hand-rolled.

use zeroize::Zeroizing;

use super::aead::{NONCE_LEN, TAG_LEN};
use super::envelope::{
    self, COMMITMENT_LEN, CONTEXT_LEN, ItemKind, MAGIC, PAD_BLOCK, Parsed, VERSION_THRESHOLD,
    WRAP_CT_LEN,
};
use super::keys::{KEY_ID_LEN, KeyId, PublicKey, SecretKey};
use super::suite::{self, ENC_LEN};
use super::{CryptoError, OsRng};
use crate::ids::CaseId;

/// The most recipients (and so the most dealers) of one threshold envelope.
pub const MAX_RECIPIENTS: usize = envelope::MAX_RECIPIENTS;
/// The magic bytes of a re-share part.
pub const PART_MAGIC: [u8; 4] = *b"TLRS";
/// The re-share part format version.
pub const PART_VERSION: u8 = 1;
/// One component: HPKE enc ‖ HPKE ciphertext of a 32-byte sub-share.
const COMPONENT_LEN: usize = ENC_LEN + WRAP_CT_LEN;
/// Context, commitment, k, n, m.
const FIXED_LEN: usize = CONTEXT_LEN + COMMITMENT_LEN + 3;
/// Part: magic, version, kind, case id, commitment, k, n, dealer point.
const PART_FIXED_LEN: usize = 4 + 1 + 1 + 16 + COMMITMENT_LEN + 3;
const SHARE_INFO: &[u8] = b"tipline envelope v2 share wrap";
/// The longest threshold header: the store reads an item's recipients from its first 8,192
/// bytes, which must hold the header, the nonce and the smallest ciphertext (12 + 272).
pub const MAX_HEADER_LEN: usize = 7900;
/// Combinations tried when more than `k` shares are given and the first do not fit together.
const MAX_COMBINATIONS: usize = 4096;

/// What a version 2 header says besides its recipients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThresholdHeader {
    /// Shares needed to open.
    pub k: u8,
    /// The dealer points of each recipient's components: `[0]` when sealed fresh, else the
    /// previous header's share points of the dealers that re-shared it (ascending).
    pub points: Vec<u8>,
}

/// One recipient's share of a threshold envelope's content key: the point `x` (the
/// recipient's position in the header, from 1) and the value. No `Debug` of the value.
pub struct Share {
    /// The share's point, 1..=n.
    pub x: u8,
    /// Shares needed to open the envelope it belongs to.
    pub k: u8,
    y: Zeroizing<[u8; 32]>,
}

impl Share {
    /// A share received from another key holder (disclosure).
    pub fn new(x: u8, k: u8, y: [u8; 32]) -> Self {
        Self {
            x,
            k,
            y: Zeroizing::new(y),
        }
    }

    /// The share's value, to re-seal it to a requester.
    pub fn expose_value(&self) -> &[u8; 32] {
        &self.y
    }
}

impl std::fmt::Debug for Share {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Share(x = {}, k = {})", self.x, self.k)
    }
}

/// The associated data of one component: the payload context, the commitment, the new `k`
/// and `n`, the dealer point, the recipient's point and every recipient's key id.
fn component_aad(
    kind: ItemKind,
    case_id: &CaseId,
    commitment: &[u8],
    k: u8,
    point: u8,
    x: u8,
    ids: &[KeyId],
) -> Vec<u8> {
    let mut aad = envelope::context(kind, case_id).to_vec();
    aad.extend_from_slice(commitment);
    aad.push(k);
    // n ≤ MAX_RECIPIENTS = 64, checked by every caller.
    aad.push(ids.len() as u8);
    aad.push(point);
    aad.push(x);
    for id in ids {
        aad.extend_from_slice(id.as_bytes());
    }
    aad
}

/// Sorted, distinct recipients with `1 ≤ k ≤ n ≤ 64`.
fn sorted_recipients(recipients: &[PublicKey], k: u8) -> Result<Vec<PublicKey>, CryptoError> {
    let mut sorted = recipients.to_vec();
    sorted.sort_by_key(PublicKey::key_id);
    if sorted.is_empty()
        || sorted.len() > MAX_RECIPIENTS
        || sorted.windows(2).any(|w| w[0].key_id() == w[1].key_id())
        || k == 0
        || usize::from(k) > sorted.len()
    {
        return Err(CryptoError::InvalidRecipients);
    }
    Ok(sorted)
}

/// Splits `secret` into `n` values at the points 1..=n, any `k` of which give it back. With
/// `k = 1` every value is the secret itself (a constant polynomial).
fn split(
    secret: &[u8; 32],
    k: u8,
    n: usize,
    rng: &mut impl rand_core::CryptoRng,
) -> Result<Vec<Zeroizing<[u8; 32]>>, CryptoError> {
    if k == 1 {
        return Ok((0..n).map(|_| Zeroizing::new(*secret)).collect());
    }
    let ids = (1..=n).map(|x| vsss_rs::IdentifierGf256(vsss_rs::Gf256(x as u8)));
    let shares = Zeroizing::new(
        vsss_rs::Gf256::split_bytes_with_participant_ids_iter(usize::from(k), n, secret, rng, ids)
            .map_err(|_| CryptoError::InvalidRecipients)?,
    );
    shares
        .iter()
        .map(|s| {
            // Each share is its point followed by 32 value bytes.
            let value: [u8; 32] = s
                .get(1..)
                .and_then(|v| v.try_into().ok())
                .ok_or(CryptoError::InvalidRecipients)?;
            Ok(Zeroizing::new(value))
        })
        .collect()
}

/// Interpolates at 0 the points `(x, value)`: the secret from `k` shares, or a recipient's
/// share from its components. One point is its own value.
fn interpolate(points: &[(u8, &[u8; 32])]) -> Result<Zeroizing<[u8; 32]>, CryptoError> {
    match points {
        [] => Err(CryptoError::DecryptionFailed),
        [(_, y)] => Ok(Zeroizing::new(**y)),
        _ => {
            let shares: Zeroizing<Vec<Vec<u8>>> = Zeroizing::new(
                points
                    .iter()
                    .map(|(x, y)| {
                        let mut s = Vec::with_capacity(33);
                        s.push(*x);
                        s.extend_from_slice(&y[..]);
                        s
                    })
                    .collect(),
            );
            let secret = Zeroizing::new(
                vsss_rs::Gf256::combine_bytes(&shares[..])
                    .map_err(|_| CryptoError::DecryptionFailed)?,
            );
            Ok(Zeroizing::new(
                secret[..]
                    .try_into()
                    .map_err(|_| CryptoError::DecryptionFailed)?,
            ))
        }
    }
}

/// The header of a threshold envelope with one fresh component per recipient.
fn fresh_header(
    kind: ItemKind,
    case_id: &CaseId,
    recipients: &[PublicKey],
    k: u8,
    content_key: &[u8; 32],
    rng: &mut impl rand_core::CryptoRng,
) -> Result<Vec<u8>, CryptoError> {
    let sorted = sorted_recipients(recipients, k)?;
    let ids: Vec<KeyId> = sorted.iter().map(PublicKey::key_id).collect();
    let derived = envelope::derive(content_key, &envelope::context(kind, case_id));
    let shares = split(content_key, k, sorted.len(), rng)?;
    let mut header = fixed_header(kind, case_id, &derived.commitment, k, sorted.len(), &[0]);
    for (i, (pk, y)) in sorted.iter().zip(&shares).enumerate() {
        let x = (i + 1) as u8;
        let aad = component_aad(kind, case_id, &derived.commitment, k, 0, x, &ids);
        let (enc, ct) = suite::seal_base_with_rng(pk, SHARE_INFO, &aad, &y[..], rng)?;
        header.extend_from_slice(pk.key_id().as_bytes());
        header.extend_from_slice(&enc);
        header.extend_from_slice(&ct);
    }
    if header.len() > MAX_HEADER_LEN {
        return Err(CryptoError::InvalidRecipients);
    }
    Ok(header)
}

/// `"TLSE" ‖ 2 ‖ kind ‖ case id ‖ commitment ‖ k ‖ n ‖ m ‖ points`.
fn fixed_header(
    kind: ItemKind,
    case_id: &CaseId,
    commitment: &[u8],
    k: u8,
    n: usize,
    points: &[u8],
) -> Vec<u8> {
    let mut h = Vec::with_capacity(FIXED_LEN + points.len() + n * (KEY_ID_LEN + COMPONENT_LEN));
    h.extend_from_slice(&MAGIC);
    h.push(VERSION_THRESHOLD);
    h.push(kind.code());
    h.extend_from_slice(case_id.as_bytes());
    h.extend_from_slice(commitment);
    h.push(k);
    // n and the number of points are at most 64, checked by the callers.
    h.push(n as u8);
    h.push(points.len() as u8);
    h.extend_from_slice(points);
    h
}

/// Seals `payload` so that any `k` of `recipients` open it together. With `k = 1` this is an
/// ordinary (version 1) envelope, which each recipient opens alone.
pub fn seal(
    kind: ItemKind,
    case_id: &CaseId,
    recipients: &[PublicKey],
    k: u8,
    payload: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    seal_with_rng(kind, case_id, recipients, k, payload, &mut OsRng)
}

/// [`seal`] with a caller-chosen RNG, for the golden-blob test.
pub fn seal_with_rng(
    kind: ItemKind,
    case_id: &CaseId,
    recipients: &[PublicKey],
    k: u8,
    payload: &[u8],
    rng: &mut impl rand_core::CryptoRng,
) -> Result<Vec<u8>, CryptoError> {
    if k <= 1 {
        return envelope::seal_with_rng(kind, case_id, recipients, payload, rng);
    }
    let mut content_key = Zeroizing::new([0u8; 32]);
    rng.fill_bytes(&mut content_key[..]);
    let mut out = fresh_header(kind, case_id, recipients, k, &content_key, rng)?;
    let derived = envelope::derive(&content_key, &envelope::context(kind, case_id));
    let mut nonce = [0u8; NONCE_LEN];
    rng.fill_bytes(&mut nonce);
    let aad = envelope::payload_aad(kind, case_id, &derived.commitment);
    let framed = envelope::frame(payload);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&derived.payload_key.seal_with_nonce(&nonce, &aad, &framed));
    Ok(out)
}

/// Parses a version 2 envelope (called by [`envelope::parse`]). Never panics.
pub(super) fn parse_v2(bytes: &[u8]) -> Result<Parsed<'_>, CryptoError> {
    if bytes.len() < FIXED_LEN {
        return Err(CryptoError::InvalidEnvelope);
    }
    let kind = ItemKind::from_code(bytes[5]).ok_or(CryptoError::InvalidEnvelope)?;
    let case_id = CaseId::from_slice(&bytes[6..22]).ok_or(CryptoError::InvalidEnvelope)?;
    let commitment = &bytes[CONTEXT_LEN..CONTEXT_LEN + COMMITMENT_LEN];
    let k = bytes[FIXED_LEN - 3];
    let n = usize::from(bytes[FIXED_LEN - 2]);
    let m = usize::from(bytes[FIXED_LEN - 1]);
    if n == 0 || n > MAX_RECIPIENTS || k == 0 || usize::from(k) > n || m == 0 || m > MAX_RECIPIENTS
    {
        return Err(CryptoError::InvalidEnvelope);
    }
    let points = bytes
        .get(FIXED_LEN..FIXED_LEN + m)
        .ok_or(CryptoError::InvalidEnvelope)?;
    if m > 1 && (points[0] == 0 || points.windows(2).any(|w| w[0] >= w[1])) {
        return Err(CryptoError::InvalidEnvelope);
    }
    let entry_len = KEY_ID_LEN + m * COMPONENT_LEN;
    let header_len = FIXED_LEN + m + n * entry_len;
    if header_len > MAX_HEADER_LEN {
        return Err(CryptoError::InvalidEnvelope);
    }
    let header = bytes
        .get(..header_len)
        .ok_or(CryptoError::InvalidEnvelope)?;
    let (nonce, ciphertext) = bytes[header_len..]
        .split_first_chunk::<NONCE_LEN>()
        .ok_or(CryptoError::InvalidEnvelope)?;
    if ciphertext.len() < TAG_LEN + PAD_BLOCK {
        return Err(CryptoError::InvalidEnvelope);
    }
    let mut recipients: Vec<KeyId> = Vec::with_capacity(n);
    let mut entries = Vec::with_capacity(n);
    for entry in header[FIXED_LEN + m..].chunks_exact(entry_len) {
        let (id, _) = entry
            .split_first_chunk::<KEY_ID_LEN>()
            .ok_or(CryptoError::InvalidEnvelope)?;
        let id = KeyId::from_bytes(*id);
        if recipients.last().is_some_and(|last| *last >= id) {
            return Err(CryptoError::InvalidEnvelope);
        }
        recipients.push(id);
        entries.push(entry);
    }
    Ok(Parsed::threshold_view(
        kind,
        case_id,
        recipients,
        ThresholdHeader {
            k,
            points: points.to_vec(),
        },
        commitment,
        entries,
        header,
        nonce,
        ciphertext,
    ))
}

/// `k` of a threshold envelope; `None` for a version 1 envelope (or bytes that are none).
pub fn threshold_of(bytes: &[u8]) -> Option<u8> {
    envelope::parse(bytes).ok()?.threshold.map(|t| t.k)
}

/// Opens this recipient's share of a threshold envelope with `sk`: each component unsealed
/// and, after a re-share, interpolated over the dealers' points.
pub fn share_of(
    bytes: &[u8],
    kind: ItemKind,
    case_id: &CaseId,
    sk: &SecretKey,
) -> Result<Share, CryptoError> {
    let parsed = envelope::parse(bytes)?;
    let th = parsed
        .threshold
        .as_ref()
        .ok_or(CryptoError::InvalidEnvelope)?;
    let my_id = sk.public_key().key_id();
    let index = parsed
        .recipients
        .iter()
        .position(|id| *id == my_id)
        .ok_or(CryptoError::NotARecipient)?;
    let x = (index + 1) as u8;
    let entry = &parsed.wraps[index][KEY_ID_LEN..];
    let mut components: Vec<Zeroizing<[u8; 32]>> = Vec::with_capacity(th.points.len());
    for (point, component) in th.points.iter().zip(entry.chunks_exact(COMPONENT_LEN)) {
        let (enc, ct) = component
            .split_first_chunk::<ENC_LEN>()
            .ok_or(CryptoError::InvalidEnvelope)?;
        let aad = component_aad(
            kind,
            case_id,
            parsed.commitment,
            th.k,
            *point,
            x,
            &parsed.recipients,
        );
        let value = suite::open_base(sk, enc, SHARE_INFO, &aad, ct)?;
        components.push(Zeroizing::new(
            value[..]
                .try_into()
                .map_err(|_| CryptoError::DecryptionFailed)?,
        ));
    }
    let points: Vec<(u8, &[u8; 32])> = th
        .points
        .iter()
        .copied()
        .zip(components.iter().map(|c| &**c))
        .collect();
    Ok(Share {
        x,
        k: th.k,
        y: interpolate(&points)?,
    })
}

/// Every `k`-subset of `0..n`, in lexicographic order, at most [`MAX_COMBINATIONS`].
fn subsets(n: usize, k: usize) -> Vec<Vec<usize>> {
    let mut out = Vec::new();
    if k == 0 || k > n {
        return out;
    }
    let mut idx: Vec<usize> = (0..k).collect();
    loop {
        out.push(idx.clone());
        if out.len() >= MAX_COMBINATIONS {
            return out;
        }
        let Some(i) = (0..k).rev().find(|&i| idx[i] != i + n - k) else {
            return out;
        };
        idx[i] += 1;
        for j in i + 1..k {
            idx[j] = idx[j - 1] + 1;
        }
    }
}

/// Opens a threshold envelope with `shares` (at least `k`, from distinct recipients). The
/// content key they give must match the envelope's commitment; when more than `k` are given,
/// combinations are tried until one fits, so a wrong share among them does no harm.
pub fn open_with_shares(
    bytes: &[u8],
    kind: ItemKind,
    case_id: &CaseId,
    shares: &[Share],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let parsed = envelope::parse(bytes)?;
    let th = parsed
        .threshold
        .as_ref()
        .ok_or(CryptoError::InvalidEnvelope)?;
    let n = parsed.recipients.len();
    let mut distinct: Vec<&Share> = Vec::new();
    for s in shares {
        if s.x >= 1 && usize::from(s.x) <= n && !distinct.iter().any(|d| d.x == s.x) {
            distinct.push(s);
        }
    }
    let k = usize::from(th.k);
    if distinct.len() < k {
        return Err(CryptoError::NeedsShares);
    }
    for subset in subsets(distinct.len(), k) {
        let points: Vec<(u8, &[u8; 32])> = subset
            .iter()
            .map(|&i| (distinct[i].x, &*distinct[i].y))
            .collect();
        let Ok(key) = interpolate(&points) else {
            continue;
        };
        if let Ok(derived) = parsed.check_content_key(kind, case_id, &key) {
            return parsed.open_payload(kind, case_id, &derived);
        }
    }
    Err(CryptoError::DecryptionFailed)
}

/// A new threshold header for a version 1 envelope that `sk` opens: the same content key,
/// split for `recipients` with threshold `k` (used when a single key holder's items move to a
/// threshold; that holder could open them alone anyway). The payload is untouched
/// ([`envelope::splice_header`]).
pub fn to_threshold(
    bytes: &[u8],
    kind: ItemKind,
    case_id: &CaseId,
    sk: &SecretKey,
    recipients: &[PublicKey],
    k: u8,
) -> Result<Vec<u8>, CryptoError> {
    let parsed = envelope::parse(bytes)?;
    let key = parsed.v1_content_key(kind, case_id, sk)?;
    fresh_header(kind, case_id, recipients, k, &key, &mut OsRng)
}

/// A parsed re-share part.
#[derive(Debug)]
pub struct Part<'a> {
    /// Kind of the envelope the part re-shares.
    pub kind: ItemKind,
    /// Case of the envelope.
    pub case_id: CaseId,
    /// Threshold of the new header.
    pub k: u8,
    /// Recipients of the new header, sorted.
    pub recipients: Vec<KeyId>,
    /// The dealer's share point in the current header.
    pub dealer: u8,
    commitment: &'a [u8],
    entries: Vec<&'a [u8]>,
}

/// This recipient's re-share part for `recipients` with threshold `k`: its own share split
/// anew, each value sealed to one new recipient (see the module documentation). Nobody learns
/// the content key; `k` parts of distinct dealers make the new header ([`assemble`]).
pub fn reshare_part(
    bytes: &[u8],
    kind: ItemKind,
    case_id: &CaseId,
    sk: &SecretKey,
    recipients: &[PublicKey],
    k: u8,
) -> Result<Vec<u8>, CryptoError> {
    reshare_part_with_rng(bytes, kind, case_id, sk, recipients, k, &mut OsRng)
}

fn reshare_part_with_rng(
    bytes: &[u8],
    kind: ItemKind,
    case_id: &CaseId,
    sk: &SecretKey,
    recipients: &[PublicKey],
    k: u8,
    rng: &mut impl rand_core::CryptoRng,
) -> Result<Vec<u8>, CryptoError> {
    let share = share_of(bytes, kind, case_id, sk)?;
    let parsed = envelope::parse(bytes)?;
    let sorted = sorted_recipients(recipients, k)?;
    let ids: Vec<KeyId> = sorted.iter().map(PublicKey::key_id).collect();
    let values = split(&share.y, k, sorted.len(), rng)?;
    let mut out = Vec::with_capacity(PART_FIXED_LEN + sorted.len() * (KEY_ID_LEN + COMPONENT_LEN));
    out.extend_from_slice(&PART_MAGIC);
    out.push(PART_VERSION);
    out.push(kind.code());
    out.extend_from_slice(case_id.as_bytes());
    out.extend_from_slice(parsed.commitment);
    out.push(k);
    out.push(sorted.len() as u8);
    out.push(share.x);
    for (i, (pk, v)) in sorted.iter().zip(&values).enumerate() {
        let x = (i + 1) as u8;
        let aad = component_aad(kind, case_id, parsed.commitment, k, share.x, x, &ids);
        let (enc, ct) = suite::seal_base_with_rng(pk, SHARE_INFO, &aad, &v[..], rng)?;
        out.extend_from_slice(pk.key_id().as_bytes());
        out.extend_from_slice(&enc);
        out.extend_from_slice(&ct);
    }
    Ok(out)
}

/// Parses a re-share part without decrypting anything. Never panics.
pub fn parse_part(bytes: &[u8]) -> Result<Part<'_>, CryptoError> {
    if bytes.len() < PART_FIXED_LEN || bytes[..4] != PART_MAGIC {
        return Err(CryptoError::InvalidEnvelope);
    }
    if bytes[4] != PART_VERSION {
        return Err(CryptoError::UnsupportedVersion);
    }
    let kind = ItemKind::from_code(bytes[5]).ok_or(CryptoError::InvalidEnvelope)?;
    let case_id = CaseId::from_slice(&bytes[6..22]).ok_or(CryptoError::InvalidEnvelope)?;
    let commitment = &bytes[22..22 + COMMITMENT_LEN];
    let k = bytes[PART_FIXED_LEN - 3];
    let n = usize::from(bytes[PART_FIXED_LEN - 2]);
    let dealer = bytes[PART_FIXED_LEN - 1];
    if n == 0 || n > MAX_RECIPIENTS || k == 0 || usize::from(k) > n || dealer == 0 {
        return Err(CryptoError::InvalidEnvelope);
    }
    let entry_len = KEY_ID_LEN + COMPONENT_LEN;
    if bytes.len() != PART_FIXED_LEN + n * entry_len {
        return Err(CryptoError::InvalidEnvelope);
    }
    let mut recipients: Vec<KeyId> = Vec::with_capacity(n);
    let mut entries = Vec::with_capacity(n);
    for entry in bytes[PART_FIXED_LEN..].chunks_exact(entry_len) {
        let (id, rest) = entry
            .split_first_chunk::<KEY_ID_LEN>()
            .ok_or(CryptoError::InvalidEnvelope)?;
        let id = KeyId::from_bytes(*id);
        if recipients.last().is_some_and(|last| *last >= id) {
            return Err(CryptoError::InvalidEnvelope);
        }
        recipients.push(id);
        entries.push(rest);
    }
    Ok(Part {
        kind,
        case_id,
        k,
        recipients,
        dealer,
        commitment,
        entries,
    })
}

/// The new header of `stored` made of re-share parts (no secret needed: the server does it).
/// Uses exactly `k` (of `stored`) parts of distinct dealers that are recipients of `stored`,
/// all for the same new recipients and threshold and for this envelope; the dealers with the
/// lowest points when more are given. The result goes through [`envelope::splice_header`].
pub fn assemble(stored: &[u8], parts: &[&[u8]]) -> Result<Vec<u8>, CryptoError> {
    let parsed = envelope::parse(stored)?;
    let th = parsed
        .threshold
        .as_ref()
        .ok_or(CryptoError::InvalidEnvelope)?;
    let n_old = parsed.recipients.len();
    let mut usable: Vec<Part<'_>> = Vec::new();
    for bytes in parts {
        let part = parse_part(bytes)?;
        if part.kind != parsed.kind
            || part.case_id != parsed.case_id
            || part.commitment != parsed.commitment
            || usize::from(part.dealer) > n_old
        {
            return Err(CryptoError::InvalidEnvelope);
        }
        if let Some(first) = usable.first()
            && (first.k != part.k || first.recipients != part.recipients)
        {
            return Err(CryptoError::InvalidRecipients);
        }
        if !usable.iter().any(|u| u.dealer == part.dealer) {
            usable.push(part);
        }
    }
    let k_old = usize::from(th.k);
    if usable.len() < k_old {
        return Err(CryptoError::NeedsShares);
    }
    usable.sort_by_key(|p| p.dealer);
    usable.truncate(k_old);
    let first = &usable[0];
    let points: Vec<u8> = usable.iter().map(|p| p.dealer).collect();
    let mut header = fixed_header(
        parsed.kind,
        &parsed.case_id,
        parsed.commitment,
        first.k,
        first.recipients.len(),
        &points,
    );
    for (j, id) in first.recipients.iter().enumerate() {
        header.extend_from_slice(id.as_bytes());
        for part in &usable {
            header.extend_from_slice(part.entries[j]);
        }
    }
    // Too many dealers for too many recipients (say 64 × 64): refused, the old header stays.
    if header.len() > MAX_HEADER_LEN {
        return Err(CryptoError::InvalidRecipients);
    }
    Ok(header)
}

/// The magic bytes of a disclosure share packet (the payload of an `identity_share` item).
pub const PACKET_MAGIC: [u8; 4] = *b"TLSP";
/// The share packet format version.
pub const PACKET_VERSION: u8 = 1;
const PACKET_ENTRY_LEN: usize = 8 + 1 + 32 + 1 + 1 + 32;

/// One custodian's share of one threshold-sealed item, as disclosed to a requester.
#[derive(Debug)]
pub struct DisclosedShare {
    /// The item the share opens.
    pub item_id: i64,
    /// Its kind.
    pub kind: ItemKind,
    /// Its content digest ([`envelope::content_digest`]): the share is for exactly this item.
    pub digest: [u8; 32],
    /// The share.
    pub share: Share,
}

/// Encodes shares as an `identity_share` payload: `"TLSP" ‖ 1 ‖ count ‖ count × (item id
/// (i64 BE) ‖ kind ‖ digest (32) ‖ k ‖ x ‖ value (32))`, 1 to 255 entries.
pub fn encode_shares(entries: &[DisclosedShare]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let count = u8::try_from(entries.len()).map_err(|_| CryptoError::InvalidEnvelope)?;
    if count == 0 {
        return Err(CryptoError::InvalidEnvelope);
    }
    let mut out = Zeroizing::new(Vec::with_capacity(6 + entries.len() * PACKET_ENTRY_LEN));
    out.extend_from_slice(&PACKET_MAGIC);
    out.push(PACKET_VERSION);
    out.push(count);
    for e in entries {
        out.extend_from_slice(&e.item_id.to_be_bytes());
        out.push(e.kind.code());
        out.extend_from_slice(&e.digest);
        out.push(e.share.k);
        out.push(e.share.x);
        out.extend_from_slice(&e.share.y[..]);
    }
    Ok(out)
}

/// Decodes [`encode_shares`]. Never panics.
pub fn decode_shares(bytes: &[u8]) -> Result<Vec<DisclosedShare>, CryptoError> {
    if bytes.len() < 6 || bytes[..4] != PACKET_MAGIC {
        return Err(CryptoError::InvalidEnvelope);
    }
    if bytes[4] != PACKET_VERSION {
        return Err(CryptoError::UnsupportedVersion);
    }
    let count = usize::from(bytes[5]);
    if count == 0 || bytes.len() != 6 + count * PACKET_ENTRY_LEN {
        return Err(CryptoError::InvalidEnvelope);
    }
    bytes[6..]
        .chunks_exact(PACKET_ENTRY_LEN)
        .map(|e| {
            let bad = || CryptoError::InvalidEnvelope;
            let item_id = i64::from_be_bytes(e[..8].try_into().map_err(|_| bad())?);
            let kind = ItemKind::from_code(e[8]).ok_or_else(bad)?;
            let digest: [u8; 32] = e[9..41].try_into().map_err(|_| bad())?;
            let (k, x) = (e[41], e[42]);
            if k == 0 || x == 0 {
                return Err(bad());
            }
            let y: [u8; 32] = e[43..75].try_into().map_err(|_| bad())?;
            Ok(DisclosedShare {
                item_id,
                kind,
                digest,
                share: Share::new(x, k, y),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::suite::generate_keypair;

    fn keys(n: usize) -> Vec<(SecretKey, PublicKey)> {
        (0..n).map(|_| generate_keypair()).collect()
    }

    fn pks(ks: &[(SecretKey, PublicKey)]) -> Vec<PublicKey> {
        ks.iter().map(|k| k.1).collect()
    }

    fn shares_of(blob: &[u8], case: &CaseId, ks: &[&(SecretKey, PublicKey)]) -> Vec<Share> {
        ks.iter()
            .map(|(sk, _)| share_of(blob, ItemKind::Identity, case, sk).unwrap())
            .collect()
    }

    #[test]
    fn any_k_of_n_open_and_fewer_do_not() {
        for (n, k) in [(2usize, 2u8), (3, 2), (5, 3), (4, 4)] {
            let ks = keys(n);
            let case = CaseId::random();
            let blob = seal(ItemKind::Identity, &case, &pks(&ks), k, b"Nguyen Van A").unwrap();
            assert_eq!(threshold_of(&blob), Some(k));
            // No single key opens it the ordinary way.
            for (sk, _) in &ks {
                assert_eq!(
                    envelope::open(&blob, ItemKind::Identity, &case, sk).unwrap_err(),
                    CryptoError::NeedsShares
                );
            }
            let all: Vec<&(SecretKey, PublicKey)> = ks.iter().collect();
            for subset in subsets(n, usize::from(k)) {
                let chosen: Vec<_> = subset.iter().map(|&i| all[i]).collect();
                let shares = shares_of(&blob, &case, &chosen);
                assert_eq!(
                    &open_with_shares(&blob, ItemKind::Identity, &case, &shares).unwrap()[..],
                    b"Nguyen Van A"
                );
            }
            for subset in subsets(n, usize::from(k) - 1) {
                let chosen: Vec<_> = subset.iter().map(|&i| all[i]).collect();
                let shares = shares_of(&blob, &case, &chosen);
                assert!(open_with_shares(&blob, ItemKind::Identity, &case, &shares).is_err());
                // k−1 true shares and a guessed one: the key does not match the commitment.
                let mut guessed = shares;
                let missing = (1..=n as u8)
                    .find(|x| !guessed.iter().any(|s| s.x == *x))
                    .unwrap();
                guessed.push(Share::new(missing, k, [0x42; 32]));
                assert_eq!(
                    open_with_shares(&blob, ItemKind::Identity, &case, &guessed).unwrap_err(),
                    CryptoError::DecryptionFailed
                );
            }
        }
    }

    #[test]
    fn k_minus_one_shares_are_independent_of_the_secret() {
        // Information-theoretic hiding, checked on the sharing itself: for a fixed set of k−1
        // points, each byte value of the secret is equally consistent with the shares: for
        // every candidate secret byte there is exactly one completion (the k-th share) that
        // interpolates to it.
        let secret = [7u8; 32];
        let shares = split(&secret, 2, 3, &mut OsRng).unwrap();
        let x1 = shares[0][0];
        let mut reached = std::collections::BTreeSet::new();
        for guess in 0..=255u8 {
            let y2 = [guess; 32];
            let k = interpolate(&[(1, &shares[0]), (2, &y2)]).unwrap();
            reached.insert(k[0]);
        }
        assert_eq!(
            reached.len(),
            256,
            "share 1 (first byte {x1}) rules out no secret"
        );
    }

    #[test]
    fn one_of_n_is_an_ordinary_envelope() {
        let ks = keys(2);
        let case = CaseId::random();
        let blob = seal(ItemKind::Identity, &case, &pks(&ks), 1, b"x").unwrap();
        assert_eq!(threshold_of(&blob), None);
        for (sk, _) in &ks {
            assert!(envelope::open(&blob, ItemKind::Identity, &case, sk).is_ok());
        }
    }

    #[test]
    fn bound_to_kind_case_threshold_and_recipients() {
        let ks = keys(3);
        let case = CaseId::random();
        let blob = seal(ItemKind::Identity, &case, &pks(&ks), 2, b"x").unwrap();
        let (sk, _) = &ks[0];
        assert!(share_of(&blob, ItemKind::AttachmentOriginal, &case, sk).is_err());
        assert!(share_of(&blob, ItemKind::Identity, &CaseId::random(), sk).is_err());
        // Lowering k in the header breaks every share's associated data.
        let mut lowered = blob.clone();
        lowered[54] = 1;
        for (sk, _) in &ks {
            assert!(share_of(&lowered, ItemKind::Identity, &case, sk).is_err());
        }
        // A flipped byte in one recipient's component fails for that recipient only.
        let parsed = envelope::parse(&blob).unwrap();
        let target = parsed.recipients[1];
        let mut flipped = blob.clone();
        let at = FIXED_LEN + 1 + (KEY_ID_LEN + COMPONENT_LEN) + KEY_ID_LEN + ENC_LEN + 3;
        flipped[at] ^= 1;
        for (sk, pk) in &ks {
            let ok = share_of(&flipped, ItemKind::Identity, &case, sk).is_ok();
            assert_eq!(ok, pk.key_id() != target);
        }
        let (outsider, _) = generate_keypair();
        assert_eq!(
            share_of(&blob, ItemKind::Identity, &case, &outsider).unwrap_err(),
            CryptoError::NotARecipient
        );
    }

    #[test]
    fn reshare_moves_to_a_new_set_without_anyone_learning_the_key() {
        // Custodians A, B, C with k = 2; D joins and C leaves.
        let ks = keys(4);
        let (a, b, c, d) = (&ks[0], &ks[1], &ks[2], &ks[3]);
        let case = CaseId::random();
        let blob = seal(
            ItemKind::Identity,
            &case,
            &[a.1, b.1, c.1],
            2,
            b"Tran Thi B",
        )
        .unwrap();
        let new_set = [a.1, b.1, d.1];
        let old_c = share_of(&blob, ItemKind::Identity, &case, &c.0).unwrap();
        let part_a = reshare_part(&blob, ItemKind::Identity, &case, &a.0, &new_set, 2).unwrap();
        // One part is not enough to assemble a header.
        assert_eq!(
            assemble(&blob, &[&part_a]).unwrap_err(),
            CryptoError::NeedsShares
        );
        let part_b = reshare_part(&blob, ItemKind::Identity, &case, &b.0, &new_set, 2).unwrap();
        let header = assemble(&blob, &[&part_a, &part_b]).unwrap();
        let new = envelope::splice_header(&blob, &header).unwrap();
        assert_eq!(
            envelope::content_digest(&new),
            envelope::content_digest(&blob)
        );
        for pair in [[a, b], [a, d], [b, d]] {
            let shares = shares_of(&new, &case, &pair);
            assert_eq!(
                &open_with_shares(&new, ItemKind::Identity, &case, &shares).unwrap()[..],
                b"Tran Thi B"
            );
        }
        // C is no recipient any more, and its old share does not fit the new ones.
        assert!(share_of(&new, ItemKind::Identity, &case, &c.0).is_err());
        for other in [a, b, d] {
            let mut shares = shares_of(&new, &case, &[other]);
            shares.push(Share::new(old_c.x, 2, *old_c.expose_value()));
            assert!(open_with_shares(&new, ItemKind::Identity, &case, &shares).is_err());
        }
        // A second re-share (B and D deal, to k = 3 of A, B, D) works on a re-shared header.
        let part_b2 = reshare_part(&new, ItemKind::Identity, &case, &b.0, &new_set, 3).unwrap();
        let part_d2 = reshare_part(&new, ItemKind::Identity, &case, &d.0, &new_set, 3).unwrap();
        let again =
            envelope::splice_header(&new, &assemble(&new, &[&part_d2, &part_b2]).unwrap()).unwrap();
        assert_eq!(threshold_of(&again), Some(3));
        let shares = shares_of(&again, &case, &[a, b, d]);
        assert_eq!(
            &open_with_shares(&again, ItemKind::Identity, &case, &shares).unwrap()[..],
            b"Tran Thi B"
        );
        assert!(open_with_shares(&again, ItemKind::Identity, &case, &shares[..2]).is_err());
    }

    #[test]
    fn parts_for_different_targets_or_envelopes_do_not_assemble() {
        let ks = keys(3);
        let case = CaseId::random();
        let all = pks(&ks);
        let blob = seal(ItemKind::Identity, &case, &all, 2, b"x").unwrap();
        let other = seal(ItemKind::Identity, &case, &all, 2, b"y").unwrap();
        let p1 = reshare_part(&blob, ItemKind::Identity, &case, &ks[0].0, &all, 2).unwrap();
        let p2 = reshare_part(&blob, ItemKind::Identity, &case, &ks[1].0, &all[..2], 2).unwrap();
        let p3 = reshare_part(&other, ItemKind::Identity, &case, &ks[1].0, &all, 2).unwrap();
        assert!(assemble(&blob, &[&p1, &p2]).is_err());
        assert!(assemble(&blob, &[&p1, &p3]).is_err());
        // The same dealer twice counts once.
        assert!(assemble(&blob, &[&p1, &p1]).is_err());
    }

    #[test]
    fn a_single_holder_moves_its_items_to_a_threshold() {
        let ks = keys(3);
        let case = CaseId::random();
        let blob =
            envelope::seal(ItemKind::AttachmentOriginal, &case, &[ks[0].1], b"file").unwrap();
        let header = to_threshold(
            &blob,
            ItemKind::AttachmentOriginal,
            &case,
            &ks[0].0,
            &pks(&ks),
            2,
        )
        .unwrap();
        let moved = envelope::splice_header(&blob, &header).unwrap();
        assert_eq!(threshold_of(&moved), Some(2));
        let shares: Vec<Share> = ks[1..]
            .iter()
            .map(|(sk, _)| share_of(&moved, ItemKind::AttachmentOriginal, &case, sk).unwrap())
            .collect();
        assert_eq!(
            &open_with_shares(&moved, ItemKind::AttachmentOriginal, &case, &shares).unwrap()[..],
            b"file"
        );
    }

    #[test]
    fn more_shares_than_needed_survive_a_wrong_one() {
        let ks = keys(3);
        let case = CaseId::random();
        let blob = seal(ItemKind::Identity, &case, &pks(&ks), 2, b"x").unwrap();
        let mut shares = shares_of(&blob, &case, &ks.iter().collect::<Vec<_>>());
        shares[0] = Share::new(shares[0].x, 2, [9; 32]);
        assert!(open_with_shares(&blob, ItemKind::Identity, &case, &shares).is_ok());
    }

    #[test]
    fn share_packets_round_trip() {
        let entries = vec![DisclosedShare {
            item_id: 42,
            kind: ItemKind::Identity,
            digest: [3; 32],
            share: Share::new(2, 2, [9; 32]),
        }];
        let bytes = encode_shares(&entries).unwrap();
        let back = decode_shares(&bytes).unwrap();
        assert_eq!(back[0].item_id, 42);
        assert_eq!(back[0].share.x, 2);
        assert_eq!(back[0].share.expose_value(), &[9; 32]);
        assert!(decode_shares(&bytes[..bytes.len() - 1]).is_err());
        assert!(encode_shares(&[]).is_err());
    }

    proptest::proptest! {
        #[test]
        fn parsers_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2048)) {
            let mut b = bytes.clone();
            if b.len() > 5 {
                b[..4].copy_from_slice(&MAGIC);
                b[4] = VERSION_THRESHOLD;
            }
            let _ = envelope::parse(&b);
            let _ = parse_part(&b);
            let _ = assemble(&b, &[&bytes]);
            let _ = open_with_shares(&b, ItemKind::Identity, &CaseId::from_bytes([0; 16]), &[]);
            let _ = decode_shares(&bytes);
        }
    }
}
