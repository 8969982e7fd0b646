//! The Inspectorate's side: the review API ([`server`]), its bearer tokens ([`auth`]), the JSON
//! shapes both ends share ([`wire`]) and the reviewer's and custodian's client ([`client`]).
//!
//! Reviewers and custodians pull sealed items and open them on their own machines; the server
//! never holds a private key. Identity disclosure is enforced by cryptography: identities are
//! sealed to custodian keys only, and a reviewer's key can open an identity only after a
//! custodian re-sealed it to that key for an approved request.

pub mod auth;
pub mod client;
pub mod peer;
pub mod server;
pub mod wire;
