//! `tipline review …`, `tipline custodian …` (clients of the review API, run on the key
//! holder's machine) and the administrator's `tipline admin tokens …`, `rotate-server-secret`
//! and `purge` (run where the database is).
//!
//! The client keeps the server address, the bearer token and the key file's path in a 0600
//! file made with O_EXCL (`--force` replaces it explicitly). The key file's passphrase is asked
//! once per run.

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::PassphraseArgs;
use super::term::say;
use crate::config::Config;
use crate::crypto::keyfile;
use crate::crypto::{KeyId, RecipientRole, SecretKey, ServerSecret};
use crate::review::client::{self, Client, OpenedCase};
use crate::review::wire::{CaseView, DisclosureView};
use crate::store::{CaseStatus, DisclosureStatus, Outcome, Store, TokenRole};

/// Options every client command takes.
#[derive(Debug, Args)]
pub struct ClientArgs {
    /// The client configuration file (server, token, key file).
    #[arg(long, global = true, env = "TIPLINE_REVIEW_CONFIG")]
    pub client_config: Option<PathBuf>,
    /// Print JSON for scripts instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// Read the key file's passphrase from this file (first line) instead of asking.
    #[arg(long, global = true)]
    pub passphrase_file: Option<PathBuf>,
}

/// `login` options (reviewers and custodians alike).
#[derive(Debug, Args)]
pub struct LoginArgs {
    /// The review API, e.g. http://127.0.0.1:8470.
    #[arg(long)]
    server: String,
    /// Your private key file.
    #[arg(long)]
    key: PathBuf,
    /// Read the token from this file (otherwise TIPLINE_REVIEW_TOKEN, then the terminal).
    #[arg(long)]
    token_file: Option<PathBuf>,
    /// Trust only this certificate authority (PEM) for the server's certificate: the
    /// Inspectorate's internal CA. Its certificates are kept in the client configuration.
    #[arg(long)]
    ca_file: Option<PathBuf>,
    /// The keyring authority's `tlauth1…` string, as the Inspectorate's leadership gave it
    /// (repeat for several). Kept in the client configuration: nothing is ever sealed to
    /// a key it did not sign.
    #[arg(long, required = true)]
    authority: Vec<String>,
    /// How many of the authorities must sign a keyring statement.
    #[arg(long, default_value_t = 1)]
    authority_threshold: usize,
    /// Replace an existing client configuration.
    #[arg(long)]
    force: bool,
}

/// `tipline review …`
#[derive(Debug, Subcommand)]
pub enum ReviewCommand {
    /// Store the server address, your token, your key file and the keyring authority in the
    /// client configuration.
    Login(LoginArgs),
    /// List cases.
    Queue {
        /// Only this status (new, in_review, awaiting_reporter, closed).
        #[arg(long, value_parser = parse_status)]
        status: Option<CaseStatus>,
        /// Only cases with an unread message from the reporter.
        #[arg(long)]
        unread: bool,
        /// Only cases you hold.
        #[arg(long)]
        mine: bool,
        /// Page number (counted from the start; `--after` is faster far in).
        #[arg(long, default_value_t = 1)]
        page: usize,
        /// Cases per page.
        #[arg(long, default_value_t = 50)]
        per_page: usize,
        /// The page after this one: what the previous page printed as `--after …`.
        #[arg(long)]
        after: Option<String>,
    },
    /// Claim the next free case, or renew your claim on CASE.
    Claim {
        /// A case code.
        case: Option<String>,
    },
    /// Decrypt and show a case.
    Show {
        /// The case code.
        case: String,
    },
    /// Decrypt a case's attachments into a directory (never overwriting).
    Attachments {
        /// The case code.
        case: String,
        /// The directory.
        #[arg(long)]
        out: PathBuf,
    },
    /// Reply to the reporter (text from --message, standard input, or $EDITOR).
    Reply {
        /// The case code.
        case: String,
        /// The text.
        #[arg(long)]
        message: Option<String>,
    },
    /// Add an internal note, readable by reviewers only.
    Note {
        /// The case code.
        case: String,
        /// The text.
        #[arg(long)]
        message: Option<String>,
    },
    /// Change a case's status.
    Status {
        /// The case code.
        case: String,
        /// new, in_review, awaiting_reporter or closed.
        #[arg(value_parser = parse_status)]
        status: CaseStatus,
        /// When closing: substantiated, unsubstantiated, referred or not_actionable.
        #[arg(long, value_parser = parse_outcome)]
        outcome: Option<Outcome>,
    },
    /// Give up your claim on a case.
    Release {
        /// The case code.
        case: String,
    },
    /// Ask the custodians to disclose the reporter's identity to you.
    RequestIdentity {
        /// The case code.
        case: String,
        /// Why (shown to the custodians).
        #[arg(long)]
        reason: String,
    },
    /// Your disclosure requests and the custodians' decisions.
    Requests,
    /// Re-wrap every item you can open to the current reviewer keys (after a key change).
    Rewrap,
}

/// `tipline custodian …`
#[derive(Debug, Subcommand)]
pub enum CustodianCommand {
    /// Store the server address, your token, your key file and the keyring authority in the
    /// client configuration (as `tipline review login`; the administrator issues the token
    /// with `tipline admin tokens issue --role custodian`).
    Login(LoginArgs),
    /// Disclosure requests (pending ones unless --all).
    Requests {
        /// All requests, decided ones too.
        #[arg(long)]
        all: bool,
    },
    /// Approve a request; when approvals are complete, re-seal the identity to the requester.
    /// Shows the requester as the signed keyring names them and asks for confirmation first.
    Approve {
        /// The request id.
        id: i64,
        /// Why.
        #[arg(long)]
        reason: String,
        /// Approve without asking (scripts).
        #[arg(long)]
        yes: bool,
    },
    /// Deny a request.
    Deny {
        /// The request id.
        id: i64,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// Save a case's original attachments (as the reporter sent them, metadata included:
    /// evidence of authenticity) into a directory, under neutral names.
    Attachments {
        /// The case code.
        case: String,
        /// The directory.
        #[arg(long)]
        out: PathBuf,
    },
    /// Re-seal the identity of an approved request whose re-sealing did not finish (the
    /// approval was recorded but the upload failed, or another custodian's vote completed it);
    /// for an identity split among custodians, give your share of a request you approved.
    Fulfil {
        /// The request id.
        id: i64,
    },
    /// Re-wrap identities and original attachments to the current custodian keys: split them
    /// among the custodians with the signed threshold k, or give your re-share part (k
    /// custodians of the previous set each run this once; nobody learns the content key).
    Rewrap,
}

/// `tipline admin tokens …`
#[derive(Debug, Subcommand)]
pub enum TokensCommand {
    /// Issue a token (printed once; only its hash is stored).
    Issue {
        /// reviewer, custodian or admin.
        #[arg(long, value_enum)]
        role: TokenRole,
        /// The recipient key id the holder decrypts with (reviewers and custodians).
        #[arg(long)]
        recipient: Option<String>,
        /// Validity, e.g. 90d, 12h.
        #[arg(long, default_value = "90d")]
        expires: String,
    },
    /// List tokens (never the tokens themselves).
    List,
    /// Revoke a token.
    Revoke {
        /// The token id from `list`.
        id: String,
    },
}

fn parse_status(s: &str) -> Result<CaseStatus, String> {
    CaseStatus::parse(s)
        .ok_or_else(|| "expected new, in_review, awaiting_reporter or closed".into())
}

fn parse_outcome(s: &str) -> Result<Outcome, String> {
    Outcome::parse(s)
        .ok_or_else(|| "expected substantiated, unsubstantiated, referred or not_actionable".into())
}

#[derive(Serialize, Deserialize)]
struct ClientFile {
    server: String,
    token: String,
    key_file: PathBuf,
    /// The pinned CA's PEM (`login --ca-file`), kept here so that moving the file does not
    /// silently fall back to the public authorities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ca_pem: Option<String>,
    /// The pinned keyring authority (`login --authority`).
    #[serde(default)]
    authority: Vec<String>,
    /// How many of them must sign a statement.
    #[serde(default = "one")]
    authority_threshold: usize,
}

fn one() -> usize {
    1
}

/// The pin for a client configuration at `path`: its authorities, and the newest keyring head
/// seen, kept beside it (`….keyring-head`, 0600) so that a server cannot later show an older
/// or different chain.
fn client_pin(
    path: &Path,
    authority: &[String],
    threshold: usize,
) -> anyhow::Result<Option<std::sync::Arc<crate::trust::Trust>>> {
    if authority.is_empty() {
        return Ok(None);
    }
    let authorities = crate::trust::Authorities::parse(&authority.join(","), Some(threshold))?;
    Ok(Some(std::sync::Arc::new(crate::trust::Trust::new(
        authorities,
        Some(&path.with_extension("keyring-head")),
    ))))
}

fn client_config_path(args: &ClientArgs) -> anyhow::Result<PathBuf> {
    if let Some(p) = &args.client_config {
        return Ok(p.clone());
    }
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
        .context("no HOME: give --client-config")?;
    Ok(base.join("tipline").join("review.json"))
}

struct Session {
    client: Client,
    key_file: PathBuf,
    args_json: bool,
}

/// [`session`], after checking that the server's audit log extends the one this client saw
/// last ([`client::check_audit`]): every command refuses to act on a log that was cut short
/// or rewritten. The newest entry verified is recorded beside the configuration
/// (`….audit-head`, 0600).
async fn checked_session(args: &ClientArgs) -> anyhow::Result<Session> {
    let s = session(args)?;
    let head_file = client_config_path(args)?.with_extension("audit-head");
    let seen = crate::trust::audit::AuditHead::read(&head_file);
    let head = client::check_audit(&s.client, seen).await.map_err(|e| {
        anyhow::anyhow!(
            "{e}. The audit log the server shows does not extend the one this client saw: \
             nothing was done. Tell the Inspectorate's leadership and the administrator \
             (`tipline admin audit verify`)"
        )
    })?;
    if seen.is_none_or(|h| head.count > h.count) {
        head.write(&head_file);
    }
    Ok(s)
}

fn session(args: &ClientArgs) -> anyhow::Result<Session> {
    let path = client_config_path(args)?;
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "reading the client configuration {} (run `tipline review login` first)",
            path.display()
        )
    })?;
    let file: ClientFile = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a tipline client configuration", path.display()))?;
    let mut client = Client::with_ca(
        &file.server,
        SecretString::from(file.token),
        file.ca_pem.as_deref().map(str::as_bytes),
    )?;
    if let Some(pin) = client_pin(&path, &file.authority, file.authority_threshold)? {
        client = client.with_pin(pin);
    }
    Ok(Session {
        client,
        key_file: file.key_file,
        args_json: args.json,
    })
}

/// `review attachments` (the cleaned copies) and `custodian attachments` (the originals).
async fn attachments(
    s: &Session,
    args: &ClientArgs,
    role: RecipientRole,
    case: &str,
    out: &Path,
) -> anyhow::Result<()> {
    let sk = load_key(s, args, role)?;
    let written = client::save_attachments(&s.client, &sk, role, case, out).await?;
    if s.args_json {
        return print_json(&written);
    }
    let originals = role == RecipientRole::Custodian;
    if written.is_empty() {
        if originals {
            say!("Case {case} has no original attachments sealed to your key.");
        } else {
            say!("Case {case} has no attachments.");
        }
    }
    for p in written {
        say!(
            "Wrote {}{}",
            p.display(),
            if originals {
                " (the original: its metadata was not removed)"
            } else {
                ""
            }
        );
    }
    Ok(())
}

/// The signing key of a key file, or a refusal saying how to get one (`what` is signed).
fn signing_key<'a>(
    key_file: &Path,
    kf: &'a keyfile::KeyFile,
    what: &str,
) -> anyhow::Result<&'a crate::crypto::sign::SigningKey> {
    kf.signing.as_ref().with_context(|| {
        format!(
            "{} has no signing key, and {what} are signed: make a version 2 copy with \
             `tipline keys upgrade`, have the keyring authority sign its string, then log in with it",
            key_file.display()
        )
    })
}

fn load_key(s: &Session, args: &ClientArgs, role: RecipientRole) -> anyhow::Result<SecretKey> {
    Ok(load_key_file(s, args, role)?.secret)
}

fn load_key_file(
    s: &Session,
    args: &ClientArgs,
    role: RecipientRole,
) -> anyhow::Result<keyfile::KeyFile> {
    let pass = super::passphrase(
        &PassphraseArgs {
            passphrase_file: args.passphrase_file.clone(),
        },
        false,
    )?;
    let kf = keyfile::load(&s.key_file, &pass)?;
    if kf.role != role {
        bail!(
            "{} is a {} key; this command needs a {role} key",
            s.key_file.display(),
            kf.role
        );
    }
    Ok(kf)
}

fn print_json<T: Serialize>(v: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

fn read_text(message: Option<String>) -> anyhow::Result<String> {
    let text = if let Some(m) = message {
        m
    } else if !std::io::stdin().is_terminal() {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("reading standard input")?;
        s
    } else {
        let editor = std::env::var("VISUAL")
            .or_else(|_| std::env::var("EDITOR"))
            .unwrap_or_else(|_| "vi".into());
        let dir = std::env::temp_dir().join(format!(
            "tipline-{}",
            hex::encode(crate::crypto::random_array::<6>())
        ));
        std::fs::DirBuilder::new()
            .mode_0700()
            .create(&dir)
            .context("creating a private temporary directory")?;
        let file = dir.join("message.txt");
        keyfile::write_new_private_file(&file, b"")?;
        let status = std::process::Command::new(&editor).arg(&file).status();
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        let _ = std::fs::remove_file(&file);
        let _ = std::fs::remove_dir(&dir);
        status.with_context(|| format!("running the editor {editor}"))?;
        text
    };
    let text = text.trim().to_owned();
    if text.is_empty() {
        bail!("the message is empty; nothing was sent");
    }
    Ok(text)
}

trait DirBuilderMode {
    fn mode_0700(&mut self) -> &mut Self;
}

impl DirBuilderMode for std::fs::DirBuilder {
    fn mode_0700(&mut self) -> &mut Self {
        use std::os::unix::fs::DirBuilderExt;
        self.mode(0o700)
    }
}

fn flags(c: &CaseView) -> String {
    let mut f = Vec::new();
    if c.flags.unread_from_reporter {
        f.push("unread");
    }
    if c.flags.attachments {
        f.push("attachments");
    }
    if c.flags.identity_present {
        f.push("identity sealed");
    }
    if c.flags.identity_disclosed_to_you {
        f.push("identity disclosed to you");
    }
    f.join(", ")
}

fn print_case_line(c: &CaseView) {
    say!(
        "{:<11} {:<10} {:<17} {:<14} {:<16} {}",
        c.code,
        c.created,
        c.status.as_str(),
        c.category,
        c.claimed_by
            .map(|k| k.to_string())
            .unwrap_or_else(|| "-".into()),
        flags(c)
    );
}

fn print_opened(o: &OpenedCase) {
    let c = &o.case;
    say!("Case {} — {} — {}", c.code, c.status.as_str(), c.category);
    say!(
        "Submitted {}, last change {}{}",
        c.created,
        c.updated,
        c.outcome
            .map(|x| format!(", outcome {}", x.as_str()))
            .unwrap_or_default()
    );
    if !flags(c).is_empty() {
        say!("Flags: {}", flags(c));
    }
    if let Some(s) = &o.summary {
        say!("\n{}", s.render(s.language));
    }
    if !o.attachments.is_empty() {
        say!("\nAttachments:");
        for a in &o.attachments {
            say!(
                "  {} ({}, {} bytes){}{}",
                a.name,
                a.format,
                a.size,
                if a.metadata_removed {
                    ""
                } else {
                    " — metadata NOT removed"
                },
                if a.note.is_empty() {
                    String::new()
                } else {
                    format!(" — {}", a.note)
                }
            );
        }
    }
    if !o.thread.is_empty() {
        say!("\nMessages:");
        for m in &o.thread {
            let who = match m.kind.as_str() {
                "to_reporter" => format!("to reporter (by {})", m.author.as_deref().unwrap_or("?")),
                "from_reporter" => "from reporter".to_owned(),
                _ => format!("note (by {})", m.author.as_deref().unwrap_or("?")),
            };
            say!(
                "  [{}] {who}:\n    {}",
                m.created,
                m.text.replace('\n', "\n    ")
            );
        }
    }
    if let Some(i) = &o.identity {
        say!("\nReporter identity (disclosed):");
        say!(
            "  Name: {}{}",
            i.first_name,
            i.last_name
                .as_deref()
                .map(|l| format!(" {l}"))
                .unwrap_or_default()
        );
        if let Some(u) = &i.username {
            say!("  Telegram username: @{u}");
        }
        say!("  Telegram user id: {}", i.telegram_user_id);
        if let Some(c) = &i.contact {
            say!("  Contact left by the reporter: {c}");
        }
    }
    if o.unreadable > 0 {
        say!(
            "\nWarning: {} item(s) could not be opened with your key.",
            o.unreadable
        );
    }
    if o.unverified > 0 {
        say!(
            "\nWarning: {} item(s) not shown: a reply, note or identity whose signature does not \
             verify for its author in the signed keyring (planted or altered in the database). \
             Tell the Inspectorate's leadership.",
            o.unverified
        );
    }
    if o.threshold_sealed > 0 {
        say!(
            "\n{} item(s) (the identity, original files) open only when enough custodians approve \
             a disclosure: no single key opens them.",
            o.threshold_sealed
        );
    }
}

fn print_request(r: &DisclosureView) {
    say!(
        "#{:<4} case {}  requested {} by {}  status {}  ({} approval(s) required)",
        r.id,
        r.case,
        r.created,
        r.requester,
        r.status.as_str(),
        r.approvals_required
    );
    say!("      reason: {}", r.reason);
    for d in &r.decisions {
        say!(
            "      {} by {} on {}: {}",
            if d.approve { "approved" } else { "denied" },
            d.custodian,
            d.day,
            d.reason
        );
    }
}

/// Runs `tipline review …`.
pub async fn review(cmd: ReviewCommand, args: ClientArgs) -> anyhow::Result<()> {
    if let ReviewCommand::Login(l) = cmd {
        return login(&args, &l).await;
    }
    let s = checked_session(&args).await?;
    let c = &s.client;
    match cmd {
        ReviewCommand::Login(_) => unreachable!("handled above"),
        ReviewCommand::Queue {
            status,
            unread,
            mine,
            page,
            per_page,
            after,
        } => {
            let mut q = format!("page={page}&per_page={per_page}");
            if let Some(a) = after {
                let cursor = crate::store::QueueCursor::parse(&a)
                    .ok_or_else(|| anyhow::anyhow!("--after takes what a previous page printed"))?;
                q.push_str(&format!("&after={cursor}"));
            }
            if let Some(st) = status {
                q.push_str(&format!("&status={}", st.as_str()));
            }
            if unread {
                q.push_str("&unread=true");
            }
            if mine {
                q.push_str("&mine=true");
            }
            let p = c.queue(&q).await?;
            if s.args_json {
                return print_json(&p);
            }
            if p.cases.is_empty() {
                say!("No cases.");
                return Ok(());
            }
            say!(
                "{:<11} {:<10} {:<17} {:<14} {:<16} flags",
                "case",
                "submitted",
                "status",
                "category",
                "claimed by"
            );
            for case in &p.cases {
                print_case_line(case);
            }
            say!(
                "\nPage {} ({} of {}{} cases).",
                p.page,
                p.cases.len(),
                p.total,
                if p.total_capped { "+" } else { "" }
            );
            if let Some(next) = &p.next {
                say!("Next page: --after {next}");
            }
        }
        ReviewCommand::Claim { case } => {
            let claimed = match case {
                Some(code) => Some(c.claim(&code).await?),
                None => c.claim_next().await?.case,
            };
            if s.args_json {
                return print_json(&claimed);
            }
            match claimed {
                Some(v) => say!(
                    "You hold case {} until {} (Unix time); status {}.",
                    v.code,
                    v.lease_until.unwrap_or_default(),
                    v.status.as_str()
                ),
                None => say!("No case is waiting."),
            }
        }
        ReviewCommand::Show { case } => {
            let sk = load_key(&s, &args, RecipientRole::Reviewer)?;
            let opened = client::open_case(c, &sk, &case).await?;
            if s.args_json {
                return print_json(&opened);
            }
            print_opened(&opened);
        }
        ReviewCommand::Attachments { case, out } => {
            attachments(&s, &args, RecipientRole::Reviewer, &case, &out).await?
        }
        ReviewCommand::Reply { case, message } => {
            let text = read_text(message)?;
            let kf = load_key_file(&s, &args, RecipientRole::Reviewer)?;
            let signer = signing_key(&s.key_file, &kf, "replies to reporters")?;
            let id = client::reply(c, signer, &case, &text).await?;
            if s.args_json {
                return print_json(&serde_json::json!({ "id": id }));
            }
            say!("Reply #{id} sealed to the reporter's mailbox and the reviewers of case {case}.");
        }
        ReviewCommand::Note { case, message } => {
            let text = read_text(message)?;
            let kf = load_key_file(&s, &args, RecipientRole::Reviewer)?;
            let signer = signing_key(&s.key_file, &kf, "notes")?;
            let id = client::note(c, signer, &case, &text).await?;
            if s.args_json {
                return print_json(&serde_json::json!({ "id": id }));
            }
            say!("Note #{id} added to case {case}.");
        }
        ReviewCommand::Status {
            case,
            status,
            outcome,
        } => {
            let v = c.set_status(&case, status, outcome).await?;
            if s.args_json {
                return print_json(&v);
            }
            say!("Case {} is now {}.", v.code, v.status.as_str());
        }
        ReviewCommand::Release { case } => {
            c.release(&case).await?;
            if s.args_json {
                return print_json(&serde_json::json!({ "released": case }));
            }
            say!("Released case {case}.");
        }
        ReviewCommand::RequestIdentity { case, reason } => {
            let kf = load_key_file(&s, &args, RecipientRole::Reviewer)?;
            let signer = signing_key(&s.key_file, &kf, "identity requests")?;
            let id = client::request_identity(c, &kf.public_key(), signer, &case, &reason).await?;
            if s.args_json {
                return print_json(&id);
            }
            say!(
                "Request #{} sent to the custodians. `tipline review requests` shows their decision.",
                id.id
            );
        }
        ReviewCommand::Requests => {
            // Reasons are sealed to the custodians and the requester: opened here.
            let sk = load_key(&s, &args, RecipientRole::Reviewer)?;
            let mut list = c.disclosures(None).await?;
            for r in &mut list.requests {
                *r = client::open_reasons(r, &sk);
            }
            if s.args_json {
                return print_json(&list);
            }
            if list.requests.is_empty() {
                say!("You have made no disclosure requests.");
            }
            for r in &list.requests {
                print_request(r);
            }
        }
        ReviewCommand::Rewrap => {
            let sk = load_key(&s, &args, RecipientRole::Reviewer)?;
            let r = client::rewrap_all_with_progress(c, &sk, &mut rewrap_progress).await?;
            print_rewrap(&r, s.args_json)?;
        }
    }
    Ok(())
}

/// Progress of a rewrap on standard error, every 100 items (a re-share of thousands of
/// items takes minutes).
fn rewrap_progress(done: usize) {
    if done > 0 && done.is_multiple_of(100) {
        eprintln!("tipline: {done} item(s) done so far");
    }
}

fn print_rewrap(r: &client::RewrapReport, json: bool) -> anyhow::Result<()> {
    if json {
        return print_json(r);
    }
    say!(
        "Re-wrapped {} item(s) to the current keys; {} failed (run again); {} need another key holder.",
        r.rewrapped,
        r.failed,
        r.not_openable
    );
    if r.contributed + r.waiting > 0 {
        say!(
            "Identities and originals split among custodians: your re-share part is in for {} more item(s) \
             ({} given earlier). Their new headers are made once k custodians of the previous set have run \
             `tipline custodian rewrap`; until then the old shares keep working.",
            r.contributed,
            r.waiting
        );
    }
    if r.refused > 0 {
        bail!(
            "refused {} item(s): the server asked to seal them to key(s) the signed keyring does not prove ({}). \
             Nothing was sealed to those keys; tell the administrator and the keyring authority",
            r.refused,
            r.unproven_keys.join(", ")
        );
    }
    Ok(())
}

async fn login(args: &ClientArgs, l: &LoginArgs) -> anyhow::Result<()> {
    let (server, key, force) = (l.server.as_str(), l.key.as_path(), l.force);
    let (token_file, ca_file) = (l.token_file.as_deref(), l.ca_file.as_deref());
    client::check_server_url(server).map_err(anyhow::Error::msg)?;
    let authorities =
        crate::trust::Authorities::parse(&l.authority.join(","), Some(l.authority_threshold))?;
    let ca_pem = match ca_file {
        Some(f) => {
            Some(std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?)
        }
        None => None,
    };
    let path = client_config_path(args)?;
    if path.exists() && !force {
        bail!(
            "{} exists already; use --force to replace it",
            path.display()
        );
    }
    let token = match token_file {
        Some(f) => SecretString::from(
            std::fs::read_to_string(f)
                .with_context(|| format!("reading {}", f.display()))?
                .trim()
                .to_owned(),
        ),
        None => match std::env::var("TIPLINE_REVIEW_TOKEN") {
            Ok(t) if !t.is_empty() => SecretString::from(t.trim().to_owned()),
            _ => SecretString::from(
                rpassword::prompt_password("Token: ").context("reading the token")?,
            ),
        },
    };
    let (role, _, pk) = keyfile::read_public(key)?;
    let client = Client::with_ca(server, token.clone(), ca_pem.as_deref().map(str::as_bytes))?;
    let who = client
        .whoami()
        .await
        .context("checking the token with the server")?;
    if who.key_id != Some(pk.key_id()) || who.role.as_str() != role.as_str() {
        bail!(
            "this token belongs to another key or role than {} ({role} key {}); nothing was written",
            key.display(),
            pk.key_id()
        );
    }
    // The authority the operator gave must be the one the server is configured with, and the
    // server's keyring chain must verify against it and prove this very key.
    let view = client.keyring().await.context("reading the keyring")?;
    let given: std::collections::BTreeSet<_> = authorities.keys().iter().copied().collect();
    let offered: std::collections::BTreeSet<_> = view
        .authority
        .iter()
        .filter_map(|s| crate::crypto::sign::VerifyingKey::parse_authority_string(s).ok())
        .collect();
    if !view.authority.is_empty() && offered != given {
        bail!(
            "the server is configured with another keyring authority ({}) than the one given ({}): \
             check the tlauth1 string with the Inspectorate's leadership; nothing was written",
            view.authority.join(", "),
            l.authority.join(", ")
        );
    }
    let head_file = path.with_extension("keyring-head");
    if force && head_file.exists() {
        std::fs::remove_file(&head_file)
            .with_context(|| format!("replacing {}", head_file.display()))?;
    }
    let pin = std::sync::Arc::new(crate::trust::Trust::new(authorities, Some(&head_file)));
    let client = client.with_pin(pin);
    let ring = client
        .verified_keyring()
        .await
        .context("checking the server's keyring against the authority; nothing was written")?;
    if !ring
        .member(&pk)
        .is_some_and(|m| m.active && m.role.as_str() == role.as_str())
    {
        bail!(
            "the signed keyring does not list {} as an active {role} key; nothing was written",
            pk.key_id()
        );
    }
    let body = serde_json::to_vec_pretty(&ClientFile {
        server: server.trim_end_matches('/').to_owned(),
        token: token.expose_secret().to_owned(),
        key_file: std::fs::canonicalize(key).unwrap_or_else(|_| key.to_path_buf()),
        ca_pem,
        authority: l.authority.clone(),
        authority_threshold: l.authority_threshold,
    })?;
    // The audit log's newest entry, taken as the server shows it: from now on every command
    // checks that the log extends it.
    let audit_head = client::check_audit(&client, None)
        .await
        .context("reading the audit log; nothing was written")?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    if force && path.exists() {
        std::fs::remove_file(&path).with_context(|| format!("replacing {}", path.display()))?;
    }
    keyfile::write_new_private_file(&path, &body)?;
    audit_head.write(&path.with_extension("audit-head"));
    say!(
        "Logged in as {role} key {} (token {}). Settings saved to {} (mode 0600).",
        pk.key_id(),
        who.token_id,
        path.display()
    );
    say!(
        "Keyring: {} signed statement(s), head {}.\nAudit log: head {}.\n\
         Compare both with the administrator's `tipline admin keyring verify` and \
         `tipline admin audit verify` (by telephone or in person): a server that shows you a \
         shortened log or keyring would differ there.",
        ring.epoch,
        hex::encode(ring.head),
        audit_head.to_text()
    );
    Ok(())
}

/// Approves (and, when approvals are complete, re-seals the identity to the requester) or
/// denies a disclosure request, and says what happened.
async fn approve_or_deny(
    s: &Session,
    kf: keyfile::KeyFile,
    id: i64,
    approve: bool,
    reason: &str,
) -> anyhow::Result<()> {
    let c = &s.client;
    let (view, item) = if approve {
        let signer = signing_key(&s.key_file, &kf, "approvals")?;
        client::decide_and_disclose(c, &kf.secret, signer, id, true, reason).await?
    } else {
        let signer = crate::crypto::sign::SigningKey::generate();
        client::decide_and_disclose(c, &kf.secret, &signer, id, false, reason).await?
    };
    let view = client::open_reasons(&view, &kf.secret);
    if s.args_json {
        return print_json(&serde_json::json!({ "request": view, "disclosed_item": item }));
    }
    print_request(&view);
    match item {
        Some(i) if view.status == DisclosureStatus::Fulfilled => say!(
            "The identity was re-sealed to reviewer key {} only (item #{i}).",
            view.requester
        ),
        Some(i) => say!(
            "Your share of the identity was re-sealed to reviewer key {} only (item #{i}); \
             it opens for that reviewer once {} custodians have approved and given theirs.",
            view.requester,
            view.approvals_required
        ),
        None if view.status == DisclosureStatus::Pending => {
            say!("More approvals are needed before the identity is disclosed.")
        }
        None => {}
    }
    Ok(())
}

/// Runs `tipline custodian …`.
pub async fn custodian(cmd: CustodianCommand, args: ClientArgs) -> anyhow::Result<()> {
    if let CustodianCommand::Login(l) = cmd {
        return login(&args, &l).await;
    }
    let s = checked_session(&args).await?;
    let c = &s.client;
    match cmd {
        CustodianCommand::Login(_) => unreachable!("handled above"),
        CustodianCommand::Requests { all } => {
            // Reasons are sealed to the custodians and the requester: opened here.
            let sk = load_key(&s, &args, RecipientRole::Custodian)?;
            let mut list = c
                .disclosures(if all {
                    None
                } else {
                    Some(DisclosureStatus::Pending)
                })
                .await?;
            for r in &mut list.requests {
                *r = client::open_reasons(r, &sk);
            }
            if s.args_json {
                return print_json(&list);
            }
            if list.requests.is_empty() {
                say!(
                    "No {}disclosure requests.",
                    if all { "" } else { "pending " }
                );
            }
            for r in &list.requests {
                print_request(r);
            }
        }
        CustodianCommand::Approve {
            id,
            ref reason,
            yes,
        } if !yes => {
            // Who the identity would go to, as the signed keyring names them: confirmed here
            // before anything leaves this machine.
            let Some(view) = c.disclosure(id).await? else {
                bail!("there is no disclosure request #{id}");
            };
            let member = client::verified_requester(c, &view).await?;
            let kf = load_key_file(&s, &args, RecipientRole::Custodian)?;
            say!(
                "Request #{id} for case {}: reviewer {} (key {}), as the signed keyring names them.\nTheir reason: {}",
                view.case,
                member.name,
                member.key.key_id(),
                client::reason_text(&view.reason, &view.case_id, &kf.secret)
            );
            let answer = rpassword::prompt_password("Type yes to approve: ")
                .context("reading the confirmation (give --yes when there is no terminal)")?;
            if answer.trim() != "yes" {
                bail!("not approved; nothing was changed");
            }
            approve_or_deny(&s, kf, id, true, reason).await?;
        }
        CustodianCommand::Approve { id, reason, .. } => {
            let kf = load_key_file(&s, &args, RecipientRole::Custodian)?;
            approve_or_deny(&s, kf, id, true, &reason).await?
        }
        CustodianCommand::Deny { id, reason } => {
            let kf = load_key_file(&s, &args, RecipientRole::Custodian)?;
            approve_or_deny(&s, kf, id, false, &reason).await?
        }
        CustodianCommand::Attachments { case, out } => {
            attachments(&s, &args, RecipientRole::Custodian, &case, &out).await?
        }
        CustodianCommand::Fulfil { id } => {
            let kf = load_key_file(&s, &args, RecipientRole::Custodian)?;
            let signer = signing_key(&s.key_file, &kf, "disclosed identities")?;
            let Some(view) = c.disclosure(id).await? else {
                bail!("there is no disclosure request #{id}");
            };
            // An approved request; or, for an identity split among custodians, a pending one
            // this custodian approved (its share is given again if the upload was lost).
            if !matches!(
                view.status,
                DisclosureStatus::Approved | DisclosureStatus::Pending
            ) {
                bail!(
                    "request #{id} is {}: only an approved request is re-sealed",
                    view.status.as_str()
                );
            }
            let item = client::disclose(c, &kf.secret, signer, &view).await?;
            if s.args_json {
                return print_json(&serde_json::json!({ "request": id, "disclosed_item": item }));
            }
            say!(
                "The identity was re-sealed to reviewer key {} only (item #{item}).",
                view.requester
            );
        }
        CustodianCommand::Rewrap => {
            let sk = load_key(&s, &args, RecipientRole::Custodian)?;
            let r = client::rewrap_all_with_progress(c, &sk, &mut rewrap_progress).await?;
            print_rewrap(&r, s.args_json)?;
        }
    }
    Ok(())
}

/// Runs `tipline admin tokens …`.
pub async fn tokens(cmd: TokensCommand, store: &Store) -> anyhow::Result<()> {
    match cmd {
        TokensCommand::Issue {
            role,
            recipient,
            expires,
        } => {
            let secs = crate::review::auth::parse_validity(&expires)
                .context("--expires is a number and a unit: 90d, 12h or 30m")?;
            let key = match (role, recipient) {
                (TokenRole::Admin, None) => None,
                (TokenRole::Admin, Some(_)) => {
                    bail!("admin tokens are not bound to a recipient key; drop --recipient")
                }
                (_, None) => bail!("--recipient KEY_ID is required for {role} tokens"),
                (_, Some(r)) => {
                    let id = KeyId::parse(&r).context("a key id is 16 hex digits")?;
                    let rec = match store.recipient(&id).await {
                        Err(crate::store::StoreError::NotFound) => {
                            bail!("no recipient key {id} is registered")
                        }
                        other => other?,
                    };
                    if !rec.active || rec.role.as_str() != role.as_str() {
                        bail!("key {id} is not an active {role} key");
                    }
                    Some(id)
                }
            };
            let t = crate::review::auth::issue(store, role, key, secs, "admin-cli").await?;
            say!(
                "Issued {role} token {} (valid until Unix time {}). It is shown only now:\n",
                t.row.id,
                t.row.expires_at
            );
            say!("{}", t.token.expose_secret());
            Ok(())
        }
        TokensCommand::List => {
            let list = store.tokens().await?;
            if list.is_empty() {
                say!("No tokens.");
            }
            let now = crate::clock::unix_now();
            for t in list {
                let state = if t.revoked {
                    "revoked"
                } else if t.expires_at <= now {
                    "expired"
                } else {
                    "active"
                };
                say!(
                    "{:<12} {:<9} {:<16} issued {}  expires {}  {state}",
                    t.id,
                    t.role,
                    t.key_id
                        .map(|k| k.to_string())
                        .unwrap_or_else(|| "-".into()),
                    t.issued_day,
                    t.expires_at
                );
            }
            Ok(())
        }
        TokensCommand::Revoke { id } => {
            match store.revoke_token(&id, "admin-cli").await {
                Err(crate::store::StoreError::NotFound) => bail!("no token has the id {id}"),
                other => other?,
            }
            say!("Revoked token {id}.");
            Ok(())
        }
    }
}

/// `tipline admin rotate-server-secret`: a new current version; the previous one is kept so
/// drafts in progress stay readable (dropped at the next rotation, or now with `drop_old`).
pub async fn rotate_server_secret(
    config: &Config,
    store: &Store,
    drop_old: bool,
) -> anyhow::Result<()> {
    if config.server_secret_inline.is_some() {
        bail!("the server secret comes from TIPLINE_SERVER_SECRET; rotate it where it is kept");
    }
    let path = &config.server_secret_file;
    let mut secret = ServerSecret::load(path).context("reading the server secret")?;
    let v = secret.rotate();
    secret.retain_latest(if drop_old { 1 } else { 2 });
    let tmp = path.with_extension(format!(
        "new-{}",
        hex::encode(crate::crypto::random_array::<4>())
    ));
    keyfile::write_new_private_file(&tmp, secret.expose_file_text().as_bytes())?;
    std::fs::rename(&tmp, path).with_context(|| format!("replacing {}", path.display()))?;
    store
        .audit(
            crate::store::AuditEntry::new("admin-cli", "server_secret.rotate").detail(format!(
                "version {v}, kept {:?}",
                secret.versions_newest_first()
            )),
        )
        .await?;
    say!(
        "The server secret is now at version {v} (kept versions {:?}). Restart `tipline serve` to use it.",
        secret.versions_newest_first()
    );
    Ok(())
}

/// `tipline admin purge`.
pub async fn purge(config: &Config, store: &Store) -> anyhow::Result<()> {
    let r = crate::review::server::run_purge(store, config.retention.closed_case_days, "admin-cli")
        .await?;
    say!(
        "Purged {} closed case(s) older than {} days{}; {} expired draft(s).",
        r.cases.len(),
        config.retention.closed_case_days,
        if r.cases.is_empty() {
            String::new()
        } else {
            format!(" ({})", r.cases.join(", "))
        },
        r.drafts
    );
    Ok(())
}
