#!/usr/bin/env python3
"""An independent implementation of tipline's formats, written from docs/FORMATS.md.

It shares no code with the Rust crate. Everything here follows the document; where the two
disagree, one of them is wrong.

Needs Python 3.9+ and the `cryptography` package (>= 44, for Argon2id; AES-GCM, X25519).
`argon2-cffi`, when installed, is used as a second argon2id implementation to cross-check.

    python3 tests/data/formats/independent.py check       # every check below, no file written
    python3 tests/data/formats/independent.py generate    # (re)writes the two KAT files
    python3 tests/data/formats/independent.py receipt 7Q4M-2XPA-9KDE-W3HZ [--insecure]
    python3 tests/data/formats/independent.py pseudonym SECRET_FILE TELEGRAM_ID [VERSION]
    python3 tests/data/formats/independent.py open BLOB_HEX KIND CASE_ID_HEX SECRET_KEY_HEX

`check` verifies: the HPKE implementation against tests/data/hpke/*.json; the golden envelope
(opens with every recipient, and re-sealing with the golden RNG reproduces the blob byte for
byte); the receipt and pseudonym KAT files (recomputed and compared); internal round trips of
the key-file, public-key-string, case-code, draft and envelope-framing formats (non-canonical
padding must be refused, docs §6.2). It exits non-zero on any failure.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import struct
import sys
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

HERE = Path(__file__).resolve().parent
DATA = HERE.parent  # tests/data

# ---------------------------------------------------------------------------------------------
# Constants (docs/FORMATS.md §2)
# ---------------------------------------------------------------------------------------------

HKDF_SALT = b"tipline"

ENV_MAGIC = b"TLSE"
ENV_VERSION = 1
ENV_MAX_RECIPIENTS = 64
ENV_WRAP_INFO = b"tipline envelope v1 content-key wrap"
ENV_LABEL_PAYLOAD = b"tipline/envelope/v1/payload"
ENV_LABEL_COMMIT = b"tipline/envelope/v1/commit"
ENV_LABEL_MAC = b"tipline/envelope/v1/header-mac"
ENV_PAD_BLOCK = 256
CONTEXT_LEN = 22
COMMIT_LEN = 32
KEY_ID_LEN = 8
ENC_LEN = 32
WRAP_CT_LEN = 48
WRAP_LEN = KEY_ID_LEN + ENC_LEN + WRAP_CT_LEN  # 88
FIXED_HEADER_LEN = CONTEXT_LEN + COMMIT_LEN + 1  # 55
MAC_LEN = 32
NONCE_LEN = 12
TAG_LEN = 16

ITEM_KINDS = {
    "summary": 1,
    "identity": 2,
    "attachment": 3,
    "attachment_original": 4,
    "to_reporter": 5,
    "from_reporter": 6,
    "note": 7,
    "disclosed_identity": 8,
}

KEY_ID_LABEL = b"tipline key id v1"
PUBKEY_CHECKSUM_LABEL = b"tipline public key v1"
PUBKEY_PREFIXES = {"reviewer": "tlrev1", "custodian": "tlcus1"}
KEY_CHECK_INFO = b"tipline key check"

RECEIPT_BYTES = 10
RECEIPT_SALT = b"tipline-receipt1"
RECEIPT_LABEL_LOOKUP = b"tipline/receipt/v1/lookup-id"
RECEIPT_LABEL_MAILBOX = b"tipline/receipt/v1/mailbox-x25519"
RECEIPT_KDF = {"memory_kib": 65536, "iterations": 3, "parallelism": 1}
INSECURE_FOR_TESTS = {"memory_kib": 64, "iterations": 1, "parallelism": 1}
KEYFILE_KDF_DEFAULT = {"memory_kib": 262144, "iterations": 3, "parallelism": 1}

PSEUDONYM_LABEL = b"tipline/pseudonym/v1/telegram-id"
DRAFT_KEY_LABEL = b"tipline/server-secret/v1/draft-key"
DERIVE_KEY_PREFIX = b"tipline/server-secret/v1/"
DRAFT_AAD_PREFIX = b"tipline draft v1"

CHAIN_LABEL = b"tipline chain v1"
KEYFILE_AAD_LABEL = b"tipline key file aad v1"
KEYFILE_FORMAT = "tipline-private-key"

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
BASE32_IGNORED = {" ", "-", "_", "\u00a0"}

# ---------------------------------------------------------------------------------------------
# Primitives
# ---------------------------------------------------------------------------------------------


def sha256(*parts: bytes) -> bytes:
    h = hashlib.sha256()
    for p in parts:
        h.update(p)
    return h.digest()


def hmac_sha256(key: bytes, *parts: bytes) -> bytes:
    return hmac.new(key, b"".join(parts), hashlib.sha256).digest()


def hkdf_extract(salt: bytes, ikm: bytes) -> bytes:
    # RFC 5869 §2.2; an empty salt means HashLen zero bytes.
    return hmac.new(salt if salt else b"\x00" * 32, ikm, hashlib.sha256).digest()


def hkdf_expand(prk: bytes, info: bytes, length: int) -> bytes:
    # RFC 5869 §2.3
    out, t, i = b"", b"", 1
    while len(out) < length:
        t = hmac.new(prk, t + info + bytes([i]), hashlib.sha256).digest()
        out += t
        i += 1
    return out[:length]


def hkdf(salt: bytes, ikm: bytes, info: bytes, length: int) -> bytes:
    return hkdf_expand(hkdf_extract(salt, ikm), info, length)


def argon2id(password: bytes, salt: bytes, params: dict, length: int = 32) -> bytes:
    out = Argon2id(
        salt=salt,
        length=length,
        iterations=params["iterations"],
        lanes=params["parallelism"],
        memory_cost=params["memory_kib"],
    ).derive(password)
    try:  # second, unrelated implementation when available
        from argon2.low_level import Type, hash_secret_raw

        other = hash_secret_raw(
            password,
            salt,
            time_cost=params["iterations"],
            memory_cost=params["memory_kib"],
            parallelism=params["parallelism"],
            hash_len=length,
            type=Type.ID,
            version=19,
        )
        assert other == out, "cryptography and argon2-cffi disagree on argon2id"
    except ImportError:
        pass
    return out


def clamp(sk: bytes) -> bytes:
    b = bytearray(sk)
    b[0] &= 248
    b[31] &= 127
    b[31] |= 64
    return bytes(b)


def x25519_public(sk: bytes) -> bytes:
    from cryptography.hazmat.primitives import serialization as s

    return (
        X25519PrivateKey.from_private_bytes(sk)
        .public_key()
        .public_bytes(s.Encoding.Raw, s.PublicFormat.Raw)
    )


def x25519(sk: bytes, pk: bytes) -> bytes:
    # Raises ValueError for an all-zero result (low-order point), as RFC 9180 §7.1.4 requires.
    return X25519PrivateKey.from_private_bytes(sk).exchange(X25519PublicKey.from_public_bytes(pk))


def i2osp(n: int, length: int) -> bytes:
    return n.to_bytes(length, "big")


# ---------------------------------------------------------------------------------------------
# Crockford base32 (docs §3)
# ---------------------------------------------------------------------------------------------


def b32_encode(data: bytes) -> str:
    bits = "".join(f"{b:08b}" for b in data)
    if len(bits) % 5:
        bits += "0" * (5 - len(bits) % 5)
    return "".join(CROCKFORD[int(bits[i : i + 5], 2)] for i in range(0, len(bits), 5))


def b32_decode(text: str, length: int) -> bytes | None:
    values = []
    for c in text:
        if c in BASE32_IGNORED:
            continue
        u = c.upper() if c.isascii() else c
        u = {"O": "0", "I": "1", "L": "1"}.get(u, u)
        if len(u) != 1 or u not in CROCKFORD:
            return None
        values.append(CROCKFORD.index(u))
    if len(values) != (length * 8 + 4) // 5:
        return None
    bits = "".join(f"{v:05b}" for v in values)
    data, pad = bits[: length * 8], bits[length * 8 :]
    if "1" in pad:
        return None  # non-zero padding bits: not the one canonical encoding
    return bytes(int(data[i : i + 8], 2) for i in range(0, len(data), 8))


# ---------------------------------------------------------------------------------------------
# HPKE, RFC 9180 base mode, DHKEM(X25519, HKDF-SHA256) + HKDF-SHA256 + AES-GCM (docs §4)
# ---------------------------------------------------------------------------------------------

KEM_ID = 0x0020
KDF_ID = 0x0001
KEM_SUITE_ID = b"KEM" + i2osp(KEM_ID, 2)


def hpke_suite_id(aead_id: int) -> bytes:
    return b"HPKE" + i2osp(KEM_ID, 2) + i2osp(KDF_ID, 2) + i2osp(aead_id, 2)


def labeled_extract(suite_id: bytes, salt: bytes, label: bytes, ikm: bytes) -> bytes:
    return hkdf_extract(salt, b"HPKE-v1" + suite_id + label + ikm)


def labeled_expand(suite_id: bytes, prk: bytes, label: bytes, info: bytes, length: int) -> bytes:
    return hkdf_expand(prk, i2osp(length, 2) + b"HPKE-v1" + suite_id + label + info, length)


def derive_keypair(ikm: bytes) -> tuple[bytes, bytes]:
    """RFC 9180 §7.1.3. Returns (sk as derived, unclamped; pk)."""
    dkp_prk = labeled_extract(KEM_SUITE_ID, b"", b"dkp_prk", ikm)
    sk = labeled_expand(KEM_SUITE_ID, dkp_prk, b"sk", b"", 32)
    return sk, x25519_public(sk)


def _kem_shared_secret(dh: bytes, enc: bytes, pk_r: bytes) -> bytes:
    eae_prk = labeled_extract(KEM_SUITE_ID, b"", b"eae_prk", dh)
    return labeled_expand(KEM_SUITE_ID, eae_prk, b"shared_secret", enc + pk_r, 32)


def _key_schedule(aead_id: int, shared_secret: bytes, info: bytes) -> tuple[bytes, bytes]:
    sid = hpke_suite_id(aead_id)
    nk = {1: 16, 2: 32}[aead_id]
    psk_id_hash = labeled_extract(sid, b"", b"psk_id_hash", b"")
    info_hash = labeled_extract(sid, b"", b"info_hash", info)
    ctx = b"\x00" + psk_id_hash + info_hash  # mode_base = 0x00
    secret = labeled_extract(sid, shared_secret, b"secret", b"")  # psk = ""
    key = labeled_expand(sid, secret, b"key", ctx, nk)
    base_nonce = labeled_expand(sid, secret, b"base_nonce", ctx, 12)
    return key, base_nonce


def _nonce(base_nonce: bytes, seq: int) -> bytes:
    return bytes(a ^ b for a, b in zip(base_nonce, i2osp(seq, 12)))


def hpke_setup_sender(pk_r: bytes, info: bytes, ikm_e: bytes, aead_id: int = 2):
    sk_e, enc = derive_keypair(ikm_e)
    ss = _kem_shared_secret(x25519(sk_e, pk_r), enc, pk_r)
    key, base_nonce = _key_schedule(aead_id, ss, info)
    return enc, key, base_nonce


def hpke_setup_receiver(sk_r: bytes, enc: bytes, info: bytes, aead_id: int = 2):
    pk_r = x25519_public(sk_r)
    ss = _kem_shared_secret(x25519(sk_r, enc), enc, pk_r)
    return _key_schedule(aead_id, ss, info)


def hpke_seal_base(pk_r, info, aad, pt, ikm_e, aead_id=2) -> tuple[bytes, bytes]:
    enc, key, base_nonce = hpke_setup_sender(pk_r, info, ikm_e, aead_id)
    return enc, AESGCM(key).encrypt(_nonce(base_nonce, 0), pt, aad)


def hpke_open_base(sk_r, enc, info, aad, ct, aead_id=2) -> bytes:
    key, base_nonce = hpke_setup_receiver(sk_r, enc, info, aead_id)
    return AESGCM(key).decrypt(_nonce(base_nonce, 0), ct, aad)


def check_hpke_vectors() -> None:
    for name in ["hpke-rfc9180-a1-x25519-sha256-aes128gcm.json", "hpke-x25519-sha256-aes256gcm.json"]:
        v = json.loads((DATA / "hpke" / name).read_text())
        h = bytes.fromhex
        assert (v["mode"], v["kem_id"], v["kdf_id"]) == (0, 0x20, 1)
        sk_r, pk_r = derive_keypair(h(v["ikmR"]))
        assert sk_r == h(v["skRm"]) and pk_r == h(v["pkRm"]), name
        _, pk_e = derive_keypair(h(v["ikmE"]))
        assert pk_e == h(v["pkEm"]), name
        enc, key, base_nonce = hpke_setup_sender(pk_r, h(v["info"]), h(v["ikmE"]), v["aead_id"])
        assert enc == h(v["enc"]), name
        rkey, rnonce = hpke_setup_receiver(sk_r, enc, h(v["info"]), v["aead_id"])
        assert (rkey, rnonce) == (key, base_nonce)
        for e in v["encryptions"]:
            ct = AESGCM(key).encrypt(_nonce(base_nonce, e["seq"]), h(v["pt"]), h(e["aad"]))
            assert ct == h(e["ct"]), f"{name} seq {e['seq']}"
        if v["aead_id"] == 2:
            e0 = v["encryptions"][0]
            assert hpke_open_base(sk_r, enc, h(v["info"]), h(e0["aad"]), h(e0["ct"])) == h(v["pt"])
        print(f"ok  HPKE vectors {name} ({len(v['encryptions'])} encryptions)")


# ---------------------------------------------------------------------------------------------
# Keys (docs §5)
# ---------------------------------------------------------------------------------------------


def key_id(pk: bytes) -> bytes:
    return sha256(KEY_ID_LABEL, pk)[:KEY_ID_LEN]


def key_string(pk: bytes, role: str) -> str:
    prefix = PUBKEY_PREFIXES[role]
    checksum = sha256(PUBKEY_CHECKSUM_LABEL, prefix.encode(), pk)[:4]
    return prefix + b32_encode(pk + checksum).lower()


def parse_key_string(s: str) -> tuple[str, bytes]:
    s = s.strip()
    for role, prefix in PUBKEY_PREFIXES.items():
        if s[: len(prefix)].lower() != prefix:
            continue
        body = b32_decode(s[len(prefix) :], 36)
        if body is None:
            raise ValueError("invalid public key string")
        pk, checksum = body[:32], body[32:]
        if sha256(PUBKEY_CHECKSUM_LABEL, prefix.encode(), pk)[:4] != checksum:
            raise ValueError("invalid public key string")
        return role, pk
    raise ValueError("invalid public key string")


# ---------------------------------------------------------------------------------------------
# Envelope v1 (docs §6)
# ---------------------------------------------------------------------------------------------


def env_context(kind_code: int, case_id: bytes) -> bytes:
    assert len(case_id) == 16
    return ENV_MAGIC + bytes([ENV_VERSION, kind_code]) + case_id


def env_derive(content_key: bytes, ctx: bytes) -> tuple[bytes, bytes, bytes]:
    payload_key = hkdf(HKDF_SALT, content_key, ENV_LABEL_PAYLOAD + ctx, 32)
    commitment = hkdf(HKDF_SALT, content_key, ENV_LABEL_COMMIT + ctx, 32)
    mac_key = hkdf(HKDF_SALT, content_key, ENV_LABEL_MAC + ctx, 32)
    return payload_key, commitment, mac_key


def env_frame(payload: bytes) -> bytes:
    body = 4 + len(payload)
    padded = max(1, -(-body // ENV_PAD_BLOCK)) * ENV_PAD_BLOCK
    return struct.pack(">I", len(payload)) + payload + b"\x00" * (padded - body)


class EnvelopeError(Exception):
    pass


def env_parse(blob: bytes) -> dict:
    if blob[:4] != ENV_MAGIC:
        raise EnvelopeError("invalid: magic")
    if len(blob) < 5:
        raise EnvelopeError("invalid: short")
    if blob[4] != ENV_VERSION:
        raise EnvelopeError("unsupported version")
    if len(blob) < FIXED_HEADER_LEN:
        raise EnvelopeError("invalid: short")
    kind = blob[5]
    if kind not in ITEM_KINDS.values():
        raise EnvelopeError("invalid: kind")
    n = blob[54]
    if not 1 <= n <= ENV_MAX_RECIPIENTS:
        raise EnvelopeError("invalid: n")
    header_len = FIXED_HEADER_LEN + n * WRAP_LEN + MAC_LEN
    if len(blob) < header_len + NONCE_LEN + TAG_LEN + ENV_PAD_BLOCK:
        raise EnvelopeError("invalid: short")
    wraps = []
    for i in range(n):
        w = blob[FIXED_HEADER_LEN + i * WRAP_LEN : FIXED_HEADER_LEN + (i + 1) * WRAP_LEN]
        wraps.append((w[:8], w[8:40], w[40:88]))
    for a, b in zip(wraps, wraps[1:]):
        if not a[0] < b[0]:
            raise EnvelopeError("invalid: key ids not strictly ascending")
    return {
        "kind": kind,
        "case_id": blob[6:22],
        "commitment": blob[22:54],
        "n": n,
        "wraps": wraps,
        "header_body": blob[: header_len - MAC_LEN],
        "header_mac": blob[header_len - MAC_LEN : header_len],
        "header_len": header_len,
        "nonce": blob[header_len : header_len + NONCE_LEN],
        "ciphertext": blob[header_len + NONCE_LEN :],
    }


def env_open(blob: bytes, kind: str, case_id: bytes, sk: bytes) -> bytes:
    p = env_parse(blob)
    ctx = env_context(ITEM_KINDS[kind], case_id)  # the EXPECTED context, not the header's
    my_id = key_id(x25519_public(sk))
    mine = [w for w in p["wraps"] if w[0] == my_id]
    if not mine:
        raise EnvelopeError("not a recipient")
    _, enc, ct = mine[0]
    wrap_aad = ctx + p["commitment"] + bytes([p["n"]]) + b"".join(w[0] for w in p["wraps"])
    content_key = hpke_open_base(sk, enc, ENV_WRAP_INFO, wrap_aad, ct)
    if len(content_key) != 32:
        raise EnvelopeError("decryption failed")
    payload_key, commitment, mac_key = env_derive(content_key, ctx)
    if not hmac.compare_digest(commitment, p["commitment"]):
        raise EnvelopeError("decryption failed: commitment")
    if not hmac.compare_digest(hmac_sha256(mac_key, p["header_body"]), p["header_mac"]):
        raise EnvelopeError("decryption failed: header MAC")
    framed = AESGCM(payload_key).decrypt(p["nonce"], p["ciphertext"], ctx + p["commitment"])
    return env_unframe(framed)


def env_unframe(framed: bytes) -> bytes:
    # docs §6.2: only the framing env_frame writes is accepted.
    if len(framed) < 4:
        raise EnvelopeError("invalid: framed length")
    (length,) = struct.unpack(">I", framed[:4])
    if length > len(framed) - 4:
        raise EnvelopeError("invalid: framed length")
    if len(framed) % ENV_PAD_BLOCK != 0:
        raise EnvelopeError("invalid: framed length not a multiple of 256")
    if len(framed) != max(1, -(-(4 + length) // ENV_PAD_BLOCK)) * ENV_PAD_BLOCK:
        raise EnvelopeError("invalid: padding not minimal")
    if any(framed[4 + length :]):
        raise EnvelopeError("invalid: non-zero padding")
    return framed[4 : 4 + length]


class CounterRng:
    """The golden test's RNG: SHA-256(seed ‖ counter as u64 BE) blocks, consumed in order."""

    def __init__(self, seed: bytes):
        self.seed, self.counter, self.buf = seed, 0, b""

    def take(self, n: int) -> bytes:
        while len(self.buf) < n:
            self.buf += sha256(self.seed, struct.pack(">Q", self.counter))
            self.counter += 1
        out, self.buf = self.buf[:n], self.buf[n:]
        return out


def env_seal(kind: str, case_id: bytes, recipients: list[bytes], payload: bytes, rng) -> bytes:
    if not 1 <= len(recipients) <= ENV_MAX_RECIPIENTS:
        raise EnvelopeError("invalid recipients")
    ordered = sorted((key_id(pk), pk) for pk in recipients)
    if any(a[0] == b[0] for a, b in zip(ordered, ordered[1:])):
        raise EnvelopeError("invalid recipients: duplicate")
    content_key = rng.take(32)
    ctx = env_context(ITEM_KINDS[kind], case_id)
    payload_key, commitment, mac_key = env_derive(content_key, ctx)
    header = ctx + commitment + bytes([len(ordered)])
    wrap_aad = header + b"".join(i for i, _ in ordered)
    for kid, pk in ordered:
        enc, ct = hpke_seal_base(pk, ENV_WRAP_INFO, wrap_aad, content_key, rng.take(32))
        header += kid + enc + ct
    header += hmac_sha256(mac_key, header)
    nonce = rng.take(12)
    return header + nonce + AESGCM(payload_key).encrypt(nonce, env_frame(payload), ctx + commitment)


def check_golden_envelope() -> None:
    g = json.loads((DATA / "envelope" / "golden-v1.json").read_text())
    h = bytes.fromhex
    blob, case_id, plaintext = h(g["blob"]), h(g["case_id"]), h(g["plaintext"])
    keys = [derive_keypair(h(i)) for i in g["recipient_ikms"]]
    p = env_parse(blob)
    assert p["kind"] == ITEM_KINDS[g["kind"]] and p["case_id"] == case_id
    assert p["header_len"] == 55 + 88 * len(keys) + 32 and len(blob) == p["header_len"] + 12 + 256 + 16
    assert sorted(key_id(pk) for _, pk in keys) == [w[0] for w in p["wraps"]]
    for sk, _ in keys:
        assert env_open(blob, g["kind"], case_id, sk) == plaintext
    # Wrong expected kind or case must fail.
    for kind, cid in [("note", case_id), (g["kind"], bytes(16))]:
        try:
            env_open(blob, kind, cid, keys[0][0])
            raise AssertionError("opened under a wrong context")
        except Exception as e:  # noqa: BLE001 - any failure is the right answer
            if isinstance(e, AssertionError):
                raise
    resealed = env_seal(g["kind"], case_id, [pk for _, pk in keys], plaintext, CounterRng(h(g["rng_seed"])))
    assert resealed == blob, "re-sealing with the golden RNG does not reproduce the blob"
    print(f"ok  golden envelope: opens for all {len(keys)} recipients, plaintext {plaintext.decode()!r},"
          " re-seal reproduces all 635 bytes")


# ---------------------------------------------------------------------------------------------
# Receipts (docs §8)
# ---------------------------------------------------------------------------------------------


def receipt_parse(text: str) -> bytes:
    raw = b32_decode(text, RECEIPT_BYTES)
    if raw is None:
        raise ValueError("invalid receipt")
    return raw


def receipt_text(raw: bytes) -> str:
    s = b32_encode(raw)
    return "-".join(s[i : i + 4] for i in range(0, 16, 4))


def receipt_derive(raw: bytes, params: dict) -> dict:
    master = argon2id(raw, RECEIPT_SALT, params)
    lookup_id = hkdf(HKDF_SALT, master, RECEIPT_LABEL_LOOKUP, 32)
    seed = hkdf(HKDF_SALT, master, RECEIPT_LABEL_MAILBOX, 32)
    sk, pk = derive_keypair(seed)
    return {"master": master, "lookup_id": lookup_id, "seed": seed, "sk": clamp(sk), "pk": pk}


# ---------------------------------------------------------------------------------------------
# Server secret, pseudonyms, draft key, drafts (docs §9, §10)
# ---------------------------------------------------------------------------------------------


def server_secret_parse(text: str) -> dict[int, bytes]:
    versions: dict[int, bytes] = {}
    # Lines end at "\n"; a "\r" before it and other surrounding white space are trimmed.
    for i, line in enumerate(text.split("\n"), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) != 2 or not parts[0].startswith("v"):
            raise ValueError(f"malformed at line {i}")
        num = parts[0][1:]
        if num.startswith("+"):
            num = num[1:]
        if not num.isdigit() or not num.isascii() or int(num) > 0xFFFFFFFF:
            raise ValueError(f"malformed at line {i}")
        try:
            key = bytes.fromhex(parts[1]) if len(parts[1]) == 64 else b""
        except ValueError:
            key = b""
        if len(key) != 32:
            raise ValueError(f"malformed at line {i}")
        if int(num) in versions:
            raise ValueError("malformed at line 0 (duplicate version)")
        versions[int(num)] = key
    if not versions:
        raise ValueError("empty")
    return versions


def pseudonym(key: bytes, telegram_id: int) -> bytes:
    return hmac_sha256(key, PSEUDONYM_LABEL, struct.pack(">q", telegram_id))


def draft_key(key: bytes) -> bytes:
    return hkdf(HKDF_SALT, key, DRAFT_KEY_LABEL, 32)


def draft_seal(key: bytes, pseudo: bytes, draft_json: bytes, nonce: bytes) -> bytes:
    return nonce + AESGCM(draft_key(key)).encrypt(nonce, draft_json, DRAFT_AAD_PREFIX + pseudo)


def draft_open(key: bytes, pseudo: bytes, state: bytes) -> bytes:
    return AESGCM(draft_key(key)).decrypt(state[:12], state[12:], DRAFT_AAD_PREFIX + pseudo)


# ---------------------------------------------------------------------------------------------
# Key files (docs §7) and the chain hash
# ---------------------------------------------------------------------------------------------


def chain_hash(prev: bytes, parts: list[bytes]) -> bytes:
    h = hashlib.sha256(CHAIN_LABEL + prev)
    for p in parts:
        h.update(struct.pack(">I", len(p)) + p)
    return h.digest()


def keyfile_aad(body: dict) -> bytes:
    k = body["kdf"]
    fields = [
        body["format"].encode(),
        struct.pack(">I", body["version"]),
        body["role"].encode(),
        body["name"].encode(),
        body["public_key"].encode(),
        k["algorithm"].encode(),
        struct.pack(">I", k["memory_kib"]),
        struct.pack(">I", k["iterations"]),
        struct.pack(">I", k["parallelism"]),
        k["salt"].encode(),
        body["cipher"].encode(),
    ]
    return chain_hash(KEYFILE_AAD_LABEL, fields)


def keyfile_encrypt(sk: bytes, role: str, name: str, passphrase: str, params: dict, salt: bytes, nonce: bytes) -> str:
    body = {
        "format": KEYFILE_FORMAT,
        "version": 1,
        "role": role,
        "name": name,
        "public_key": key_string(x25519_public(sk), role),
        "kdf": {"algorithm": "argon2id", **params, "salt": salt.hex()},
        "cipher": "aes-256-gcm",
        "nonce": "",
        "ciphertext": "",
    }
    key = argon2id(passphrase.encode(), salt, params)
    ct = AESGCM(key).encrypt(nonce, sk, keyfile_aad(body))
    body["nonce"], body["ciphertext"] = nonce.hex(), ct.hex()
    return json.dumps(body, indent=2, ensure_ascii=False) + "\n"


def keyfile_decrypt(text: str, passphrase: str) -> tuple[str, str, bytes]:
    body = json.loads(text)
    k = body["kdf"]
    if (body["format"], body["version"], k["algorithm"], body["cipher"]) != (KEYFILE_FORMAT, 1, "argon2id", "aes-256-gcm"):
        raise ValueError("not a key file")
    salt, nonce, ct = bytes.fromhex(k["salt"]), bytes.fromhex(body["nonce"]), bytes.fromhex(body["ciphertext"])
    if len(nonce) != 12 or k["memory_kib"] > 4 * 1024 * 1024 or k["iterations"] > 100 or len(salt) < 16:
        raise ValueError("not a key file")
    params = {"memory_kib": k["memory_kib"], "iterations": k["iterations"], "parallelism": k["parallelism"]}
    sk = AESGCM(argon2id(passphrase.encode(), salt, params)).decrypt(nonce, ct, keyfile_aad(body))
    if len(sk) != 32:
        raise ValueError("wrong passphrase")
    role, pk = parse_key_string(body["public_key"])
    if role != body["role"] or pk != x25519_public(sk):
        raise ValueError("not a key file")
    return body["role"], body["name"], sk


# ---------------------------------------------------------------------------------------------
# Case codes (docs §11)
# ---------------------------------------------------------------------------------------------


def case_code_parse(s: str) -> str | None:
    s = s.strip()
    rest = s[3:] if s[:3].upper() == "KH-" else s
    raw = b32_decode(rest, 5)
    if raw is None:
        return None
    e = b32_encode(raw)
    return f"KH-{e[:4]}-{e[4:]}"


# ---------------------------------------------------------------------------------------------
# Known-answer files
# ---------------------------------------------------------------------------------------------

RECEIPT_KAT = DATA / "receipt" / "kat.json"
PSEUDONYM_KAT = DATA / "pseudonym" / "kat.json"

# Fixed inputs of the KAT files.
RECEIPT_CASES = [
    # (canonical receipt, params name, other inputs that must parse to the same receipt)
    ("7Q4M-2XPA-9KDE-W3HZ", "RECEIPT_KDF",
     ["7q4m 2xpa 9kde w3hz", "7Q4M2XPA9KDEW3HZ", "7q4m_2xpa_9kde_w3hz", " 7Q4M-2XPA-9KDE-W3HZ ",
      "7Q4M\u00a02XPA\u00a09KDE\u00a0W3HZ", "7-Q-4-M-2XPA9KDE-W3HZ"]),
    ("7Q4M-2XPA-9KDE-W3HZ", "INSECURE_FOR_TESTS", []),
    ("0000-0000-0000-0000", "INSECURE_FOR_TESTS", ["oooo-OOOO-0000-oOo0"]),
    ("ZZZZ-ZZZZ-ZZZZ-ZZZZ", "INSECURE_FOR_TESTS", ["zzzz zzzz zzzz zzzz"]),
    ("1111-AB1C-D1EF-GH1J", "INSECURE_FOR_TESTS", ["iiii-ab1c-dlef-ghij", "LLLL AB1C DIEF GHLJ"]),
    ("K8N3-T6VR-M0PW-Y2XS", "RECEIPT_KDF", ["k8n3-t6vr-mopw-y2xs"]),
]
RECEIPT_REJECTED = [
    "7Q4M-2XPA-9KDE",          # 12 symbols: too short
    "7Q4M-2XPA-9KDE-W3H",      # 15 symbols: too short
    "7Q4M-2XPA-9KDE-W3HZ0",    # 17 symbols: too long
    "7Q4M-2XPA-9KDE-W3HZ\n",   # the input is not trimmed: a trailing newline is refused
    "7Q4M\t2XPA\t9KDE\tW3HZ",   # tabs are not separators
    "7Q4M-2XPA-9KDE-W3HU",     # U is not in the alphabet
    "7Q4M-2XPA-9KDE-W3H*",     # any other character
    "7Q4M.2XPA.9KDE.W3HZ",     # dots are not separators
    "",
]

SERVER_SECRETS = [
    {
        "name": "two versions, as tipline writes the file",
        "file_text": "# tipline server secret: keep private (mode 0600). One version per line;\n"
        "# the highest is current, older ones keep drafts readable during a rotation.\n"
        "v1 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"
        "v2 8f3c2a7d91e04b6655a1c0de7b3f9e2d4c1a0b9f8e7d6c5b4a39281706f5e4d3\n",
    },
    {
        "name": "tolerated variations: CRLF, indentation, tabs, upper-case hex, versions out of order, v07",
        "file_text": "  # rotated twice\r\n\r\n"
        "\tv07   C6F1E8A2B0D94735E1F20A3B4C5D6E7F8091A2B3C4D5E6F708192A3B4C5D6E7F  \r\n"
        "v3 ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff\r\n",
    },
]
TELEGRAM_IDS = [0, 1, 42, 123456789, 7012345678, -1, -1001234567890, 9223372036854775807, -9223372036854775808]


def make_receipt_kat() -> dict:
    params = {"RECEIPT_KDF": RECEIPT_KDF, "INSECURE_FOR_TESTS": INSECURE_FOR_TESTS}
    vectors = []
    for text, pname, inputs in RECEIPT_CASES:
        raw = receipt_parse(text)
        assert receipt_text(raw) == text
        for i in inputs:
            assert receipt_parse(i) == raw, i
        d = receipt_derive(raw, params[pname])
        vectors.append({
            "receipt": text,
            "also_accepted": inputs,
            "receipt_bytes_hex": raw.hex(),
            "params": pname,
            "kdf": dict(params[pname]),
            "argon2_output_hex": d["master"].hex(),
            "lookup_id_hex": d["lookup_id"].hex(),
            "mailbox_seed_hex": d["seed"].hex(),
            "mailbox_secret_hex": d["sk"].hex(),
            "mailbox_public_hex": d["pk"].hex(),
        })
    for r in RECEIPT_REJECTED:
        assert b32_decode(r, RECEIPT_BYTES) is None, r
    return {
        "comment": {
            "about": "Known answers for tipline receipts (docs/FORMATS.md §8), produced by "
                     "tests/data/formats/independent.py, which is written from the document, not from the Rust code.",
            "argon2": "The fixed argon2id settings every vector uses: algorithm, version (19 = 0x13), salt "
                      "(text and hex), output length in bytes, and that the password is the receipt's 10 raw "
                      "bytes (receipt_bytes_hex), not its text. No secret key (K) and no associated data (X).",
            "params": "Named cost parameter sets: RECEIPT_KDF is production (tipline::crypto::receipt::RECEIPT_KDF), "
                      "INSECURE_FOR_TESTS is KdfParams::INSECURE_FOR_TESTS. Each object deserializes as KdfParams.",
            "vectors[].receipt": "The canonical printed form (upper case, four groups of four, dashes): "
                                 "Receipt::expose_text() of the parsed receipt must equal it.",
            "vectors[].also_accepted": "Other inputs that Receipt::parse must accept and map to the same receipt.",
            "vectors[].receipt_bytes_hex": "The 10 bytes (80 bits) the receipt encodes, big-endian bit order.",
            "vectors[].params": "Which named parameter set this vector uses (key of `params`).",
            "vectors[].kdf": "The same parameters spelled out: memory_kib (m, KiB), iterations (t), parallelism (p).",
            "vectors[].argon2_output_hex": "Intermediate: argon2id(password = receipt bytes, salt = \"tipline-receipt1\", "
                                           "kdf) -> 32 bytes (the master secret). Not exposed by the Rust API.",
            "vectors[].lookup_id_hex": "HKDF-SHA256(salt \"tipline\", ikm master, info \"tipline/receipt/v1/lookup-id\", "
                                       "32 bytes): ReceiptKeys::lookup_id.0.",
            "vectors[].mailbox_seed_hex": "Intermediate: HKDF-SHA256(salt \"tipline\", ikm master, info "
                                          "\"tipline/receipt/v1/mailbox-x25519\", 32 bytes), the DeriveKeyPair ikm.",
            "vectors[].mailbox_secret_hex": "RFC 9180 DeriveKeyPair(seed) secret key, CLAMPED (RFC 7748): "
                                            "ReceiptKeys::mailbox_secret.expose_bytes().",
            "vectors[].mailbox_public_hex": "X25519 public key of the mailbox: ReceiptKeys::mailbox_public.as_bytes().",
            "rejected": "Inputs Receipt::parse must refuse (InvalidReceipt).",
        },
        "argon2": {
            "algorithm": "argon2id",
            "version": 19,
            "salt_text": RECEIPT_SALT.decode(),
            "salt_hex": RECEIPT_SALT.hex(),
            "output_len": 32,
            "password": "the 10 receipt bytes",
        },
        "params": params,
        "vectors": vectors,
        "rejected": RECEIPT_REJECTED,
    }


def make_pseudonym_kat() -> dict:
    secrets, vectors = [], []
    for si, s in enumerate(SERVER_SECRETS):
        versions = server_secret_parse(s["file_text"])
        current = max(versions)
        secrets.append({
            "name": s["name"],
            "file_text": s["file_text"],
            "current_version": current,
            "versions": [
                {"version": v, "key_hex": versions[v].hex(), "draft_key_hex": draft_key(versions[v]).hex()}
                for v in sorted(versions)
            ],
        })
        for v in sorted(versions):
            for tid in TELEGRAM_IDS:
                vectors.append({
                    "secret": si,
                    "version": v,
                    "is_current": v == current,
                    "telegram_id": tid,
                    "message_hex": (PSEUDONYM_LABEL + struct.pack(">q", tid)).hex(),
                    "pseudonym_hex": pseudonym(versions[v], tid).hex(),
                })
    return {
        "comment": {
            "about": "Known answers for tipline pseudonyms and draft keys (docs/FORMATS.md §9-§10), produced by "
                     "tests/data/formats/independent.py, which is written from the document, not from the Rust code.",
            "hmac": "The construction: HMAC-SHA256, key = the 32 raw bytes of one server secret version, "
                    "message = message_prefix (text and hex) || telegram id as a signed 64-bit big-endian integer.",
            "draft_key": "HKDF-SHA256 settings of the draft key: salt and info, text and hex; 32 bytes out.",
            "secrets[].name": "What the secret text exercises.",
            "secrets[].file_text": "The server secret in its file form; ServerSecret::parse must accept it.",
            "secrets[].current_version": "ServerSecret::current_version() after parsing (the highest version number).",
            "secrets[].versions[].version": "A version number present in the file.",
            "secrets[].versions[].key_hex": "That version's 32 key bytes (the hex of the file line, lower case).",
            "secrets[].versions[].draft_key_hex": "ServerSecret::draft_key(version).expose_bytes().",
            "vectors[].secret": "Index into `secrets`.",
            "vectors[].version": "The secret version: ServerSecret::pseudonym_with(version, telegram_id).",
            "vectors[].is_current": "True when version == current_version, so ServerSecret::pseudonym(telegram_id) "
                                    "must give the same value too.",
            "vectors[].telegram_id": "The Telegram user or chat id, an i64 (JSON integer; i64::MIN and i64::MAX included).",
            "vectors[].message_hex": "The exact HMAC message: prefix || i64 big-endian two's complement.",
            "vectors[].pseudonym_hex": "The 32-byte pseudonym: Pseudonym.0.",
        },
        "hmac": {
            "algorithm": "HMAC-SHA256",
            "message_prefix": PSEUDONYM_LABEL.decode(),
            "message_prefix_hex": PSEUDONYM_LABEL.hex(),
            "id_encoding": "i64 big-endian two's complement, 8 bytes",
        },
        "draft_key": {
            "kdf": "HKDF-SHA256",
            "salt": HKDF_SALT.decode(),
            "salt_hex": HKDF_SALT.hex(),
            "info": DRAFT_KEY_LABEL.decode(),
            "info_hex": DRAFT_KEY_LABEL.hex(),
            "length": 32,
        },
        "secrets": secrets,
        "vectors": vectors,
    }


def write_json(path: Path, obj: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {path.relative_to(DATA.parent.parent)}")


def check_kat(path: Path, fresh: dict) -> None:
    stored = json.loads(path.read_text(encoding="utf-8"))
    assert stored == fresh, f"{path} differs from what this implementation computes"
    print(f"ok  {path.relative_to(DATA.parent.parent)}: {len(stored['vectors'])} vectors recomputed and equal")


def check_round_trips() -> None:
    # Public key strings and key ids, on the golden recipients.
    g = json.loads((DATA / "envelope" / "golden-v1.json").read_text())
    for ikm in g["recipient_ikms"]:
        sk, pk = derive_keypair(bytes.fromhex(ikm))
        for role in PUBKEY_PREFIXES:
            s = key_string(pk, role)
            assert len(s) == 64 and parse_key_string(s) == (role, pk)
            assert parse_key_string("  " + s.upper() + "\n") == (role, pk)
            forged = ("tlcus1" if role == "reviewer" else "tlrev1") + s[6:]
            try:
                parse_key_string(forged)
                raise AssertionError("forged prefix accepted")
            except ValueError:
                pass
    # Key file, with cheap parameters (self-consistency only: no Rust-made key file is in the repo).
    sk, _ = derive_keypair(b"\x09" * 32)
    text = keyfile_encrypt(clamp(sk), "custodian", "Ms Lan", "correct horse", INSECURE_FOR_TESTS,
                           b"\x11" * 16, b"\x22" * 12)
    assert keyfile_decrypt(text, "correct horse") == ("custodian", "Ms Lan", clamp(sk))
    # Drafts.
    key = bytes(range(32))
    p = pseudonym(key, 42)
    state = draft_seal(key, p, b'{"lang":"vi"}', b"\x33" * 12)
    assert draft_open(key, p, state) == b'{"lang":"vi"}'
    # Case codes.
    assert case_code_parse("kh-7q4m-2xpa") == "KH-7Q4M-2XPA"
    assert case_code_parse("7Q4M 2XPA") == "KH-7Q4M-2XPA"
    assert case_code_parse("KH 7Q4M 2XPA") is None  # docs §12.2: the prefix needs its dash
    # Base32 corner cases from the Rust tests.
    assert b32_encode(b"\xff" * 5) == "ZZZZZZZZ" and b32_decode("zzzz-zzzz", 5) == b"\xff" * 5
    assert b32_decode("UUUUUUUU", 5) is None and b32_decode("0000000", 5) is None
    # Envelope framing (docs §6.2): round trips, and every non-canonical framing is refused.
    for n in (0, 1, 252, 253, 600):
        f = env_frame(b"\xa5" * n)
        assert len(f) == max(1, -(-(4 + n) // 256)) * 256 and env_unframe(f) == b"\xa5" * n
    bad = [
        env_frame(b"x")[:-1] + b"\x01",         # non-zero padding byte
        env_frame(b"x") + b"\x00" * 256,         # an extra block of zeros (not minimal)
        env_frame(b"x") + b"\x00",               # not a multiple of 256
        struct.pack(">I", 296) + b"\x04" * 296,  # no padding, but 300 bytes
        struct.pack(">I", 253) + b"\x00" * 252,  # length beyond the framed bytes
    ]
    for f in bad:
        try:
            env_unframe(f)
            raise AssertionError("non-canonical framing accepted")
        except EnvelopeError:
            pass
    print("ok  round trips: public key strings, key file, draft, case codes, base32, envelope framing")


def main(argv: list[str]) -> int:
    cmd = argv[1] if len(argv) > 1 else "check"
    if cmd == "generate":
        write_json(RECEIPT_KAT, make_receipt_kat())
        write_json(PSEUDONYM_KAT, make_pseudonym_kat())
        return 0
    if cmd == "check":
        check_hpke_vectors()
        check_golden_envelope()
        check_round_trips()
        check_kat(PSEUDONYM_KAT, make_pseudonym_kat())
        check_kat(RECEIPT_KAT, make_receipt_kat())
        print("all checks passed")
        return 0
    if cmd == "receipt":
        raw = receipt_parse(argv[2])
        d = receipt_derive(raw, INSECURE_FOR_TESTS if "--insecure" in argv else RECEIPT_KDF)
        print(json.dumps({"receipt": receipt_text(raw), "lookup_id": d["lookup_id"].hex(),
                          "mailbox_public": d["pk"].hex()}, indent=2))
        return 0
    if cmd == "pseudonym":
        versions = server_secret_parse(Path(argv[2]).read_text())
        v = int(argv[4]) if len(argv) > 4 else max(versions)
        print(pseudonym(versions[v], int(argv[3])).hex())
        return 0
    if cmd == "open":
        print(env_open(bytes.fromhex(argv[2]), argv[3], bytes.fromhex(argv[4]), bytes.fromhex(argv[5])).hex())
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
