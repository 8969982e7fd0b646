//! The `tipline` command line: the binary's edge, where errors become one clear sentence.

mod review;
pub mod term;

use term::{esay, say};

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use secrecy::{ExposeSecret, SecretString};

use crate::config::{self, Config, ProcessEnv};
use crate::crypto::keyfile::{self, KdfParams};
use crate::crypto::{RecipientRole, ServerSecret};
use crate::store::Store;

/// tipline: a safe hotline for reporting misconduct by public officials.
#[derive(Debug, Parser)]
#[command(name = "tipline", version, about)]
pub struct Cli {
    /// The data directory (embedded database, server secret, tipline.toml).
    #[arg(long, global = true, env = "TIPLINE_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// A configuration file other than DATA_DIR/tipline.toml.
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the data directory, the embedded database, the server secret and a commented
    /// tipline.toml. Never overwrites anything that exists.
    Init,
    /// Apply pending database migrations.
    Migrate,
    /// Run the bot until SIGINT or SIGTERM: long polling (one instance), or with
    /// `--webhook-url` a webhook (several replicas on one PostgreSQL database).
    Serve(ServeArgs),
    /// Load test: simulated citizens make complete reports against a `tipline serve` child
    /// process through the simulator with Telegram's flood limits on.
    Loadtest {
        /// How many citizens, one run each (e.g. `--citizens 10 --citizens 1000`).
        #[arg(long, default_values_t = [10])]
        citizens: Vec<usize>,
        /// Also run the minimal teloxide baseline bot and report the CPU ratio.
        #[arg(long)]
        baseline: bool,
        /// Run only the baseline bot (to run it beside a tipline run in another process).
        #[arg(long, conflicts_with = "baseline")]
        baseline_only: bool,
        /// Citizens arriving per second, evenly spaced; without it all arrive within five
        /// seconds (a worst-case burst). Telegram's 30 messages/s overall and about 19 bot
        /// messages per report sustain about 1.5 reports/s.
        #[arg(long)]
        arrival_rate: Option<f64>,
        /// How long each citizen waits after the bot's answer before the next step, in
        /// milliseconds: 50 (a robot; every answer then waits for Telegram's one message a
        /// second into the chat) unless given. People take seconds to read and tap.
        #[arg(long, default_value_t = 50)]
        think_ms: u64,
        /// Also run the dialogue baseline: the same dialogue core, texts and keyboards with its
        /// drafts in memory under plain teloxide (no pseudonyms, sealing, store or pacing),
        /// through the dialogue-only script; with `--baseline-only`, after the bare baseline.
        #[arg(long)]
        dialogue_baseline: bool,
        /// Skip the dialogue-only run that comes first and separates the dialogue's CPU per
        /// update from the submission's (each citizen stops at the review screen and cancels).
        #[arg(long)]
        no_split: bool,
    },
    /// Review API load figures: fills an empty database with synthetic cases shaped like a
    /// mature install's (85 % closed, three years of dates), serves the review API on it in
    /// this process and times its endpoints over HTTP (BENCHMARKS.md, "Review queue").
    Reviewload {
        /// The database to fill: an empty one (or one an earlier run filled with as many
        /// cases), e.g. `postgres://postgres@127.0.0.1/bench` or `sqlite:/tmp/bench.db`.
        #[arg(long)]
        database: String,
        /// Cases in the queue.
        #[arg(long, default_value_t = 10_000)]
        cases: u64,
        /// Requests timed per operation.
        #[arg(long, default_value_t = 200)]
        samples: usize,
    },
    /// Exit 0 when URL answers 2xx within 5 s (a container health check without a shell or
    /// curl in the image).
    #[command(hide = true)]
    Healthcheck {
        /// What to ask.
        #[arg(default_value = "http://127.0.0.1:8471/readyz")]
        url: String,
    },
    /// The load test's baseline bot (internal).
    #[command(hide = true)]
    LoadtestBaselineBot,
    /// The load test's dialogue baseline bot (internal).
    #[command(hide = true)]
    LoadtestDialogueBaselineBot,
    /// See the whole pipeline in seconds: a simulated Telegram, a scripted citizen, the
    /// Inspectorate's view. No token, no network.
    Demo,
    /// Make and inspect key files (run on the key holder's own machine).
    #[command(subcommand)]
    Keys(KeysCommand),
    /// The keyring authority (on its own offline machine): make its key, sign keyring
    /// statements that add or retire recipient keys.
    #[command(subcommand)]
    Authority(AuthorityCommand),
    /// Administration: recipients, audit log, tokens, server secret, purges, backup.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Reviewers: work on cases through the review API (keys stay on this machine).
    Review {
        /// Client options.
        #[command(flatten)]
        args: review::ClientArgs,
        /// What to do.
        #[command(subcommand)]
        cmd: review::ReviewCommand,
    },
    /// Custodians: decide identity-disclosure requests; rewrap identities.
    Custodian {
        /// Client options.
        #[command(flatten)]
        args: review::ClientArgs,
        /// What to do.
        #[command(subcommand)]
        cmd: review::CustodianCommand,
    },
}

/// `tipline serve` options.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Webhook mode: the public HTTPS URL Telegram posts updates to (the reverse proxy forwards
    /// its path to webhook.listen). Needs a webhook secret (TIPLINE_WEBHOOK_SECRET_FILE).
    #[arg(long, env = "TIPLINE_WEBHOOK_URL")]
    pub webhook_url: Option<String>,
}

/// `tipline keys …`
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Make a new keypair; write the passphrase-protected private key file (mode 0600) and
    /// print the public key string to give to the administrator.
    New {
        /// Reviewer or custodian.
        #[arg(long, value_enum)]
        role: RecipientRole,
        /// Your name as colleagues know it (shown in lists and audit details).
        #[arg(long)]
        name: String,
        /// Where to write the private key file; an existing file is never overwritten.
        #[arg(long)]
        out: PathBuf,
        /// Where the passphrase comes from.
        #[command(flatten)]
        passphrase: PassphraseArgs,
    },
    /// Make a version 2 copy of an older key file (same encryption key, a new signing key, the
    /// same passphrase): the keyring authority signs version 2 strings only.
    Upgrade {
        /// The key file to upgrade (left as it is).
        file: PathBuf,
        /// Where to write the new key file; an existing file is never overwritten.
        #[arg(long)]
        out: PathBuf,
        /// Where the passphrase comes from.
        #[command(flatten)]
        passphrase: PassphraseArgs,
    },
    /// Print the public key string of a key file again.
    ShowPublic {
        /// The key file.
        file: PathBuf,
    },
    /// Open a key file with its passphrase, to check that both still work.
    Check {
        /// The key file.
        file: PathBuf,
        /// Where the passphrase comes from.
        #[command(flatten)]
        passphrase: PassphraseArgs,
    },
}

/// `tipline authority …`
#[derive(Debug, Subcommand)]
pub enum AuthorityCommand {
    /// Make the keyring authority's key: write the passphrase-protected file (mode 0600) and
    /// print the `tlauth1…` string that every bot and client pins.
    New {
        /// Who holds it (e.g. "Chánh Thanh tra tỉnh").
        #[arg(long)]
        name: String,
        /// Where to write the key file; an existing file is never overwritten.
        #[arg(long)]
        out: PathBuf,
        /// Where the passphrase comes from.
        #[command(flatten)]
        passphrase: PassphraseArgs,
    },
    /// Print the `tlauth1…` string of an authority key file again.
    Show {
        /// The authority key file.
        file: PathBuf,
    },
    /// Sign the next keyring statement: check the chain the administrator exported (`tipline
    /// admin keyring export`), then write a statement that adds or retires one key.
    Sign {
        /// The authority key file.
        #[arg(long)]
        key: PathBuf,
        /// The chain exported by the administrator; omit for the first statement.
        #[arg(long)]
        chain: Option<PathBuf>,
        /// Other authorities whose signatures count when checking the chain (tlauth1…).
        #[arg(long = "also-trust")]
        also_trust: Vec<String>,
        /// What the statement does.
        #[command(subcommand)]
        op: SignOp,
        /// Where the passphrase comes from.
        #[command(flatten)]
        passphrase: PassphraseArgs,
    },
    /// Add this authority's signature to a statement (when several authorities must sign).
    Cosign {
        /// The authority key file.
        #[arg(long)]
        key: PathBuf,
        /// The statement file.
        #[arg(long)]
        statement: PathBuf,
        /// Where to write the co-signed statement (never over an existing file).
        #[arg(long)]
        out: PathBuf,
        /// Where the passphrase comes from.
        #[command(flatten)]
        passphrase: PassphraseArgs,
    },
}

/// What an authority signs.
#[derive(Debug, Subcommand)]
pub enum SignOp {
    /// Add a recipient key.
    Add {
        /// Reviewer or custodian (must match the key string's prefix).
        #[arg(long, value_enum)]
        role: RecipientRole,
        /// The holder's name.
        #[arg(long)]
        name: String,
        /// The public key string printed by `tipline keys new` (check its key id with the
        /// holder before signing).
        #[arg(long)]
        public_key: String,
        /// Where to write the statement (never over an existing file).
        #[arg(long)]
        out: PathBuf,
    },
    /// Retire a recipient key.
    Retire {
        /// The public key string of the key to retire.
        #[arg(long)]
        public_key: String,
        /// Where to write the statement (never over an existing file).
        #[arg(long)]
        out: PathBuf,
    },
    /// Set how many distinct custodians must approve a disclosure (the server and every
    /// client enforce it; no database row can lower it).
    Approvals {
        /// The number of approvals (at most the number of active custodians).
        #[arg(long)]
        required: u32,
        /// Where to write the statement (never over an existing file).
        #[arg(long)]
        out: PathBuf,
    },
}

/// Where a passphrase comes from when there is no terminal to ask.
#[derive(Debug, Args)]
pub struct PassphraseArgs {
    /// Read the passphrase from this file (first line) instead of asking.
    #[arg(long)]
    pub passphrase_file: Option<PathBuf>,
}

/// `tipline admin …`
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Manage recipient keys.
    #[command(subcommand)]
    Recipients(RecipientsCommand),
    /// The signed keyring chain: export it for the authority, import a statement, verify.
    #[command(subcommand)]
    Keyring(KeyringCommand),
    /// Inspect the audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Bearer tokens for the review API.
    #[command(subcommand)]
    Tokens(review::TokensCommand),
    /// Start a new server secret version (drafts in progress stay readable with the old one).
    RotateServerSecret {
        /// Drop all older versions now instead of keeping the previous one.
        #[arg(long)]
        drop_old: bool,
    },
    /// Delete closed cases past retention and expired drafts now.
    Purge,
    /// Write a consistent copy of the SQLite database while the service runs (file mode 0600;
    /// an existing file is never overwritten). For PostgreSQL use pg_dump (deploy/README.md).
    Backup {
        /// The backup file to create.
        #[arg(long)]
        out: PathBuf,
    },
}

/// `tipline admin recipients …`
#[derive(Debug, Subcommand)]
pub enum RecipientsCommand {
    /// Register a key through a statement the keyring authority signed (`tipline authority
    /// sign add`); new items are sealed to it from now on.
    Add {
        /// The signed statement file.
        #[arg(long)]
        statement: PathBuf,
    },
    /// List registered keys.
    List,
    /// Retire a key through a statement the keyring authority signed (`tipline authority sign
    /// retire`): nothing new is sealed to it.
    Retire {
        /// The signed statement file.
        #[arg(long)]
        statement: PathBuf,
    },
}

/// `tipline admin keyring …`
#[derive(Debug, Subcommand)]
pub enum KeyringCommand {
    /// Write the keyring chain as stored, for the authority to check and extend.
    Export {
        /// The chain file to create (never over an existing file).
        #[arg(long)]
        out: PathBuf,
    },
    /// Import a signed statement (an addition or a retirement).
    Import {
        /// The signed statement file.
        statement: PathBuf,
    },
    /// Check the stored chain against the configured authority and list what it proves.
    Verify,
}

/// `tipline admin audit …`
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain and every signed act's signature against the signed keyring;
    /// report the first entry that fails. The newest entry verified is recorded in the data
    /// directory (`audit-head`) and checked next time, so a log cut short or rewritten with
    /// its hashes recomputed is caught.
    Verify {
        /// A head recorded earlier, as this command prints it (`N:HEX`): the log must still
        /// hold exactly that entry.
        #[arg(long)]
        head: Option<String>,
    },
    /// Print the log.
    Show {
        /// First entry to show.
        #[arg(long, default_value_t = 1)]
        from: i64,
        /// How many entries.
        #[arg(long, default_value_t = 200)]
        limit: i64,
    },
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let Cli {
        data_dir,
        config: config_file,
        command,
    } = cli;
    let load_config = || -> anyhow::Result<Config> {
        Ok(Config::load(
            data_dir.as_deref(),
            config_file.as_deref(),
            &ProcessEnv,
        )?)
    };
    match command {
        Command::Init => init(data_dir.as_deref(), config_file.as_deref()).await,
        Command::Migrate => {
            let config = load_config()?;
            let store = Store::connect(&config.database_url)
                .await
                .context("connecting to the database")?;
            store.migrate().await.context("applying migrations")?;
            say!("Database schema is up to date ({}).", store.backend_name());
            Ok(())
        }
        Command::Keys(k) => keys(k),
        Command::Authority(a) => authority(a),
        Command::Serve(args) => serve(load_config()?, args).await,
        Command::Demo => crate::demo::run().await,
        Command::Healthcheck { url } => {
            let resp = reqwest::Client::new()
                .get(&url)
                .timeout(std::time::Duration::from_secs(5))
                .send()
                .await
                .context("asking the ops listener")?;
            if !resp.status().is_success() {
                bail!("{}", resp.text().await.unwrap_or_default().trim());
            }
            Ok(())
        }
        Command::Reviewload {
            database,
            cases,
            samples,
        } => {
            crate::reviewload::run(&crate::reviewload::Options {
                database,
                cases,
                samples: samples.max(1),
            })
            .await
        }
        Command::LoadtestBaselineBot => crate::loadtest::baseline_bot().await,
        Command::LoadtestDialogueBaselineBot => crate::loadtest::dialogue_baseline_bot().await,
        Command::Loadtest {
            citizens,
            baseline,
            baseline_only,
            arrival_rate,
            dialogue_baseline,
            think_ms,
            no_split,
        } => {
            let arrivals = match arrival_rate {
                Some(r) if r > 0.0 && r.is_finite() => crate::loadtest::Arrivals::PerSecond(r),
                Some(_) => bail!("--arrival-rate must be a positive number of citizens per second"),
                None => crate::loadtest::Arrivals::Burst,
            };
            for n in citizens {
                let which = Baselines {
                    bare: baseline,
                    only: baseline_only,
                    dialogue: dialogue_baseline,
                };
                let think = std::time::Duration::from_millis(think_ms);
                loadtest_size(n, arrivals, think, which, !no_split).await?;
            }
            Ok(())
        }
        Command::Admin(a) => {
            let config = load_config()?;
            // Never a new empty database: on a PostgreSQL host, a forgotten
            // TIPLINE_DATABASE_URL_FILE would otherwise register keys in a stray SQLite file.
            let store = match Store::open_existing(&config.database_url).await {
                Err(crate::store::StoreError::NoDatabase(path)) => bail!(
                    "there is no tipline database at {path}, and admin commands never create one. \
                     If the service uses PostgreSQL, give this command the same database setting \
                     (e.g. `export TIPLINE_DATABASE_URL_FILE=/etc/tipline/credentials/database-url`); \
                     for SQLite, set TIPLINE_DATA_DIR to the service's data directory, or run \
                     `tipline init` first"
                ),
                other => other.context("opening the database")?,
            };
            match a {
                AdminCommand::Tokens(t) => review::tokens(t, &store).await,
                AdminCommand::RotateServerSecret { drop_old } => {
                    review::rotate_server_secret(&config, &store, drop_old).await
                }
                AdminCommand::Purge => review::purge(&config, &store).await,
                other => admin(other, &store, &config).await,
            }
        }
        Command::Review { args, cmd } => review::review(cmd, args).await,
        Command::Custodian { args, cmd } => review::custodian(cmd, args).await,
    }
}

/// Which baselines `tipline loadtest` runs.
struct Baselines {
    /// The bare teloxide bot, after tipline.
    bare: bool,
    /// Only the baselines (the bare one, and the dialogue one if asked), not tipline.
    only: bool,
    /// The dialogue core in memory under teloxide, through the dialogue-only script.
    dialogue: bool,
}

/// One size of `tipline loadtest`: the dialogue-only run (unless `split` is off), the full run
/// and the baselines, as asked.
async fn loadtest_size(
    n: usize,
    arrivals: crate::loadtest::Arrivals,
    think: std::time::Duration,
    which: Baselines,
    split: bool,
) -> anyhow::Result<()> {
    use crate::loadtest::{Script, Target, run};
    if which.only {
        let b = run(n, Target::Bare, arrivals, think, Script::Report).await?;
        say!("{}", b.line("baseline"));
        if which.dialogue {
            let db = run(n, Target::Dialogue, arrivals, think, Script::DialogueOnly).await?;
            say!("{}", db.line("dialogue baseline (dialogue only)"));
        }
        return Ok(());
    }
    let dialogue = if split {
        let d = run(n, Target::Tipline, arrivals, think, Script::DialogueOnly).await?;
        say!("{}", d.line("tipline (dialogue only)"));
        Some(d)
    } else {
        None
    };
    let t = run(n, Target::Tipline, arrivals, think, Script::Report).await?;
    say!("{}", t.line("tipline"));
    if let Some(d) = &dialogue {
        say!(
            "tipline CPU: dialogue steps {:.2} ms/update; submission (Send, receipt, wipe offer) {:.1} ms/report",
            d.cpu_ms_per_update(),
            t.submission_cpu_ms(d)
        );
    }
    if which.bare {
        let b = run(n, Target::Bare, arrivals, think, Script::Report).await?;
        say!("{}", b.line("baseline"));
        say!(
            "tipline CPU per update / baseline CPU per update = {:.1}",
            t.cpu_ms_per_update() / b.cpu_ms_per_update().max(1e-9)
        );
        if let Some(d) = &dialogue {
            say!(
                "tipline dialogue CPU per update / baseline CPU per update = {:.1}",
                d.cpu_ms_per_update() / b.cpu_ms_per_update().max(1e-9)
            );
        }
    }
    if which.dialogue {
        let db = run(n, Target::Dialogue, arrivals, think, Script::DialogueOnly).await?;
        say!("{}", db.line("dialogue baseline (dialogue only)"));
        if let Some(d) = &dialogue {
            say!(
                "tipline dialogue CPU per update / dialogue baseline CPU per update = {:.1}",
                d.cpu_ms_per_update() / db.cpu_ms_per_update().max(1e-9)
            );
        }
    }
    Ok(())
}

async fn init(data_dir: Option<&Path>, config_file: Option<&Path>) -> anyhow::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    let dir = data_dir
        .map(Path::to_path_buf)
        .unwrap_or_else(config::default_data_dir);
    if !dir.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .with_context(|| format!("creating the data directory {}", dir.display()))?;
        say!("Created the data directory {} (mode 0700).", dir.display());
    } else {
        let mode = std::fs::metadata(&dir)?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            say!(
                "Note: {} is readable by other users (mode {mode:o}); consider `chmod 700`.",
                dir.display()
            );
        }
    }

    let config_path = config_file
        .map(Path::to_path_buf)
        .unwrap_or_else(|| dir.join(config::CONFIG_FILE_NAME));
    if config_path.exists() {
        say!(
            "Kept the existing configuration file {}.",
            config_path.display()
        );
    } else {
        std::fs::write(&config_path, config::sample_file())
            .with_context(|| format!("writing {}", config_path.display()))?;
        say!(
            "Wrote a commented configuration file to {}.",
            config_path.display()
        );
    }

    let config = Config::load(Some(&dir), config_file, &ProcessEnv)?;
    if config.server_secret_inline.is_some() {
        say!("The server secret comes from TIPLINE_SERVER_SECRET; no secret file written.");
    } else if config.server_secret_file.exists() {
        ServerSecret::load(&config.server_secret_file)
            .context("checking the existing server secret")?;
        say!(
            "Kept the existing server secret {}.",
            config.server_secret_file.display()
        );
    } else {
        let secret = ServerSecret::generate();
        keyfile::write_new_private_file(
            &config.server_secret_file,
            secret.expose_file_text().as_bytes(),
        )?;
        say!(
            "Created the server secret {} (mode 0600). Back it up privately.",
            config.server_secret_file.display()
        );
    }

    let store = Store::open(&config.database_url)
        .await
        .context("creating the database")?;
    say!("The database ({}) is ready.", store.backend_name());
    store.close().await;
    say!(
        "\nNext: the keyring authority makes its key (`tipline authority new`, offline) and you pin its\n\
         tlauth1 string (TIPLINE_AUTHORITY); reviewers and custodians each run `tipline keys new` on\n\
         their own machines; the authority signs each key and you import the statements\n\
         (`tipline admin recipients add --statement FILE`). See the key ceremony in deploy/README.md."
    );
    Ok(())
}

/// The passphrase for a new key file at `out`, after checking that nothing is there (asked
/// only then, so that nobody types a passphrase for a file that will not be written).
fn new_key_passphrase(out: &Path, p: &PassphraseArgs) -> anyhow::Result<SecretString> {
    if out.exists() {
        bail!(
            "{} already exists; refusing to overwrite a key file (choose another path)",
            out.display()
        );
    }
    passphrase(p, true)
}

/// A new key file's passphrase must have at least 12 characters, however it is given.
fn long_enough(p: SecretString, new_file: bool) -> anyhow::Result<SecretString> {
    if new_file && p.expose_secret().chars().count() < 12 {
        bail!(
            "the passphrase is too short: use at least 12 characters (a few words are best); nothing was written"
        );
    }
    Ok(p)
}

/// Gets a passphrase: from `--passphrase-file`, then `TIPLINE_KEY_PASSPHRASE`, then the terminal
/// (asked twice when `confirm`, for a new key file: at least 12 characters from any source).
pub fn passphrase(args: &PassphraseArgs, confirm: bool) -> anyhow::Result<SecretString> {
    if let Some(path) = &args.passphrase_file {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the passphrase file {}", path.display()))?;
        let line = text.lines().next().unwrap_or("").to_owned();
        if line.is_empty() {
            bail!("the passphrase file {} is empty", path.display());
        }
        return long_enough(SecretString::from(line), confirm);
    }
    if let Ok(p) = std::env::var("TIPLINE_KEY_PASSPHRASE")
        && !p.is_empty()
    {
        return long_enough(SecretString::from(p), confirm);
    }
    let first = SecretString::from(
        rpassword::prompt_password("Passphrase for the key file: ")
            .context("reading the passphrase from the terminal (use --passphrase-file or TIPLINE_KEY_PASSPHRASE without one)")?,
    );
    if confirm {
        if first.expose_secret().chars().count() < 12 {
            bail!("the passphrase is too short: use at least 12 characters (a few words are best)");
        }
        let second = rpassword::prompt_password("Repeat the passphrase: ")
            .context("reading the passphrase")?;
        if second != first.expose_secret() {
            bail!("the two passphrases differ; nothing was written");
        }
    }
    Ok(first)
}

/// Resolves when the process receives SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

/// Opens the store and checks that the bot may start: a server secret, a pinned keyring
/// authority, and a signed keyring that proves at least one active reviewer key and one
/// active custodian key to seal to.
pub async fn open_for_bot(
    config: &Config,
) -> anyhow::Result<(Store, ServerSecret, std::sync::Arc<crate::trust::Trust>)> {
    if config.database_url.starts_with("sqlite:") && !config.data_dir.exists() {
        bail!(
            "the data directory {} does not exist: run `tipline init` first",
            config.data_dir.display()
        );
    }
    let secret = config.server_secret().context(
        "reading the server secret (run `tipline init`, or set TIPLINE_SERVER_SECRET_FILE)",
    )?;
    let store = Store::open(&config.database_url)
        .await
        .context("opening the database")?;
    let trust = crate::trust::Trust::new(config.authorities()?, Some(&config.keyring_head_file()));
    let ring = trust
        .keyring(&store)
        .await
        .context("the signed keyring does not verify; refusing to start")?;
    for (role, what) in [
        (RecipientRole::Reviewer, "reports"),
        (RecipientRole::Custodian, "identities"),
    ] {
        if ring.active(role).is_empty() {
            bail!(
                "no active {role} key is registered in the signed keyring: the authority signs one \
                 (`tipline authority sign add --role {role}`) and the administrator imports it \
                 (`tipline admin recipients add --statement FILE`); refusing to start, since {what} could not be sealed"
            );
        }
    }
    Ok((store, secret, std::sync::Arc::new(trust)))
}

async fn serve(config: Config, args: ServeArgs) -> anyhow::Result<()> {
    crate::telemetry::init(&config.log);
    let Some(token) = config.telegram_token.as_ref() else {
        bail!("no bot token: set TELEGRAM_BOT_TOKEN or TELEGRAM_BOT_TOKEN_FILE");
    };
    let (store, secret, trust) = open_for_bot(&config).await?;
    let api_url = reqwest_url(&config.telegram_api_url)?;
    let app = crate::bot::App::new(
        store.clone(),
        secret,
        // One receipt derivation at a time: 64 MiB of argon2id memory, about a tenth of a
        // second each, is ten submissions or status checks a second, far above what
        // Telegram lets one bot deliver to reporters (BENCHMARKS.md, "Load").
        crate::crypto::receipt::ReceiptDeriver::new(1),
        config.limits.clone(),
        config.retention.clone(),
        config.contacts.clone(),
        trust.clone(),
    )
    .with_pace(crate::bot::pace::PaceLimits {
        per_second: config.telegram_per_second,
        ..crate::bot::pace::PaceLimits::TELEGRAM
    });
    // Long polling means one instance: it may keep drafts between steps. Replicas behind a
    // webhook share the database and read it every time.
    let app = std::sync::Arc::new(if args.webhook_url.is_none() {
        app.with_draft_cache()
    } else {
        app
    });
    let bot = teloxide::Bot::new(token.expose_secret()).set_api_url(api_url);

    // One signal listener; everything that stops watches `stopping`, and /readyz turns 503 at
    // once so that load balancers send nothing new while in-flight updates drain.
    let bound = config.shutdown_timeout;
    let (stop_tx, stopping) = tokio::sync::watch::channel(false);
    let signalled_at = std::sync::Arc::new(std::sync::OnceLock::new());
    {
        let signalled_at = signalled_at.clone();
        tokio::spawn(async move {
            shutdown_signal().await;
            let _ = signalled_at.set(tokio::time::Instant::now());
            tracing::info!(
                bound_secs = bound.as_secs(),
                "stop signal received: draining in-flight updates"
            );
            let _ = stop_tx.send(true);
        });
    }
    let stopped = {
        let rx = stopping.clone();
        move || {
            let mut rx = rx.clone();
            async move {
                // An error means the sender is gone, which only happens after it sent.
                let _ = rx.wait_for(|s| *s).await;
            }
        }
    };

    crate::metrics::set_publish_period(config.metrics_period_secs);
    let ops = crate::ops::spawn(
        config.ops_listen,
        crate::ops::OpsState::new(store.clone(), stopping.clone()).with_trust(trust.clone()),
    )
    .await
    .with_context(|| format!("listening on ops.listen {}", config.ops_listen))?;
    let purges = tokio::spawn(daily_purge(
        store.clone(),
        config.retention.closed_case_days,
    ));
    let intake = tokio::spawn(intake_batches(store.clone()));
    let listener = tokio::net::TcpListener::bind(config.review_listen)
        .await
        .with_context(|| format!("listening on {} (review.listen)", config.review_listen))?;
    let review_addr = listener.local_addr().unwrap_or(config.review_listen);
    let api_state = crate::review::server::ApiState::new(
        store.clone(),
        config.approvals_required,
        config.retention.closed_case_days,
        config.review_trusted_proxies.clone(),
        config.authority.clone(),
        Some(config.authorities()?),
    );
    let api = tokio::spawn(crate::review::server::serve(listener, api_state, stopped()));
    tracing::info!(review_api = %review_addr, "review API listening");
    let housekeeping = tokio::spawn(housekeeping(store.clone()));

    let run = async {
        match args.webhook_url {
            None => {
                tracing::info!(
                    database = store.backend_name(),
                    "tipline bot starting (long polling)"
                );
                crate::bot::run_polling(bot, app, stopped())
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))
            }
            Some(url) => {
                let url = url::Url::parse(&url).context("invalid --webhook-url")?;
                if url.scheme() != "https" {
                    bail!("--webhook-url must be an https:// URL (Telegram posts only to HTTPS)");
                }
                let Some(secret) = config.webhook_secret.clone() else {
                    bail!(
                        "webhook mode needs a secret token: set TIPLINE_WEBHOOK_SECRET_FILE (32-256 characters of A-Z a-z 0-9 _ -)"
                    );
                };
                if store.backend_name() == "sqlite" {
                    tracing::warn!("webhook mode on SQLite: run one instance only");
                }
                tracing::info!(
                    database = store.backend_name(),
                    "tipline bot starting (webhook)"
                );
                match crate::webhook::run_webhook(
                    bot,
                    app,
                    crate::webhook::WebhookOptions {
                        url,
                        listen: config.webhook_listen,
                        secret,
                        // Most of the bound for updates in flight; the rest for closing.
                        drain: bound.mul_f64(0.8),
                        update_timeout: config.webhook_update_timeout,
                    },
                    stopped(),
                )
                .await
                {
                    Err(crate::webhook::WebhookError::DrainBound) => shutdown_bound_reached(bound),
                    other => other.map_err(anyhow::Error::from),
                }
            }
        }
    };
    // The whole shutdown is bounded, whatever the bot's own drain does (teloxide's polling
    // waits for every handler; a handler can wait on a stalled Telegram).
    let bounded = async {
        stopped().await;
        tokio::time::sleep(bound).await;
    };
    let result = tokio::select! {
        r = run => r,
        () = bounded => shutdown_bound_reached(bound),
    };
    housekeeping.abort();
    purges.abort();
    intake.abort();
    api.abort();
    ops.abort();
    // Closing waits for every pooled connection to come back; a turn abandoned by the drain
    // bound may still hold one. What is left of the bound, at least a moment.
    let left = signalled_at
        .get()
        .map(|t| (*t + bound).saturating_duration_since(tokio::time::Instant::now()))
        .unwrap_or(bound)
        .max(std::time::Duration::from_millis(200));
    if tokio::time::timeout(left, store.close()).await.is_err() {
        shutdown_bound_reached(bound);
    }
    if result.is_ok() {
        tracing::info!("stopped");
    }
    result
}

/// Ends the process at once when the shutdown bound is reached: returning would wait for the
/// runtime's blocking threads, which a stuck turn may hold.
fn shutdown_bound_reached(bound: std::time::Duration) -> ! {
    tracing::error!(
        bound_secs = bound.as_secs(),
        "shutdown bound reached with work still in flight; exiting now (status 1). Telegram redelivers updates that were not answered"
    );
    std::process::exit(1)
}

fn reqwest_url(s: &str) -> anyhow::Result<url::Url> {
    url::Url::parse(s)
        .with_context(|| "invalid setting telegram.api_url (TELEGRAM_API_URL)".to_owned())
}

/// Purges expired drafts and old rate-limit windows every ten minutes.
async fn housekeeping(store: Store) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(600));
    loop {
        tick.tick().await;
        let now = crate::clock::unix_now();
        match store.purge_expired_drafts(now).await {
            Ok(n) if n > 0 => tracing::info!(count = n, "expired drafts purged"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "draft purge failed"),
        }
        if let Err(e) = store.purge_rate_limits(now - 2 * 86_400).await {
            tracing::warn!(error = %e, "rate-limit purge failed");
        }
        // Telegram gives up on an update after 24 hours; two days of claims is plenty.
        let two_days_ago = crate::clock::Day::today().0 - 2;
        if let Err(e) = store.purge_processed_updates(two_days_ago).await {
            tracing::warn!(error = %e, "update-claim purge failed");
        }
    }
}

/// Purges closed cases past retention (and expired drafts) once a day, starting at launch.
/// Writes the audit entries of the cases received before today ([`Store::audit_intake`]) now
/// and then after every midnight in Vietnam, a random few minutes late so the moment says
/// nothing either.
async fn intake_batches(store: Store) {
    loop {
        match store.audit_intake(crate::clock::Day::today()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(entries = n, "audit entries of received cases written"),
            Err(e) => tracing::warn!(error = %e, "audit entries of received cases not written yet"),
        }
        let now = crate::clock::unix_now();
        let next_day = crate::clock::Day::from_unix(now).plus(1);
        let midnight = next_day.0 * 86_400 - 7 * 3600;
        let jitter = i64::from(crate::crypto::random_array::<2>()[0]) * 2;
        let wait = (midnight - now).max(60) + jitter;
        tokio::time::sleep(std::time::Duration::from_secs(
            u64::try_from(wait).unwrap_or(3600),
        ))
        .await;
    }
}

async fn daily_purge(store: Store, closed_case_days: i64) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(86_400));
    loop {
        tick.tick().await;
        match crate::review::server::run_purge(&store, closed_case_days, "retention").await {
            Ok(r) => tracing::info!(
                cases = r.cases.len(),
                drafts = r.drafts,
                "retention purge done"
            ),
            Err(e) => tracing::warn!(error = %e, "retention purge failed"),
        }
    }
}

fn keys(cmd: KeysCommand) -> anyhow::Result<()> {
    match cmd {
        KeysCommand::New {
            role,
            name,
            out,
            passphrase: p,
        } => {
            let pass = new_key_passphrase(&out, &p)?;
            let keys = keyfile::create(&out, role, &name, &pass, KdfParams::DEFAULT)?;
            say!(
                "Wrote the private key file {} (mode 0600). Keep it and its passphrase safe;",
                out.display()
            );
            say!("losing either means losing access to what is sealed to this key.\n");
            say!(
                "Public key for the keyring authority ({role}, key id {}):\n",
                keys.encryption.key_id()
            );
            say!("{}", keys.to_key_string());
            Ok(())
        }
        KeysCommand::Upgrade {
            file,
            out,
            passphrase: p,
        } => {
            let pass = passphrase(&p, false)?;
            let keys = keyfile::upgrade(&file, &out, &pass, KdfParams::DEFAULT)?;
            say!(
                "Wrote {} (mode 0600): the same encryption key (key id {}), and a signing key. Use it from now on; keep the old file until the keyring authority has signed the new string:\n",
                out.display(),
                keys.encryption.key_id()
            );
            say!("{}", keys.to_key_string());
            Ok(())
        }
        KeysCommand::Check {
            file,
            passphrase: p,
        } => {
            let pass = passphrase(&p, false)?;
            let kf = keyfile::load(&file, &pass)?;
            say!(
                "The passphrase opens {}: {} key of {}, key id {}.",
                file.display(),
                kf.role,
                kf.name,
                kf.public_key().key_id()
            );
            Ok(())
        }
        KeysCommand::ShowPublic { file } => {
            let (keys, name) = keyfile::read_public_keys(&file)?;
            say!("{}", keys.to_key_string());
            esay!(
                "({} key of {name}, key id {})",
                keys.role,
                keys.encryption.key_id()
            );
            if keys.verification.is_none() {
                esay!(
                    "This key file has no signing key: make a version 2 copy with `tipline keys upgrade {} --out NEW`.",
                    file.display()
                );
            }
            Ok(())
        }
    }
}

/// Creates `path` with `contents`, never over an existing file.
fn write_new_file(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .with_context(|| {
            format!(
                "creating {} (an existing file is never overwritten)",
                path.display()
            )
        })?;
    f.write_all(contents)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// `admin audit verify`: the whole log, hashes and signatures, against the configured
/// authority's keyring and the heads recorded before.
async fn audit_verify(store: &Store, config: &Config, head: Option<&str>) -> anyhow::Result<()> {
    use crate::trust::audit::{AuditHead, Keys, verify_log};
    let authorities = config.authorities()?;
    let ring = authorities
        .verify_chain(&crate::trust::stored_chain(store).await?)
        .context("the stored keyring chain does not verify, so no signature can be checked")?;
    let head_file = config.audit_head_file();
    let mut expected: Vec<AuditHead> = AuditHead::read(&head_file).into_iter().collect();
    if let Some(text) = head {
        expected.push(AuditHead::parse(text).with_context(|| {
            format!("--head {text:?}: expected N:HEX as this command prints it")
        })?);
    }
    let keys = Keys {
        authorities: &authorities,
        ring: &ring,
    };
    match verify_log(store, &keys, &expected).await? {
        Ok(report) => {
            let newest = expected.iter().map(|h| h.count).max().unwrap_or(0);
            if report.head.count >= newest {
                report.head.write(&head_file);
            }
            say!(
                "The audit log is intact: {} entries; {} signed act(s) verified against the signed keyring{}.",
                report.head.count,
                report.signed,
                report
                    .signed_from
                    .map(|s| format!(" (signatures from entry {s} on)"))
                    .unwrap_or_default()
            );
            say!(
                "Head {} — record it elsewhere; `tipline admin audit verify --head {}` later checks the log still holds it.",
                report.head.to_text(),
                report.head.to_text()
            );
            Ok(())
        }
        Err(e) => bail!("{e}; entries from there on cannot be trusted"),
    }
}

/// Verifies a signed keyring statement against the configured authority and the stored
/// chain, refuses one that would leave the hotline unable to seal or to disclose, and imports
/// it. `expect`: "add" or "retire" when the command names one.
async fn import_statement(
    store: &Store,
    config: &Config,
    path: &Path,
    expect: Option<&str>,
) -> anyhow::Result<()> {
    use crate::trust::{Op, SignedStatement, Statement};
    let authorities = config.authorities()?;
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the statement {}", path.display()))?;
    let signed = SignedStatement::from_file_text(&text)?;
    let ring = authorities
        .verify_chain(&crate::trust::stored_chain(store).await?)
        .context("the stored keyring chain does not verify; nothing was changed")?;
    let s = Statement::decode(&signed.body, ring.epoch + 1)?;
    match (&s.op, expect) {
        (Op::Add { .. }, Some("retire")) => {
            bail!(
                "{path:?} adds a key; use `admin recipients add --statement`; nothing was changed"
            )
        }
        (Op::Retire { .. }, Some("add")) => bail!(
            "{path:?} retires a key; use `admin recipients retire --statement`; nothing was changed"
        ),
        (Op::Approvals { .. }, Some(_)) => bail!(
            "{path:?} sets the number of approvals; use `admin keyring import`; nothing was changed"
        ),
        (Op::Approvals { required }, None) => {
            let custodians = ring.active(RecipientRole::Custodian).len();
            if usize::try_from(*required).unwrap_or(usize::MAX) > custodians {
                bail!(
                    "{path:?} requires {required} approvals, but the keyring has {custodians} active custodian key(s): \
                     no disclosure could ever be approved. Add custodians first; nothing was changed"
                );
            }
        }
        (Op::Retire { role, key }, _) => {
            // Never leave the hotline unable to seal a report, or disclosures unable to reach
            // the number of approvals they need: the replacement key comes first.
            let left = ring.active(*role).iter().filter(|k| *k != key).count();
            let approvals = config
                .approvals_required
                .max(i64::from(ring.threshold()))
                .max(1);
            let needed = match role {
                RecipientRole::Reviewer => 1,
                RecipientRole::Custodian => approvals as usize,
            };
            if left < needed {
                bail!(
                    "retiring {} would leave {left} active {role} key(s), and at least {needed} must stay \
                     (reports must be sealed; identities open only with {approvals} custodians' shares). Import the statement adding \
                     the replacement first (or, for a custodian, one lowering the approvals and re-share with `custodian rewrap`); \
                     nothing was changed",
                    key.key_id(),
                );
            }
        }
        _ => {}
    }
    let (s, after) = crate::trust::import(store, &authorities, &signed, "admin-cli")
        .await
        .context("the statement does not verify; nothing was changed")?;
    say!("Imported keyring statement {}.", s.describe());
    say!(
        "The signed keyring now has {} active reviewer key(s) and {} active custodian key(s).",
        after.active(RecipientRole::Reviewer).len(),
        after.active(RecipientRole::Custodian).len()
    );
    if matches!(s.op, Op::Retire { .. }) {
        say!(
            "New items are no longer sealed to it. Items sealed before stay readable with it until they are re-wrapped to the current keys (`tipline review rewrap`, `tipline custodian rewrap`)."
        );
    }
    Ok(())
}

/// `tipline authority …`: runs on the authority's own machine, with no database.
fn authority(cmd: AuthorityCommand) -> anyhow::Result<()> {
    use crate::crypto::sign;
    use crate::trust::{Authorities, Op, SignedStatement};
    match cmd {
        AuthorityCommand::New {
            name,
            out,
            passphrase: p,
        } => {
            let pass = new_key_passphrase(&out, &p)?;
            let public = sign::create_authority_file(&out, &name, &pass, KdfParams::DEFAULT)?;
            say!(
                "Wrote the keyring authority's key file {} (mode 0600). Keep it offline, with its passphrase, in the Inspectorate's safe.\n",
                out.display()
            );
            say!(
                "Authority key for every bot and client (TIPLINE_AUTHORITY, `review login --authority`):\n"
            );
            say!("{public}");
            Ok(())
        }
        AuthorityCommand::Show { file } => {
            let (name, public) = sign::read_authority_public(&file)?;
            say!("{public}");
            esay!("(keyring authority of {name})");
            Ok(())
        }
        AuthorityCommand::Sign {
            key,
            chain,
            also_trust,
            op,
            passphrase: p,
        } => {
            let (_, own) = sign::read_authority_public(&key)?;
            let mut list = vec![own.to_authority_string()];
            list.extend(also_trust);
            let authorities = Authorities::parse(&list.join(","), Some(1))?;
            let chain = match &chain {
                Some(path) => crate::trust::parse_chain_file(
                    &std::fs::read_to_string(path)
                        .with_context(|| format!("reading the chain {}", path.display()))?,
                )?,
                None => Vec::new(),
            };
            let ring = authorities
                .verify_chain(&chain)
                .context("the chain does not verify against this authority; nothing was signed")?;
            let (op, out) = match op {
                SignOp::Add {
                    role,
                    name,
                    public_key,
                    out,
                } => {
                    let keys = crate::crypto::RecipientKeys::parse(&public_key).context(
                        "the public key string is not valid: check that it was copied completely",
                    )?;
                    let (key_role, pk) = (keys.role, keys.encryption);
                    if key_role != role {
                        bail!(
                            "this is a {key_role} key, but --role says {role}; nothing was signed"
                        );
                    }
                    let Some(verify) = keys.verification else {
                        bail!(
                            "this key string has no verification key (a key file from before signing keys): \
                             its holder makes a new one with `tipline keys upgrade FILE --out NEW` and gives you \
                             the string it prints; nothing was signed"
                        );
                    };
                    pk.check_usable()
                        .context("this public key cannot be used; nothing was signed")?;
                    if ring.member(&pk).is_some() {
                        bail!(
                            "key {} is in the keyring already (a retired key never comes back); nothing was signed",
                            pk.key_id()
                        );
                    }
                    (
                        Op::Add {
                            role,
                            name,
                            key: pk,
                            verify,
                        },
                        out,
                    )
                }
                SignOp::Retire { public_key, out } => {
                    let keys = crate::crypto::RecipientKeys::parse(&public_key).context(
                        "the public key string is not valid: check that it was copied completely",
                    )?;
                    let (role, pk) = (keys.role, keys.encryption);
                    if !ring.member(&pk).is_some_and(|m| m.active && m.role == role) {
                        bail!(
                            "key {} is not an active {role} key in this chain; nothing was signed",
                            pk.key_id()
                        );
                    }
                    (Op::Retire { role, key: pk }, out)
                }
                SignOp::Approvals { required, out } => {
                    let custodians = ring.active(RecipientRole::Custodian).len();
                    if required == 0 || usize::try_from(required).unwrap_or(usize::MAX) > custodians
                    {
                        bail!(
                            "the chain has {custodians} active custodian key(s): a disclosure can require 1 to {custodians} approvals; nothing was signed"
                        );
                    }
                    (Op::Approvals { required }, out)
                }
            };
            if out.exists() {
                bail!("{} already exists; nothing was signed", out.display());
            }
            let statement = ring.next(op);
            let pass = passphrase(&p, false)?;
            let auth = sign::load_authority_file(&key, &pass)?;
            let signed = SignedStatement::sign(&statement, &auth.key);
            write_new_file(&out, signed.to_file_text().as_bytes())?;
            say!("Signed keyring statement {}.", statement.describe());
            say!(
                "Give {} to the administrator: `tipline admin {} {}`.",
                out.display(),
                match statement.op {
                    Op::Add { .. } => "recipients add --statement",
                    Op::Retire { .. } => "recipients retire --statement",
                    Op::Approvals { .. } => "keyring import",
                },
                out.display()
            );
            Ok(())
        }
        AuthorityCommand::Cosign {
            key,
            statement,
            out,
            passphrase: p,
        } => {
            let mut signed = SignedStatement::from_file_text(
                &std::fs::read_to_string(&statement)
                    .with_context(|| format!("reading {}", statement.display()))?,
            )?;
            let s = crate::trust::Statement::decode(&signed.body, 0)?;
            if out.exists() {
                bail!("{} already exists; nothing was signed", out.display());
            }
            let pass = passphrase(&p, false)?;
            let auth = sign::load_authority_file(&key, &pass)?;
            signed.cosign(&auth.key);
            write_new_file(&out, signed.to_file_text().as_bytes())?;
            say!("Co-signed keyring statement {}.", s.describe());
            Ok(())
        }
    }
}

async fn admin(cmd: AdminCommand, store: &Store, config: &Config) -> anyhow::Result<()> {
    match cmd {
        AdminCommand::Recipients(RecipientsCommand::Add { statement }) => {
            import_statement(store, config, &statement, Some("add")).await
        }
        AdminCommand::Recipients(RecipientsCommand::Retire { statement }) => {
            import_statement(store, config, &statement, Some("retire")).await
        }
        AdminCommand::Keyring(KeyringCommand::Import { statement }) => {
            import_statement(store, config, &statement, None).await
        }
        AdminCommand::Keyring(KeyringCommand::Export { out }) => {
            let chain = crate::trust::stored_chain(store).await?;
            write_new_file(&out, crate::trust::chain_file_text(&chain).as_bytes())?;
            say!(
                "Wrote the keyring chain ({} statement(s)) to {}. The authority checks it and signs the next statement with `tipline authority sign --chain {}`.",
                chain.len(),
                out.display(),
                out.display()
            );
            Ok(())
        }
        AdminCommand::Keyring(KeyringCommand::Verify) => {
            let authorities = config.authorities()?;
            let ring = authorities
                .verify_chain(&crate::trust::stored_chain(store).await?)
                .context("the stored keyring chain does not verify")?;
            say!(
                "The keyring chain verifies: {} statement(s) signed by the configured authority, head {}.",
                ring.epoch,
                hex::encode(ring.head)
            );
            say!(
                "A disclosure needs {} custodian approval(s) (the higher of the threshold k = {} {} and approvals_required {}); \
                 an identity opens only with the shares of {} custodian(s).",
                config
                    .approvals_required
                    .max(i64::from(ring.threshold()))
                    .max(1),
                ring.threshold(),
                if ring.approvals.is_some() {
                    "signed by the authority"
                } else {
                    "by default: 1 with one custodian, else 2"
                },
                config.approvals_required,
                ring.threshold()
            );
            for m in &ring.members {
                say!(
                    "{}  {:<9}  {:<8}  {}",
                    m.key.key_id(),
                    m.role,
                    if m.active { "active" } else { "retired" },
                    m.name
                );
            }
            Ok(())
        }
        AdminCommand::Recipients(RecipientsCommand::List) => {
            let list = store.recipients().await?;
            if list.is_empty() {
                say!("No recipient keys are registered.");
            }
            say!(
                "{:<16}  {:<9}  {:<8}  {:<10}  name",
                "key id",
                "role",
                "state",
                "added"
            );
            for r in list {
                let state = if r.active { "active" } else { "retired" };
                say!(
                    "{}  {:<9}  {:<8}  {:<10}  {}",
                    r.key_id,
                    r.role,
                    state,
                    r.added_day,
                    r.name
                );
            }
            let ring = store.keyring().await?;
            say!(
                "\nKeyring epoch {}: {} active reviewer key(s), {} active custodian key(s).",
                ring.epoch,
                ring.reviewers.len(),
                ring.custodians.len()
            );
            Ok(())
        }
        AdminCommand::Backup { out } => {
            let bytes = store.backup_sqlite(&out).await?;
            say!(
                "Wrote the backup {} ({bytes} bytes, mode 0600). It holds sealed items only; keep it\n\
                 as private as the database. The server secret and key files are not in it.",
                out.display()
            );
            Ok(())
        }
        AdminCommand::Audit(AuditCommand::Verify { head }) => {
            audit_verify(store, config, head.as_deref()).await
        }
        AdminCommand::Tokens(_) | AdminCommand::RotateServerSecret { .. } | AdminCommand::Purge => {
            bail!("this command needs the configuration; it is run from `run`")
        }
        AdminCommand::Audit(AuditCommand::Show { from, limit }) => {
            for r in store.audit_entries(from, limit).await? {
                let e = r.entry;
                say!(
                    "{:>6}  {}  {:<18}  {:<20}  {:<12}  {}",
                    r.seq,
                    e.day,
                    e.actor,
                    e.action,
                    e.case_code.unwrap_or_default(),
                    e.detail
                );
            }
            Ok(())
        }
    }
}
