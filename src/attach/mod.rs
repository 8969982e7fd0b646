//! Evidence attachments: identifying metadata removed in memory before sealing ([`clean`]).

pub mod clean;
