//! Getting the bot's words into the chat: bounded retries and Telegram's length limit.
//!
//! The Throttle adaptor paces and retries only the methods that send messages, and only on
//! `429 Too Many Requests`. Everything else (edits, deletions, callback answers) and every
//! transient failure (a dropped connection, a timeout, a 5xx from Telegram or a proxy) would
//! otherwise lose the call — and with it a prompt, a tick on a keyboard or, worst, the receipt.
//! [`deliver`] retries those a few times with backoff and obeys `retry_after`; it never
//! retries a definite refusal (a 4xx such as "message to delete not found").
//!
//! A retried send whose first attempt reached Telegram but whose answer was lost shows the
//! message twice. That is the better failure: a missing prompt leaves the reporter stuck.
//!
//! Errors are counted in [`crate::metrics`] by class only; nothing here logs content.

use std::time::Duration;

use teloxide::requests::{Output, Request};
use teloxide::{ApiError, RequestError};

/// Attempts per call, the first included.
const ATTEMPTS: u32 = 4;
/// The longest `retry_after` obeyed in a turn; a longer flood wait fails the call rather
/// than holding the person's queue for minutes.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(35);

/// Telegram's limit on a message's text, in UTF-16 code units (after entity parsing; the
/// bot sends plain text).
pub const MAX_MESSAGE_UTF16: usize = 4096;

/// Whether a failed call may succeed if repeated, and after how long.
fn retry_delay(e: &RequestError, attempt: u32) -> Option<Duration> {
    // A dropped connection is usually gone at once (a fresh one works): retry quickly first,
    // then back off for a server in trouble.
    let backoff = Duration::from_millis(match attempt {
        0 | 1 => 50,
        2 => 400,
        _ => 2000,
    });
    match e {
        RequestError::RetryAfter(s) => Some(s.duration()).filter(|d| *d <= MAX_RETRY_AFTER),
        RequestError::Network(_) | RequestError::Io(_) | RequestError::InvalidJson { .. } => {
            Some(backoff)
        }
        // teloxide keeps no HTTP status for API errors; Telegram's and proxies' 5xx
        // descriptions are these.
        RequestError::Api(ApiError::Unknown(d))
            if [
                "Internal Server Error",
                "Bad Gateway",
                "Service Unavailable",
                "Gateway Timeout",
            ]
            .iter()
            .any(|s| d.contains(s)) =>
        {
            Some(backoff)
        }
        _ => None,
    }
}

/// Sends `req`, retrying transient failures (see the module docs). The error of the last
/// attempt is returned; every failed attempt is counted by class.
pub async fn deliver<R>(req: R) -> Result<Output<R>, RequestError>
where
    R: Request<Err = RequestError>,
{
    let mut attempt = 0;
    loop {
        match req.send_ref().await {
            Ok(v) => return Ok(v),
            Err(e) => {
                crate::metrics::METRICS.telegram_error(crate::metrics::telegram_error_code(&e));
                attempt += 1;
                match retry_delay(&e, attempt) {
                    Some(wait) if attempt < ATTEMPTS => tokio::time::sleep(wait).await,
                    _ => return Err(e),
                }
            }
        }
    }
}

/// Splits a text that is too long for one message at line breaks (or, for a single very long
/// line, at a character boundary), so that every part fits [`MAX_MESSAGE_UTF16`].
pub fn split_for_telegram(text: &str) -> Vec<String> {
    split_at(text, MAX_MESSAGE_UTF16 - 96)
}

fn utf16_len(s: &str) -> usize {
    s.chars().map(char::len_utf16).sum()
}

fn split_at(text: &str, limit: usize) -> Vec<String> {
    if utf16_len(text) <= limit {
        return vec![text.to_owned()];
    }
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut current_len = 0;
    for line in text.split_inclusive('\n') {
        let line_len = utf16_len(line);
        if current_len + line_len > limit && !current.is_empty() {
            parts.push(std::mem::take(&mut current));
            current_len = 0;
        }
        if line_len > limit {
            for c in line.chars() {
                if current_len + c.len_utf16() > limit {
                    parts.push(std::mem::take(&mut current));
                    current_len = 0;
                }
                current.push(c);
                current_len += c.len_utf16();
            }
        } else {
            current.push_str(line);
            current_len += line_len;
        }
    }
    if !current.is_empty() {
        parts.push(current);
    }
    parts
        .into_iter()
        .map(|p| p.trim_end_matches('\n').to_owned())
        .filter(|p| !p.trim().is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_is_one_part() {
        assert_eq!(split_at("một dòng", 100), vec!["một dòng"]);
    }

    #[test]
    fn long_text_splits_at_lines_and_loses_nothing() {
        let text = (0..50)
            .map(|i| format!("dòng số {i}: cán bộ đòi tiền"))
            .collect::<Vec<_>>()
            .join("\n");
        let parts = split_at(&text, 200);
        assert!(parts.len() > 5);
        assert!(parts.iter().all(|p| utf16_len(p) <= 200));
        assert_eq!(parts.join("\n"), text);
    }

    #[test]
    fn one_huge_line_splits_at_characters() {
        let text = "đ".repeat(1000);
        let parts = split_at(&text, 300);
        assert!(parts.iter().all(|p| utf16_len(p) <= 300));
        assert_eq!(parts.concat(), text);
    }

    #[test]
    fn utf16_units_not_bytes_or_chars() {
        // An emoji outside the BMP is two UTF-16 units.
        let text = "😀".repeat(150);
        let parts = split_at(&text, 200);
        assert!(parts.iter().all(|p| utf16_len(p) <= 200));
        assert_eq!(parts.concat(), text);
    }

    #[test]
    fn only_transient_errors_are_retried() {
        use teloxide::types::Seconds;
        assert!(retry_delay(&RequestError::RetryAfter(Seconds::from_seconds(3)), 1).is_some());
        assert!(retry_delay(&RequestError::RetryAfter(Seconds::from_seconds(600)), 1).is_none());
        assert!(
            retry_delay(
                &RequestError::Api(ApiError::Unknown("Bad Gateway".into())),
                1
            )
            .is_some()
        );
        assert!(retry_delay(&RequestError::Api(ApiError::MessageToDeleteNotFound), 1).is_none());
        assert!(retry_delay(&RequestError::Api(ApiError::BotBlocked), 1).is_none());
    }
}
