//! Bearer tokens for the review API: 256 random bits shown once as `tlt_<base32>`; only
//! SHA-256 of the text is stored. A token binds a role and (for reviewers and custodians) the
//! recipient key its holder decrypts with.
//!
//! Invariants: lookups go by hash and the stored hash is compared again in constant time;
//! every failure is audited (as `unauthenticated`, with the kind of failure, never the token);
//! an address that fails too often is refused for the rest of the window, successful or not,
//! without touching the database.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::clock::{Day, unix_now};
use crate::crypto::KeyId;
use crate::store::{Store, StoreError, TokenRole, TokenRow};

/// The prefix of every token, so that leaked tokens are recognisable by scanners.
pub const TOKEN_PREFIX: &str = "tlt_";

/// Failed attempts allowed per source address per window.
pub const MAX_FAILURES: u32 = 10;
/// The failure window, seconds.
pub const FAILURE_WINDOW_SECS: i64 = 60;

/// A newly issued token: the text (shown once) and the row stored.
pub struct IssuedToken {
    /// The token text.
    pub token: SecretString,
    /// What was stored.
    pub row: TokenRow,
}

/// SHA-256 of a token's text.
pub fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.trim().as_bytes()).into()
}

/// Makes and stores a token; audits the issue as `actor`.
pub async fn issue(
    store: &Store,
    role: TokenRole,
    key_id: Option<KeyId>,
    valid_secs: i64,
    actor: &str,
) -> Result<IssuedToken, StoreError> {
    let bytes: zeroize::Zeroizing<[u8; 32]> =
        zeroize::Zeroizing::new(crate::crypto::random_array());
    let token = SecretString::from(format!(
        "{TOKEN_PREFIX}{}",
        crate::crypto::base32::encode(&bytes[..]).to_ascii_lowercase()
    ));
    let id = format!("t{}", hex::encode(crate::crypto::random_array::<5>()));
    let row = TokenRow {
        id,
        hash: token_hash(token.expose_secret()).to_vec(),
        key_id,
        role,
        issued_day: Day::today(),
        expires_at: unix_now() + valid_secs,
        revoked: false,
    };
    store.insert_token(&row, actor).await?;
    Ok(IssuedToken { token, row })
}

/// Parses a validity like `90d`, `12h`, `30m` into seconds.
pub fn parse_validity(s: &str) -> Option<i64> {
    let s = s.trim();
    let (n, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit())?);
    let n: i64 = n.parse().ok()?;
    let mult = match unit {
        "d" => 86_400,
        "h" => 3600,
        "m" => 60,
        _ => return None,
    };
    (n > 0).then(|| n.checked_mul(mult)).flatten()
}

/// Who is calling, once authenticated.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The token's id.
    pub token_id: String,
    /// Its role.
    pub role: TokenRole,
    /// The bound recipient key (always set for reviewers and custodians).
    pub key: Option<KeyId>,
    /// Token expiry.
    pub expires_at: i64,
}

impl Caller {
    /// The audit actor: the key id, or `admin:<token id>`.
    pub fn actor(&self) -> String {
        match self.key {
            Some(k) => k.to_string(),
            None => format!("admin:{}", self.token_id),
        }
    }
}

/// Why authentication failed (for the audit detail; the caller sees one answer for all).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    /// No bearer token.
    Missing,
    /// Not a token we issued.
    Unknown,
    /// Past its expiry.
    Expired,
    /// Revoked.
    Revoked,
    /// The bound key was retired or does not match the role.
    KeyRetired,
    /// Too many failures from this address.
    RateLimited,
}

impl AuthFailure {
    /// The audit detail.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Missing => "missing",
            Self::Unknown => "unknown",
            Self::Expired => "expired",
            Self::Revoked => "revoked",
            Self::KeyRetired => "key retired",
            Self::RateLimited => "rate limited",
        }
    }
}

/// Failed-attempt counters per source address (in memory: a restart forgives).
pub struct FailureLimiter {
    windows: Mutex<HashMap<IpAddr, (i64, u32)>>,
    max: u32,
}

impl Default for FailureLimiter {
    fn default() -> Self {
        Self::new(MAX_FAILURES)
    }
}

impl FailureLimiter {
    /// A limiter allowing `max` failures per address per window.
    pub fn new(max: u32) -> Self {
        Self {
            windows: Mutex::new(HashMap::new()),
            max: max.max(1),
        }
    }

    fn window(now: i64) -> i64 {
        now - now.rem_euclid(FAILURE_WINDOW_SECS)
    }

    /// True when `ip` has used up its failures in this window.
    pub fn blocked(&self, ip: IpAddr, now: i64) -> bool {
        let w = Self::window(now);
        let map = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        map.get(&ip)
            .is_some_and(|(start, n)| *start == w && *n >= self.max)
    }

    /// Counts a failure; returns true when this one reached the limit.
    pub fn fail(&self, ip: IpAddr, now: i64) -> bool {
        let w = Self::window(now);
        let mut map = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > 100_000 {
            map.retain(|_, (start, _)| *start == w);
        }
        let e = map.entry(ip).or_insert((w, 0));
        if e.0 != w {
            *e = (w, 0);
        }
        e.1 += 1;
        e.1 == self.max
    }
}

/// Checks a bearer token. `Err` carries the failure kind; store errors pass through as `Ok(Err)`
/// is not needed: a database failure is returned as the outer error.
pub async fn authenticate(
    store: &Store,
    limiter: &FailureLimiter,
    ip: IpAddr,
    bearer: Option<&str>,
) -> Result<Result<Caller, AuthFailure>, StoreError> {
    let now = unix_now();
    if limiter.blocked(ip, now) {
        return Ok(Err(AuthFailure::RateLimited));
    }
    let result = check(store, bearer, now).await?;
    if let Err(why) = result {
        let reached = limiter.fail(ip, now);
        store
            .audit(
                crate::store::AuditEntry::new("unauthenticated", "auth.fail").detail(why.as_str()),
            )
            .await?;
        if reached {
            store
                .audit(
                    crate::store::AuditEntry::new("unauthenticated", "auth.rate_limited")
                        .detail(format!("failure limit reached in {FAILURE_WINDOW_SECS} s")),
                )
                .await?;
        }
    }
    Ok(result)
}

async fn check(
    store: &Store,
    bearer: Option<&str>,
    now: i64,
) -> Result<Result<Caller, AuthFailure>, StoreError> {
    let Some(token) = bearer.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(Err(AuthFailure::Missing));
    };
    if !token.starts_with(TOKEN_PREFIX) || token.len() > 128 {
        return Ok(Err(AuthFailure::Unknown));
    }
    let hash = token_hash(token);
    let Some(row) = store.token_by_hash(&hash).await? else {
        return Ok(Err(AuthFailure::Unknown));
    };
    if !bool::from(row.hash.as_slice().ct_eq(&hash[..])) {
        return Ok(Err(AuthFailure::Unknown));
    }
    if row.revoked {
        return Ok(Err(AuthFailure::Revoked));
    }
    if row.expires_at <= now {
        return Ok(Err(AuthFailure::Expired));
    }
    if row.role != TokenRole::Admin {
        let Some(key) = row.key_id else {
            return Ok(Err(AuthFailure::KeyRetired));
        };
        let ok = match store.recipient(&key).await {
            Ok(r) => r.active && r.role.as_str() == row.role.as_str(),
            Err(StoreError::NotFound) => false,
            Err(e) => return Err(e),
        };
        if !ok {
            return Ok(Err(AuthFailure::KeyRetired));
        }
    }
    Ok(Ok(Caller {
        token_id: row.id,
        role: row.role,
        key: row.key_id,
        expires_at: row.expires_at,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validity() {
        assert_eq!(parse_validity("90d"), Some(90 * 86_400));
        assert_eq!(parse_validity("12h"), Some(12 * 3600));
        assert_eq!(parse_validity("0d"), None);
        assert_eq!(parse_validity("5y"), None);
        assert_eq!(parse_validity("d"), None);
    }

    #[test]
    fn limiter_blocks_after_max_failures_in_a_window() {
        let l = FailureLimiter::default();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        for i in 1..=MAX_FAILURES {
            assert!(!l.blocked(ip, 1200));
            assert_eq!(l.fail(ip, 1200), i == MAX_FAILURES);
        }
        assert!(l.blocked(ip, 1200));
        assert!(!l.blocked(other, 1200));
        assert!(!l.blocked(ip, 1200 + FAILURE_WINDOW_SECS));
    }
}
