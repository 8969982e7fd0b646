//! Configuration: one [`Config`], loaded once in `main` and passed down; no globals.
//!
//! Precedence: built-in defaults < the TOML file (`DATA_DIR/tipline.toml` or `--config`) <
//! environment variables (`TIPLINE_*`, and `TELEGRAM_BOT_TOKEN` / `TELEGRAM_API_URL`). Secrets
//! also come as `*_FILE` variables naming a file (container secrets). Loading never writes
//! anything; a bad value is reported in one sentence that names the setting, never its value
//! when the setting is a secret.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use secrecy::SecretString;
use serde::Deserialize;

/// Telegram's production Bot API.
pub const DEFAULT_TELEGRAM_API_URL: &str = "https://api.telegram.org";

/// Errors while loading configuration: each names the setting at fault.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A setting has an invalid value.
    #[error("invalid setting {setting}: {problem}")]
    Invalid {
        /// The setting (file key or environment variable).
        setting: String,
        /// What is wrong, without echoing secrets.
        problem: String,
    },
    /// The configuration file could not be read or parsed.
    #[error("cannot use the configuration file {path}: {problem}")]
    File {
        /// The file.
        path: String,
        /// What is wrong.
        problem: String,
    },
}

fn invalid(setting: &str, problem: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        setting: setting.to_owned(),
        problem: problem.into(),
    }
}

/// The file's shape. Every field optional: absent means "keep the default".
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    database_url: Option<String>,
    server_secret_file: Option<PathBuf>,
    log: Option<String>,
    #[serde(default)]
    telegram: FileTelegram,
    #[serde(default)]
    review: FileReview,
    #[serde(default)]
    limits: FileLimits,
    #[serde(default)]
    retention: FileRetention,
    #[serde(default)]
    contacts: FileContacts,
    #[serde(default)]
    webhook: FileWebhook,
    #[serde(default)]
    ops: FileOps,
    #[serde(default)]
    trust: FileTrust,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileTrust {
    authority: Option<Vec<String>>,
    threshold: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileWebhook {
    listen: Option<String>,
    secret_file: Option<PathBuf>,
    update_timeout_secs: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileOps {
    listen: Option<String>,
    shutdown_secs: Option<i64>,
    metrics_period_secs: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileTelegram {
    api_url: Option<String>,
    token_file: Option<PathBuf>,
    per_second: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileReview {
    listen: Option<String>,
    approvals_required: Option<i64>,
    trusted_proxies: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileLimits {
    reports_per_day: Option<i64>,
    receipt_attempts_per_hour: Option<i64>,
    updates_per_minute: Option<i64>,
    max_report_chars: Option<usize>,
    max_attachments: Option<usize>,
    max_attachments_mb: Option<u64>,
    keep_original_attachments: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileRetention {
    draft_hours: Option<i64>,
    closed_case_days: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileContacts {
    denunciation: Option<String>,
    complaint: Option<String>,
    feedback: Option<String>,
    emergency: Option<String>,
    controller: Option<String>,
}

/// Rate and size limits for citizens.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Reports one person may submit per day.
    pub reports_per_day: i64,
    /// Receipt entries one person may try per hour in /status.
    pub receipt_attempts_per_hour: i64,
    /// Updates one person may send per minute before the bot asks them to slow down (once)
    /// and ignores the rest of that minute.
    pub updates_per_minute: u32,
    /// Longest "what happened" text, in characters.
    pub max_report_chars: usize,
    /// Most evidence files one report may carry.
    pub max_attachments: usize,
    /// Largest total size of one report's evidence files, in bytes.
    pub max_attachment_bytes: u64,
    /// Whether the untouched original of each file is sealed to custodians beside the
    /// cleaned copy sealed to reviewers (evidence of authenticity; off keeps less).
    pub keep_original_attachments: bool,
}

/// How long things are kept.
#[derive(Debug, Clone)]
pub struct Retention {
    /// Unfinished drafts are purged this many hours after the last step.
    pub draft_hours: i64,
    /// Closed cases are purged this many days after closure.
    pub closed_case_days: i64,
}

/// Official channels the bot points to for requests it does not take.
#[derive(Debug, Clone)]
pub struct Contacts {
    /// Where a formal denunciation (tố cáo) is lodged.
    pub denunciation: String,
    /// Where a complaint (khiếu nại) is lodged.
    pub complaint: String,
    /// Where feedback on procedures (phản ánh, kiến nghị) is sent.
    pub feedback: String,
    /// Whom to call in an emergency (the bot is not for danger now).
    pub emergency: String,
    /// How to reach the data controller (the Inspectorate), named in the notice.
    pub controller: String,
}

/// The loaded configuration.
pub struct Config {
    /// Where the embedded database, the server secret and the config file live.
    pub data_dir: PathBuf,
    /// `sqlite:PATH` or `postgres://…`.
    pub database_url: String,
    /// The server secret file, unless the secret came from the environment.
    pub server_secret_file: PathBuf,
    /// The server secret text when given directly by `TIPLINE_SERVER_SECRET`.
    pub server_secret_inline: Option<SecretString>,
    /// The Bot API base URL.
    pub telegram_api_url: String,
    /// Messages this process sends (or edits) per second at most, over all chats (28 by
    /// default: Telegram allows 30 a bot; replicas of one bot share that, so each gets its
    /// part).
    pub telegram_per_second: usize,
    /// The bot token, if configured.
    pub telegram_token: Option<SecretString>,
    /// Where the review API listens.
    pub review_listen: SocketAddr,
    /// Custodian approvals needed before an identity is disclosed to a reviewer.
    pub approvals_required: i64,
    /// Reverse proxies in front of the review API whose `X-Forwarded-For` is believed.
    pub review_trusted_proxies: Vec<crate::review::peer::Net>,
    /// A `tracing` filter (e.g. `info`), overridden by `RUST_LOG`.
    pub log: String,
    /// Limits for citizens.
    pub limits: Limits,
    /// Retention periods.
    pub retention: Retention,
    /// Redirect contacts.
    pub contacts: Contacts,
    /// Where the webhook listens in webhook mode (behind the TLS-terminating proxy).
    pub webhook_listen: SocketAddr,
    /// The webhook secret token Telegram sends with every update (webhook mode only).
    pub webhook_secret: Option<SecretString>,
    /// Where /healthz, /readyz and /metrics listen.
    pub ops_listen: SocketAddr,
    /// How often the metrics that move with submissions (reports, case gauges) are published,
    /// in seconds (default 3600): more often would date reports.
    pub metrics_period_secs: i64,
    /// How long one webhook update may wait for the person's lock and be handled before the
    /// delivery is answered 503 (Telegram then delivers it again).
    pub webhook_update_timeout: std::time::Duration,
    /// The bound on `serve`'s exit after SIGTERM or SIGINT, draining included.
    pub shutdown_timeout: std::time::Duration,
    /// The keyring authority's public key strings (`tlauth1…`), pinned here and never taken
    /// from the database; empty when not configured.
    pub authority: Vec<String>,
    /// How many of the authority keys must sign a keyring statement.
    pub authority_threshold: usize,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("data_dir", &self.data_dir)
            .field(
                "database",
                &if self.database_url.starts_with("sqlite:") {
                    "sqlite"
                } else {
                    "postgres"
                },
            )
            .field("telegram_api_url", &self.telegram_api_url)
            .field("telegram_per_second", &self.telegram_per_second)
            .field(
                "telegram_token",
                &self.telegram_token.as_ref().map(|_| "[set]"),
            )
            .field("review_listen", &self.review_listen)
            .field("review_trusted_proxies", &self.review_trusted_proxies)
            .field("webhook_listen", &self.webhook_listen)
            .field(
                "webhook_secret",
                &self.webhook_secret.as_ref().map(|_| "[set]"),
            )
            .field("ops_listen", &self.ops_listen)
            .field("webhook_update_timeout", &self.webhook_update_timeout)
            .field("metrics_period_secs", &self.metrics_period_secs)
            .field("shutdown_timeout", &self.shutdown_timeout)
            .finish_non_exhaustive()
    }
}

/// The default data directory.
pub fn default_data_dir() -> PathBuf {
    PathBuf::from("tipline-data")
}

/// The name of the config file inside the data directory.
pub const CONFIG_FILE_NAME: &str = "tipline.toml";
/// The name of the SQLite database file inside the data directory.
pub const DATABASE_FILE_NAME: &str = "tipline.db";
/// The name of the server secret file inside the data directory.
pub const SECRET_FILE_NAME: &str = "server-secret";

/// Where settings come from: injectable for tests.
pub trait Env {
    /// The variable's value, if set.
    fn var(&self, name: &str) -> Option<String>;
}

/// The process environment.
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }
}

impl<const N: usize> Env for [(&str, &str); N] {
    fn var(&self, name: &str) -> Option<String> {
        self.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    }
}

/// Why a file named by a setting could not be read, in words an operator can act on. Names
/// the file and the cause, never its content.
pub fn unreadable(path: &Path, e: &std::io::Error) -> String {
    use std::io::ErrorKind;
    let shown = path.display();
    match e.kind() {
        ErrorKind::NotFound => format!("{shown} does not exist"),
        ErrorKind::PermissionDenied => {
            // /proc/self belongs to the process's user: its uid without unsafe code.
            let who = {
                use std::os::unix::fs::MetadataExt;
                match std::fs::metadata("/proc/self") {
                    Ok(m) => format!("this process (uid {})", m.uid()),
                    Err(_) => "this process".to_owned(),
                }
            };
            format!(
                "{shown} is not readable by {who}. Container secrets keep the owner and mode of \
                 the host file (compose does not apply uid/gid/mode to file secrets): make the \
                 host file owned by the container user, e.g. `chown 65532:65532` for the tipline \
                 image; under systemd pass the file with LoadCredential= (deploy/README.md)"
            )
        }
        _ => format!("cannot read {shown}: {e}"),
    }
}

fn read_secret_file(setting: &str, path: &Path) -> Result<SecretString, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| invalid(setting, unreadable(path, &e)))?;
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(invalid(setting, format!("{} is empty", path.display())));
    }
    Ok(SecretString::from(trimmed.to_owned()))
}

fn parse_num<T: std::str::FromStr>(setting: &str, v: &str) -> Result<T, ConfigError> {
    v.trim()
        .parse()
        .map_err(|_| invalid(setting, format!("expected a whole number, got {v:?}")))
}

fn parse_bool(setting: &str, v: &str) -> Result<bool, ConfigError> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(invalid(
            setting,
            format!("expected true or false, got {v:?}"),
        )),
    }
}

impl Config {
    /// Loads configuration: `data_dir` (or `TIPLINE_DATA_DIR`, or the default), then the file
    /// (`config_file`, or `DATA_DIR/tipline.toml` if it exists), then the environment.
    pub fn load(
        data_dir: Option<&Path>,
        config_file: Option<&Path>,
        env: &dyn Env,
    ) -> Result<Config, ConfigError> {
        let data_dir = data_dir
            .map(Path::to_path_buf)
            .or_else(|| env.var("TIPLINE_DATA_DIR").map(PathBuf::from))
            .unwrap_or_else(default_data_dir);

        let file_path = config_file
            .map(Path::to_path_buf)
            .or_else(|| env.var("TIPLINE_CONFIG").map(PathBuf::from));
        let file = match file_path {
            Some(p) => Self::read_file(&p)?,
            None => {
                let p = data_dir.join(CONFIG_FILE_NAME);
                if p.exists() {
                    Self::read_file(&p)?
                } else {
                    FileConfig::default()
                }
            }
        };

        // A URL with a password is a secret: TIPLINE_DATABASE_URL_FILE names a file holding it.
        let url_from_file = match env.var("TIPLINE_DATABASE_URL_FILE") {
            Some(p) => {
                use secrecy::ExposeSecret;
                Some(
                    read_secret_file("TIPLINE_DATABASE_URL_FILE", Path::new(&p))?
                        .expose_secret()
                        .to_owned(),
                )
            }
            None => None,
        };
        let database_url = env
            .var("TIPLINE_DATABASE_URL")
            .or(url_from_file)
            .or(file.database_url)
            .unwrap_or_else(|| format!("sqlite:{}", data_dir.join(DATABASE_FILE_NAME).display()));
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            return Err(invalid(
                "database_url (TIPLINE_DATABASE_URL)",
                "expected sqlite:PATH or postgres://…",
            ));
        }

        let server_secret_inline = env.var("TIPLINE_SERVER_SECRET").map(SecretString::from);
        let server_secret_file = env
            .var("TIPLINE_SERVER_SECRET_FILE")
            .map(PathBuf::from)
            .or(file.server_secret_file)
            .unwrap_or_else(|| data_dir.join(SECRET_FILE_NAME));

        let telegram_api_url = env
            .var("TELEGRAM_API_URL")
            .or(file.telegram.api_url)
            .unwrap_or_else(|| DEFAULT_TELEGRAM_API_URL.to_owned());
        // The token and every update travel to this URL: plain http only to this machine.
        let loopback = [
            "http://127.",
            "http://localhost:",
            "http://localhost/",
            "http://[::1]",
        ]
        .iter()
        .any(|p| telegram_api_url.starts_with(p));
        if !(telegram_api_url.starts_with("https://") || loopback) {
            return Err(invalid(
                "telegram.api_url (TELEGRAM_API_URL)",
                "expected an https:// URL (plain http is allowed only to 127.0.0.1 or localhost)",
            ));
        }
        let telegram_token = match (
            env.var("TELEGRAM_BOT_TOKEN"),
            env.var("TELEGRAM_BOT_TOKEN_FILE"),
            file.telegram.token_file,
        ) {
            (Some(t), _, _) => Some(SecretString::from(t)),
            (None, Some(p), _) => Some(read_secret_file("TELEGRAM_BOT_TOKEN_FILE", Path::new(&p))?),
            (None, None, Some(p)) => Some(read_secret_file("telegram.token_file", &p)?),
            (None, None, None) => None,
        };

        let listen = env
            .var("TIPLINE_REVIEW_LISTEN")
            .or(file.review.listen)
            .unwrap_or_else(|| "127.0.0.1:8470".to_owned());
        let review_listen = listen.parse().map_err(|_| {
            invalid(
                "review.listen (TIPLINE_REVIEW_LISTEN)",
                format!("expected an address like 127.0.0.1:8470, got {listen:?}"),
            )
        })?;

        let addr = |var: &str, setting: &str, file_value: Option<String>, default: &str| {
            let v = env
                .var(var)
                .or(file_value)
                .unwrap_or_else(|| default.to_owned());
            v.parse::<SocketAddr>().map_err(|_| {
                invalid(
                    &format!("{setting} ({var})"),
                    format!("expected an address like {default}, got {v:?}"),
                )
            })
        };
        let webhook_listen = addr(
            "TIPLINE_WEBHOOK_LISTEN",
            "webhook.listen",
            file.webhook.listen,
            "127.0.0.1:8472",
        )?;
        let ops_listen = addr(
            "TIPLINE_OPS_LISTEN",
            "ops.listen",
            file.ops.listen,
            "127.0.0.1:8471",
        )?;
        let webhook_secret = match (
            env.var("TIPLINE_WEBHOOK_SECRET"),
            env.var("TIPLINE_WEBHOOK_SECRET_FILE"),
            file.webhook.secret_file,
        ) {
            (Some(t), _, _) => Some(SecretString::from(t)),
            (None, Some(p), _) => Some(read_secret_file(
                "TIPLINE_WEBHOOK_SECRET_FILE",
                Path::new(&p),
            )?),
            (None, None, Some(p)) => Some(read_secret_file("webhook.secret_file", &p)?),
            (None, None, None) => None,
        };
        if let Some(s) = &webhook_secret {
            use secrecy::ExposeSecret;
            let s = s.expose_secret();
            // Telegram's rule for secret_token; too short a secret would be guessable.
            if s.len() < 32
                || s.len() > 256
                || !s
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            {
                return Err(invalid(
                    "webhook secret (TIPLINE_WEBHOOK_SECRET)",
                    "expected 32 to 256 characters from A-Z, a-z, 0-9, _ and -",
                ));
            }
        }

        let num = |file_value: Option<i64>, var: &str, default: i64| -> Result<i64, ConfigError> {
            let v = match env.var(var) {
                Some(v) => parse_num(var, &v)?,
                None => file_value.unwrap_or(default),
            };
            if v <= 0 {
                return Err(invalid(var, "must be greater than zero"));
            }
            Ok(v)
        };
        let proxies: Vec<String> = match env.var("TIPLINE_REVIEW_TRUSTED_PROXIES") {
            Some(v) => v
                .split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_owned)
                .collect(),
            None => file.review.trusted_proxies.unwrap_or_default(),
        };
        let review_trusted_proxies = proxies
            .iter()
            .map(|p| p.parse())
            .collect::<Result<Vec<_>, String>>()
            .map_err(|e| invalid("review.trusted_proxies (TIPLINE_REVIEW_TRUSTED_PROXIES)", e))?;
        let approvals_required = num(
            file.review.approvals_required,
            "TIPLINE_DISCLOSURE_APPROVALS",
            1,
        )?;
        let authority: Vec<String> = match env.var("TIPLINE_AUTHORITY") {
            Some(v) => v
                .split([',', ' ', '\n'])
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            None => file.trust.authority.unwrap_or_default(),
        };
        let authority_threshold =
            usize::try_from(num(file.trust.threshold, "TIPLINE_AUTHORITY_THRESHOLD", 1)?)
                .unwrap_or(0);
        if !authority.is_empty() {
            crate::trust::Authorities::parse(&authority.join(","), Some(authority_threshold))
                .map_err(|e| invalid("trust.authority (TIPLINE_AUTHORITY)", e.to_string()))?;
        }
        let limits = Limits {
            reports_per_day: num(file.limits.reports_per_day, "TIPLINE_REPORTS_PER_DAY", 3)?,
            receipt_attempts_per_hour: num(
                file.limits.receipt_attempts_per_hour,
                "TIPLINE_RECEIPT_ATTEMPTS_PER_HOUR",
                10,
            )?,
            updates_per_minute: u32::try_from(num(
                file.limits.updates_per_minute,
                "TIPLINE_UPDATES_PER_MINUTE",
                40,
            )?)
            .unwrap_or(u32::MAX),
            max_report_chars: usize::try_from(num(
                file.limits
                    .max_report_chars
                    .and_then(|v| i64::try_from(v).ok()),
                "TIPLINE_MAX_REPORT_CHARS",
                6000,
            )?)
            .unwrap_or(6000),
            max_attachments: usize::try_from(num(
                file.limits
                    .max_attachments
                    .and_then(|v| i64::try_from(v).ok()),
                "TIPLINE_MAX_ATTACHMENTS",
                5,
            )?)
            .unwrap_or(5),
            max_attachment_bytes: u64::try_from(num(
                file.limits
                    .max_attachments_mb
                    .and_then(|v| i64::try_from(v).ok()),
                "TIPLINE_MAX_ATTACHMENTS_MB",
                50,
            )?)
            .unwrap_or(50)
                * 1_000_000,
            keep_original_attachments: match env.var("TIPLINE_KEEP_ORIGINAL_ATTACHMENTS") {
                Some(v) => parse_bool("TIPLINE_KEEP_ORIGINAL_ATTACHMENTS", &v)?,
                None => file.limits.keep_original_attachments.unwrap_or(true),
            },
        };
        let retention = Retention {
            draft_hours: num(file.retention.draft_hours, "TIPLINE_DRAFT_HOURS", 24)?,
            closed_case_days: num(
                file.retention.closed_case_days,
                "TIPLINE_CLOSED_CASE_DAYS",
                180,
            )?,
        };
        let contacts = Contacts {
            denunciation: file.contacts.denunciation.unwrap_or_else(|| {
                "Thanh tra tỉnh Khánh Hòa — nộp đơn tố cáo trực tiếp hoặc qua bưu điện tại trụ sở Thanh tra tỉnh (Luật Tố cáo 2018, Điều 23).".to_owned()
            }),
            complaint: file.contacts.complaint.unwrap_or_else(|| {
                "Cơ quan đã ra quyết định hoặc có hành vi bị khiếu nại (Luật Khiếu nại 2011); Ban Tiếp công dân tỉnh Khánh Hòa hướng dẫn thủ tục.".to_owned()
            }),
            feedback: file.contacts.feedback.unwrap_or_else(|| {
                "Cổng Dịch vụ công quốc gia (dichvucong.gov.vn), mục Phản ánh kiến nghị.".to_owned()
            }),
            emergency: file.contacts.emergency.unwrap_or_else(|| {
                "113 (Công an), 114 (cứu hỏa), 115 (cấp cứu)".to_owned()
            }),
            controller: file.contacts.controller.unwrap_or_else(|| {
                "trụ sở Thanh tra tỉnh Khánh Hòa, hoặc gõ /status và mã tra cứu để gửi yêu cầu".to_owned()
            }),
        };
        let secs = |v: i64| std::time::Duration::from_secs(u64::try_from(v).unwrap_or(1));
        let webhook_update_timeout = secs(num(
            file.webhook.update_timeout_secs,
            "TIPLINE_WEBHOOK_UPDATE_SECS",
            30,
        )?);
        let shutdown_timeout = secs(num(file.ops.shutdown_secs, "TIPLINE_SHUTDOWN_SECS", 25)?);
        let metrics_period_secs =
            num(file.ops.metrics_period_secs, "TIPLINE_METRICS_PERIOD", 3600)?;
        let telegram_per_second = num(file.telegram.per_second, "TIPLINE_TELEGRAM_PER_SECOND", 28)?;
        if !(1..=30).contains(&telegram_per_second) {
            return Err(invalid(
                "TIPLINE_TELEGRAM_PER_SECOND",
                "must be between 1 and 30 (Telegram allows 30 a bot)",
            ));
        }
        let log = env
            .var("TIPLINE_LOG")
            .or(file.log)
            .unwrap_or_else(|| "info".to_owned());

        Ok(Config {
            data_dir,
            database_url,
            server_secret_file,
            server_secret_inline,
            telegram_api_url,
            telegram_per_second: usize::try_from(telegram_per_second).unwrap_or(28),
            telegram_token,
            review_listen,
            review_trusted_proxies,
            approvals_required,
            log,
            limits,
            retention,
            contacts,
            webhook_listen,
            webhook_secret,
            ops_listen,
            webhook_update_timeout,
            shutdown_timeout,
            metrics_period_secs,
            authority,
            authority_threshold,
        })
    }

    /// The pinned keyring authorities ([`crate::trust::TrustError::NoAuthority`] when none is
    /// configured).
    pub fn authorities(&self) -> Result<crate::trust::Authorities, crate::trust::TrustError> {
        if self.authority.is_empty() {
            return Err(crate::trust::TrustError::NoAuthority);
        }
        crate::trust::Authorities::parse(&self.authority.join(","), Some(self.authority_threshold))
    }

    /// Where `serve` remembers the newest keyring chain it verified (outside the database).
    pub fn keyring_head_file(&self) -> PathBuf {
        self.data_dir.join("keyring-head")
    }

    /// Where `admin audit verify` records the newest audit entry it verified.
    pub fn audit_head_file(&self) -> PathBuf {
        self.data_dir.join("audit-head")
    }

    fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::File {
            path: path.display().to_string(),
            problem: e.to_string(),
        })?;
        toml::from_str(&text).map_err(|e| ConfigError::File {
            path: path.display().to_string(),
            problem: e.message().to_owned()
                + &e.span()
                    .map(|s| format!(" (at byte {})", s.start))
                    .unwrap_or_default(),
        })
    }

    /// Loads the server secret from `TIPLINE_SERVER_SECRET` or the secret file.
    pub fn server_secret(
        &self,
    ) -> Result<crate::crypto::ServerSecret, crate::crypto::secret::SecretError> {
        use secrecy::ExposeSecret;
        match &self.server_secret_inline {
            Some(s) => crate::crypto::ServerSecret::parse(s.expose_secret()),
            None => crate::crypto::ServerSecret::load(&self.server_secret_file),
        }
    }
}

/// The commented configuration file `tipline init` writes.
pub fn sample_file() -> &'static str {
    r#"# tipline configuration. Every setting is optional; environment variables override it
# (TIPLINE_DATABASE_URL, TIPLINE_REVIEW_LISTEN, TELEGRAM_API_URL, ...). Secrets never go in
# this file: give the bot token as TELEGRAM_BOT_TOKEN or TELEGRAM_BOT_TOKEN_FILE.

# The database. Default: the embedded SQLite file in the data directory.
# database_url = "postgres://tipline@db.internal/tipline"

# Log filter (tracing syntax). Logs never contain report content or reporter identifiers.
# log = "info"

[telegram]
# api_url = "https://api.telegram.org"
# token_file = "/run/secrets/telegram-bot-token"

[review]
# The review API's address. Keep it on the Inspectorate's network.
# listen = "127.0.0.1:8470"
# Custodian approvals needed before a reporter's identity is re-sealed to a reviewer.
# approvals_required = 1
# The reverse proxies in front of the API (addresses or networks). Their X-Forwarded-For
# header then names the client, so that failed logins are counted per reviewer's machine and
# not per proxy; without this the header is ignored.
# trusted_proxies = ["127.0.0.1", "::1"]

[trust]
# The keyring authority's public key (`tipline authority new` prints it), or several with a
# threshold. The bot seals only to keys that statements signed by it prove; the database
# cannot change this. Also TIPLINE_AUTHORITY (comma-separated) and TIPLINE_AUTHORITY_THRESHOLD.
# authority = ["tlauth1..."]
# threshold = 1

[webhook]
# Webhook mode (`tipline serve --webhook-url https://bot.example.org/telegram`): where the
# webhook listens behind the TLS-terminating reverse proxy, and the secret token file
# (or TIPLINE_WEBHOOK_SECRET / TIPLINE_WEBHOOK_SECRET_FILE; 32-256 of A-Z a-z 0-9 _ -).
# listen = "127.0.0.1:8472"
# secret_file = "/run/secrets/tipline-webhook-secret"
# How long one update may wait for the person's lock and be handled before the delivery is
# answered 503 (Telegram delivers it again later).
# update_timeout_secs = 30

[ops]
# /healthz, /readyz and /metrics (Prometheus). Keep it off the public network.
# listen = "127.0.0.1:8471"
# After SIGTERM, `serve` exits within this many seconds (in-flight updates get most of it);
# keep it below the stop timeout of systemd (TimeoutStopSec) or compose (stop_grace_period).
# shutdown_secs = 25
# The reports counter and the case gauges move once per this many seconds, so that a scrape
# cannot date a report. Shorter periods date reports more precisely.
# metrics_period_secs = 3600

[limits]
# reports_per_day = 3
# receipt_attempts_per_hour = 10
# Updates one person may send per minute before the bot asks them to slow down.
# updates_per_minute = 40
# max_report_chars = 6000

[retention]
# Unfinished drafts are deleted this many hours after the last step.
# draft_hours = 24
# Closed cases, their items and receipts are deleted this many days after closure.
# closed_case_days = 180

[contacts]
# Where the bot sends people who want to lodge a formal denunciation, a complaint or feedback.
# denunciation = "..."
# complaint = "..."
# feedback = "..."
# Whom to call in an emergency (default "113 (Công an), 114 (cứu hỏa), 115 (cấp cứu)").
# emergency = "..."
# How to reach the Inspectorate as data controller, named in the consent notice.
# controller = "..."
"#
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence_defaults_file_env() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(CONFIG_FILE_NAME),
            "[review]\nlisten = \"127.0.0.1:9000\"\n[limits]\nreports_per_day = 5\n",
        )
        .unwrap();
        let c = Config::load(Some(dir.path()), None, &[("TIPLINE_REPORTS_PER_DAY", "7")]).unwrap();
        assert_eq!(c.review_listen.port(), 9000);
        assert_eq!(c.limits.reports_per_day, 7);
        assert_eq!(c.retention.draft_hours, 24);
        assert!(c.database_url.starts_with("sqlite:"));
    }

    #[test]
    fn errors_name_the_setting() {
        let e = Config::load(None, None, &[("TIPLINE_REVIEW_LISTEN", "nope")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("review.listen"), "{e}");
        let e = Config::load(None, None, &[("TIPLINE_REPORTS_PER_DAY", "x")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("TIPLINE_REPORTS_PER_DAY"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(CONFIG_FILE_NAME),
            "[limits]\nreports_per_dya = 5\n",
        )
        .unwrap();
        let e = Config::load(Some(dir.path()), None, &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains("reports_per_dya"), "{e}");
    }

    #[test]
    fn token_from_file_and_debug_hides_it() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("tok");
        std::fs::write(&p, "123:SECRET-TOKEN\n").unwrap();
        let ps = p.to_str().unwrap().to_owned();
        let c = Config::load(
            Some(dir.path()),
            None,
            &[("TELEGRAM_BOT_TOKEN_FILE", ps.as_str())],
        )
        .unwrap();
        assert!(c.telegram_token.is_some());
        assert!(!format!("{c:?}").contains("SECRET"));
    }

    #[test]
    fn webhook_and_ops_settings() {
        let c = Config::load(None, None, &[]).unwrap();
        assert_eq!(c.ops_listen.port(), 8471);
        assert_eq!(c.webhook_listen.port(), 8472);
        assert!(c.webhook_secret.is_none());
        let good = "a".repeat(40);
        let c = Config::load(
            None,
            None,
            &[
                ("TIPLINE_WEBHOOK_SECRET", good.as_str()),
                ("TIPLINE_OPS_LISTEN", "127.0.0.1:9999"),
            ],
        )
        .unwrap();
        assert!(c.webhook_secret.is_some());
        assert_eq!(c.ops_listen.port(), 9999);
        assert!(!format!("{c:?}").contains(&good));
        for bad in ["short", "has space in it and is long enough to pass len"] {
            let e = Config::load(None, None, &[("TIPLINE_WEBHOOK_SECRET", bad)])
                .err()
                .unwrap()
                .to_string();
            assert!(e.contains("webhook secret") && !e.contains(bad), "{e}");
        }
    }

    #[test]
    fn unreadable_secret_file_names_the_setting_not_the_content() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("database_url");
        let ms = missing.to_str().unwrap().to_owned();
        let e = Config::load(
            Some(dir.path()),
            None,
            &[("TIPLINE_DATABASE_URL_FILE", ms.as_str())],
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("TIPLINE_DATABASE_URL_FILE"), "{e}");
        assert!(e.contains("does not exist"), "{e}");
        // Root reads any file, so the permission case is checked on the message builder.
        let denied = std::io::Error::from(std::io::ErrorKind::PermissionDenied);
        let m = unreadable(&missing, &denied);
        assert!(m.contains("not readable by this process (uid "), "{m}");
        assert!(
            m.contains("chown 65532:65532") && m.contains("LoadCredential"),
            "{m}"
        );
        // Once readable, the URL is used, and the configuration's Debug still hides it.
        std::fs::write(&missing, "postgres://tipline:hunter2-secret@db/tipline\n").unwrap();
        let c = Config::load(
            Some(dir.path()),
            None,
            &[("TIPLINE_DATABASE_URL_FILE", ms.as_str())],
        )
        .unwrap();
        assert!(c.database_url.contains("hunter2-secret"));
        assert!(!format!("{c:?}").contains("hunter2"));
    }

    #[test]
    fn timeouts() {
        let c = Config::load(None, None, &[]).unwrap();
        assert_eq!(c.shutdown_timeout.as_secs(), 25);
        assert_eq!(c.webhook_update_timeout.as_secs(), 30);
        let c = Config::load(
            None,
            None,
            &[
                ("TIPLINE_SHUTDOWN_SECS", "4"),
                ("TIPLINE_WEBHOOK_UPDATE_SECS", "2"),
            ],
        )
        .unwrap();
        assert_eq!(c.shutdown_timeout.as_secs(), 4);
        assert_eq!(c.webhook_update_timeout.as_secs(), 2);
        let e = Config::load(None, None, &[("TIPLINE_SHUTDOWN_SECS", "0")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("TIPLINE_SHUTDOWN_SECS"), "{e}");
    }

    #[test]
    fn sample_file_parses() {
        let _: FileConfig = toml::from_str(sample_file()).unwrap();
    }
}
