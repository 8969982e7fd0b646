//! The real `tipline` binary as reviewer, custodian and administrator against the review API:
//! tokens, login (0600, no silent overwrite), queue, claim, show with Vietnamese intact,
//! attachments under neutral names without overwriting, reply, note, status errors, identity
//! request and approval, rewrap, server-secret rotation, purge, audit verify failing at an
//! altered row; and `tipline serve` answering on its review address.

use crate::common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::review::Api;
use tipline::attach::EvidenceFile;
use tipline::crypto::{ItemKind, Sealed};
use tipline::store::{NewItem, Store};

struct Env {
    dir: PathBuf,
}

impl Env {
    async fn run(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let dir = self.dir.clone();
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let stdin = stdin.map(str::to_owned);
        tokio::task::spawn_blocking(move || {
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_tipline"));
            cmd.args(&args)
                .env("TIPLINE_DATA_DIR", dir.join("data"))
                .env("TIPLINE_KEY_PASSPHRASE", "a long enough passphrase")
                .env_remove("TIPLINE_DATABASE_URL")
                .env_remove("TIPLINE_REVIEW_CONFIG")
                .env_remove("TIPLINE_REVIEW_TOKEN")
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .stdin(if stdin.is_some() {
                    Stdio::piped()
                } else {
                    Stdio::null()
                });
            let mut child = cmd.spawn().unwrap();
            if let Some(text) = stdin {
                use std::io::Write;
                child
                    .stdin
                    .take()
                    .unwrap()
                    .write_all(text.as_bytes())
                    .unwrap();
            }
            child.wait_with_output().unwrap()
        })
        .await
        .unwrap()
    }

    async fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args, None).await;
        assert!(o.status.success(), "{args:?}: {}", text(&o));
        String::from_utf8(o.stdout).unwrap()
    }
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

/// `keys new` through the binary; returns the key id.
async fn new_key(env: &Env, role: &str, name: &str, file: &Path) -> String {
    let pass = env.dir.join("pass");
    std::fs::write(&pass, "a long enough passphrase\n").unwrap();
    let out = env
        .ok(&[
            "keys",
            "new",
            "--role",
            role,
            "--name",
            name,
            "--out",
            file.to_str().unwrap(),
            "--passphrase-file",
            pass.to_str().unwrap(),
        ])
        .await;
    let key_string = out
        .lines()
        .find(|l| l.starts_with("tlrev2") || l.starts_with("tlcus2"))
        .unwrap()
        .to_owned();
    // The keyring authority (made once, pinned in the configuration) signs the key; the
    // administrator imports the statement.
    let auth = env.dir.join("authority.key");
    let (pass_s, auth_s) = (pass.to_str().unwrap(), auth.to_str().unwrap());
    if !auth.exists() {
        let out = env
            .ok(&[
                "authority",
                "new",
                "--name",
                "A",
                "--out",
                auth_s,
                "--passphrase-file",
                pass_s,
            ])
            .await;
        let pin = out.lines().find(|l| l.starts_with("tlauth1")).unwrap();
        let cfg = env.dir.join("data/tipline.toml");
        let text = std::fs::read_to_string(&cfg).unwrap();
        std::fs::write(
            &cfg,
            text.replace(
                "# authority = [\"tlauth1...\"]",
                &format!("authority = [\"{pin}\"]"),
            ),
        )
        .unwrap();
    }
    let chain = env.dir.join(format!("chain-{name}.json"));
    let stmt = env.dir.join(format!("statement-{name}.json"));
    env.ok(&[
        "admin",
        "keyring",
        "export",
        "--out",
        chain.to_str().unwrap(),
    ])
    .await;
    env.ok(&[
        "authority",
        "sign",
        "--key",
        auth_s,
        "--chain",
        chain.to_str().unwrap(),
        "--passphrase-file",
        pass_s,
        "add",
        "--role",
        role,
        "--name",
        name,
        "--public-key",
        &key_string,
        "--out",
        stmt.to_str().unwrap(),
    ])
    .await;
    let out = env
        .ok(&[
            "admin",
            "recipients",
            "add",
            "--statement",
            stmt.to_str().unwrap(),
        ])
        .await;
    let pk = tipline::crypto::RecipientKeys::parse(&key_string)
        .unwrap()
        .encryption;
    assert!(out.contains(&pk.key_id().to_string()));
    pk.key_id().to_string()
}

async fn issue(env: &Env, role: &str, key: Option<&str>) -> String {
    let mut args = vec![
        "admin",
        "tokens",
        "issue",
        "--role",
        role,
        "--expires",
        "1d",
    ];
    if let Some(k) = key {
        args.extend(["--recipient", k]);
    }
    let out = env.ok(&args).await;
    out.lines()
        .find(|l| l.starts_with("tlt_"))
        .unwrap()
        .to_owned()
}

async fn login(env: &Env, api: &Api, token: &str, key: &Path, config: &Path) -> Output {
    login_with(env, api, token, key, config, false).await
}

async fn login_with(
    env: &Env,
    api: &Api,
    token: &str,
    key: &Path,
    config: &Path,
    force: bool,
) -> Output {
    let token_file = env.dir.join(format!(
        "token-{}",
        config.file_name().unwrap().to_str().unwrap()
    ));
    std::fs::write(&token_file, token).unwrap();
    let authority = tipline::crypto::sign::read_authority_public(&env.dir.join("authority.key"))
        .unwrap()
        .1
        .to_authority_string();
    let mut args = vec![
        "review",
        "login",
        "--server",
        &api.url,
        "--key",
        key.to_str().unwrap(),
        "--token-file",
        token_file.to_str().unwrap(),
        "--client-config",
        config.to_str().unwrap(),
        "--authority",
        &authority,
    ];
    if force {
        args.push("--force");
    }
    env.run(&args, None).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reviewer_custodian_admin_through_the_binary() {
    let tmp = tempfile::tempdir().unwrap();
    let env = Env {
        dir: tmp.path().to_path_buf(),
    };
    env.ok(&["init"]).await;
    let rev_file = env.dir.join("reviewer.key");
    let cus_file = env.dir.join("custodian.key");
    let rev_id = new_key(&env, "reviewer", "Trần Văn Bình", &rev_file).await;
    let cus_id = new_key(&env, "custodian", "Lê Thị Hoa", &cus_file).await;

    let url = format!("sqlite:{}", env.dir.join("data/tipline.db").display());
    let store = Store::open(&url).await.unwrap();
    let case =
        common::review::submit(&store, "Cán bộ địa chính đòi 2 triệu đồng “bồi dưỡng”.").await;
    let code = case.code.as_str().to_owned();
    let ring = store.keyring().await.unwrap();
    let photo = EvidenceFile {
        name: "attachment-1.jpg".into(),
        format: "JPEG".into(),
        metadata_removed: true,
        note: "GPS position".into(),
        bytes: b"\xff\xd8\xff not really a jpeg".to_vec(),
    };
    let sealed = Sealed::seal(&photo, ItemKind::Attachment, &case.id, &ring.reviewers).unwrap();
    store
        .add_item(
            &case.id,
            &NewItem::from_bot(ItemKind::Attachment, sealed.into_bytes()),
            "bot",
        )
        .await
        .unwrap();
    let original = EvidenceFile {
        bytes: b"\xff\xd8\xff the original, GPS and all".to_vec(),
        metadata_removed: false,
        note: String::new(),
        name: photo.name.clone(),
        format: photo.format.clone(),
    };
    let sealed = Sealed::seal(
        &original,
        ItemKind::AttachmentOriginal,
        &case.id,
        &ring.custodians,
    )
    .unwrap();
    store
        .add_item(
            &case.id,
            &NewItem::from_bot(ItemKind::AttachmentOriginal, sealed.into_bytes()),
            "bot",
        )
        .await
        .unwrap();
    // The server pins the authority the key ceremony above made, as `serve` pins its
    // configured one.
    let pinned = tipline::crypto::sign::read_authority_public(&env.dir.join("authority.key"))
        .unwrap()
        .1;
    let api = Api::start_pinned(
        &store,
        1,
        tipline::review::auth::FailureLimiter::new(100_000),
        tipline::trust::Authorities::single(pinned),
    )
    .await;

    // Tokens: issued once, listed without the secret; a reviewer token needs a reviewer key.
    let rev_token = issue(&env, "reviewer", Some(&rev_id)).await;
    let cus_token = issue(&env, "custodian", Some(&cus_id)).await;
    let bad = env
        .run(
            &[
                "admin",
                "tokens",
                "issue",
                "--role",
                "reviewer",
                "--recipient",
                &cus_id,
            ],
            None,
        )
        .await;
    assert!(!bad.status.success() && text(&bad).contains("not an active reviewer key"));
    let list = env.ok(&["admin", "tokens", "list"]).await;
    assert!(!list.contains(&rev_token) && list.contains("reviewer") && list.contains("active"));

    // Login: 0600, checked against the key file, no silent overwrite.
    let rcfg = env.dir.join("reviewer.json");
    let ccfg = env.dir.join("custodian.json");
    let wrong = login(&env, &api, &cus_token, &rev_file, &rcfg).await;
    assert!(
        !wrong.status.success() && !rcfg.exists(),
        "{}",
        text(&wrong)
    );
    let o = login(&env, &api, &rev_token, &rev_file, &rcfg).await;
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(mode(&rcfg), 0o600);
    let again = login(&env, &api, &rev_token, &rev_file, &rcfg).await;
    assert!(!again.status.success() && text(&again).contains("--force"));
    let o = login(&env, &api, &cus_token, &cus_file, &ccfg).await;
    assert!(o.status.success(), "{}", text(&o));
    let r = |args: &[&str]| {
        let mut v = vec!["review", "--client-config", rcfg.to_str().unwrap()];
        v.extend_from_slice(args);
        v.into_iter().map(str::to_owned).collect::<Vec<_>>()
    };
    let run_r = |args: Vec<String>| {
        let env = &env;
        async move {
            let refs: Vec<&str> = args.iter().map(String::as_str).collect();
            env.run(&refs, None).await
        }
    };

    // Queue, claim, show.
    let o = run_r(r(&["queue"])).await;
    assert!(
        text(&o).contains(&code) && text(&o).contains("attachments"),
        "{}",
        text(&o)
    );
    let o = run_r(r(&["queue", "--json"])).await;
    let page: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(page["total"], 1);
    let o = run_r(r(&["claim"])).await;
    assert!(
        text(&o).contains(&format!("You hold case {code}")),
        "{}",
        text(&o)
    );
    let o = run_r(r(&["show", &code])).await;
    let shown = text(&o);
    assert!(o.status.success(), "{shown}");
    assert!(
        shown.contains("Cán bộ địa chính đòi 2 triệu đồng “bồi dưỡng”."),
        "{shown}"
    );
    assert!(
        shown.contains("attachment-1.jpg") && shown.contains("GPS position"),
        "{shown}"
    );

    // Attachments: written under the neutral name, never over an existing file.
    let out = env.dir.join("out");
    std::fs::create_dir(&out).unwrap();
    let o = run_r(r(&["attachments", &code, "--out", out.to_str().unwrap()])).await;
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        std::fs::read(out.join("attachment-1.jpg")).unwrap(),
        photo.bytes
    );
    let o = run_r(r(&["attachments", &code, "--out", out.to_str().unwrap()])).await;
    assert!(
        !o.status.success() && text(&o).contains("refusing to overwrite"),
        "{}",
        text(&o)
    );

    // Reply (argument), note (standard input), status with and without an outcome.
    let o = run_r(r(&[
        "reply",
        &code,
        "--message",
        "Ông/bà có giữ giấy hẹn không?",
    ]))
    .await;
    assert!(o.status.success(), "{}", text(&o));
    let mut note_args = r(&["note", &code]);
    note_args.push("--json".into());
    let refs: Vec<&str> = note_args.iter().map(String::as_str).collect();
    let o = env.run(&refs, Some("Đã gọi điện cho cơ quan.\n")).await;
    assert!(o.status.success(), "{}", text(&o));
    let o = run_r(r(&["status", &code, "closed"])).await;
    assert!(
        !o.status.success() && text(&o).contains("needs an outcome"),
        "{}",
        text(&o)
    );
    let o = run_r(r(&["status", &code, "new"])).await;
    assert!(
        !o.status.success() && text(&o).contains("cannot go from in_review to new"),
        "{}",
        text(&o)
    );
    let o = run_r(r(&["show", &code, "--json"])).await;
    let opened: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(opened["thread"][0]["text"], "Ông/bà có giữ giấy hẹn không?");
    assert_eq!(opened["thread"][1]["text"], "Đã gọi điện cho cơ quan.");

    // Identity: request, custodian approval re-seals it, the reviewer sees it.
    let o = run_r(r(&[
        "request-identity",
        &code,
        "--reason",
        "Cần xác minh nhân chứng",
    ]))
    .await;
    assert!(o.status.success(), "{}", text(&o));
    let c = |args: &[&str]| {
        let mut v = vec!["custodian", "--client-config", ccfg.to_str().unwrap()];
        v.extend_from_slice(args);
        v.into_iter().map(str::to_owned).collect::<Vec<_>>()
    };
    let o = run_r(c(&["requests"])).await;
    assert!(text(&o).contains("Cần xác minh nhân chứng"), "{}", text(&o));
    let o = run_r(c(&["approve", "1", "--reason", "Đồng ý", "--yes"])).await;
    assert!(
        text(&o).contains("re-sealed to reviewer key"),
        "{}",
        text(&o)
    );
    let o = run_r(r(&["requests"])).await;
    assert!(
        text(&o).contains("fulfilled") && text(&o).contains("Đồng ý"),
        "{}",
        text(&o)
    );
    let o = run_r(r(&["show", &code])).await;
    assert!(
        text(&o).contains("Name: Lan Trần") && text(&o).contains("@lan_tran"),
        "{}",
        text(&o)
    );

    // An approval written straight into the database, unsigned (a database writer's), approves
    // nothing: `custodian fulfil` refuses to re-seal the identity.
    let o = run_r(r(&["request-identity", &code, "--reason", "Lần hai"])).await;
    assert!(o.status.success(), "{}", text(&o));
    let cus_key = tipline::crypto::KeyId::parse(&cus_id).unwrap();
    assert_eq!(
        store
            .decide_disclosure(2, &cus_key, true, "ok", 1, None)
            .await
            .unwrap(),
        tipline::store::DisclosureStatus::Approved
    );
    // The clients see an approval in the audit log that no custodian signed and refuse to act
    // at all (every command checks the log); a custodian's `fulfil` would also find no valid
    // approval.
    let o = run_r(c(&["fulfil", "2"])).await;
    assert!(
        !o.status.success()
            && text(&o).contains("is a signed act but carries no signature")
            && text(&o).contains("nothing was done"),
        "{}",
        text(&o)
    );
    let o = run_r(r(&["queue"])).await;
    assert!(!o.status.success(), "{}", text(&o));
    // After the investigation both log in again, from the log as it now stands.
    assert!(
        login_with(&env, &api, &rev_token, &rev_file, &rcfg, true)
            .await
            .status
            .success()
    );
    assert!(
        login_with(&env, &api, &cus_token, &cus_file, &ccfg, true)
            .await
            .status
            .success()
    );
    let o = run_r(c(&["fulfil", "2"])).await;
    assert!(
        !o.status.success() && text(&o).contains("0 valid custodian approval(s)"),
        "{}",
        text(&o)
    );
    // A signed approval whose re-sealing did not happen (recorded straight in the store, as
    // when the custodian's upload failed) is finished with `custodian fulfil`, once.
    let second = common::review::submit(&store, "Một phản ánh khác.").await;
    let o = run_r(r(&[
        "request-identity",
        second.code.as_str(),
        "--reason",
        "Lần ba",
    ]))
    .await;
    assert!(o.status.success(), "{}", text(&o));
    let pass = secrecy::SecretString::from("a long enough passphrase");
    let signer = tipline::crypto::keyfile::load(&cus_file, &pass)
        .unwrap()
        .signing
        .unwrap();
    let requester = tipline::crypto::keyfile::read_public(&rev_file).unwrap().2;
    // Over the request's reason as stored (sealed by the reviewer's client).
    let stored_reason = store.disclosure_request(3).await.unwrap().reason;
    assert!(stored_reason.starts_with("sealed:"), "no reason in clear");
    let message = tipline::trust::approval_message(3, &second.id, &requester, &stored_reason);
    let sig = signer.sign(tipline::trust::APPROVAL_CONTEXT, &message);
    let cus_public = tipline::crypto::keyfile::read_public(&cus_file).unwrap().2;
    let proof = tipline::store::AuditProof::by_key(
        tipline::trust::APPROVAL_CONTEXT,
        message,
        *cus_public.as_bytes(),
        *sig.as_bytes(),
    );
    assert_eq!(
        store
            .decide_disclosure(3, &cus_key, true, "ok", 1, Some(&proof))
            .await
            .unwrap(),
        tipline::store::DisclosureStatus::Approved
    );
    let o = run_r(c(&["fulfil", "3"])).await;
    assert!(
        o.status.success() && text(&o).contains("re-sealed to reviewer key"),
        "{}",
        text(&o)
    );
    let o = run_r(c(&["fulfil", "3"])).await;
    assert!(
        !o.status.success() && text(&o).contains("is fulfilled"),
        "{}",
        text(&o)
    );

    // Text that would act on the terminal is shown, not obeyed.
    let o = env
        .run(
            &r(&["note", &code])
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
            Some("xoá màn hình\x1b[2J\x1b]0;title\x07 hết\n"),
        )
        .await;
    assert!(o.status.success(), "{}", text(&o));
    let o = run_r(r(&["show", &code])).await;
    let shown = String::from_utf8(o.stdout).unwrap();
    assert!(
        !shown.contains('\x1b') && !shown.contains('\x07'),
        "{shown:?}"
    );
    assert!(
        shown.contains("xoá màn hình\\u{001b}[2J\\u{001b}]0;title\\u{0007} hết"),
        "{shown}"
    );

    // The custodian saves the original; the reviewer's copy stays the cleaned one.
    let originals = env.dir.join("originals");
    std::fs::create_dir(&originals).unwrap();
    let o = run_r(c(&[
        "attachments",
        &code,
        "--out",
        originals.to_str().unwrap(),
    ]))
    .await;
    assert!(
        o.status.success() && text(&o).contains("the original"),
        "{}",
        text(&o)
    );
    assert_eq!(
        std::fs::read(originals.join("attachment-1.jpg")).unwrap(),
        original.bytes
    );

    // Rewrap with nothing to do; status close.
    let o = run_r(r(&["rewrap"])).await;
    assert!(text(&o).contains("Re-wrapped 0 item(s)"), "{}", text(&o));
    let o = run_r(r(&["status", &code, "closed", "--outcome", "referred"])).await;
    assert!(o.status.success(), "{}", text(&o));

    // Server secret rotation keeps the previous version; the file stays private.
    let secret = env.dir.join("data/server-secret");
    let before = tipline::crypto::ServerSecret::load(&secret).unwrap();
    let o = env.ok(&["admin", "rotate-server-secret"]).await;
    assert!(o.contains("version 2"), "{o}");
    let after = tipline::crypto::ServerSecret::load(&secret).unwrap();
    assert_eq!(after.versions_newest_first(), vec![2, 1]);
    assert_eq!(after.pseudonym_with(1, 7), Some(before.pseudonym(7)));
    assert_eq!(mode(&secret), 0o600);
    env.ok(&["admin", "rotate-server-secret"]).await;
    assert_eq!(
        tipline::crypto::ServerSecret::load(&secret)
            .unwrap()
            .versions_newest_first(),
        vec![3, 2]
    );

    // Purge (nothing old enough), revoke, audit verify, then one altered row.
    let o = env.ok(&["admin", "purge"]).await;
    assert!(o.contains("Purged 0 closed case(s)"), "{o}");
    let id = store
        .tokens()
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.key_id.map(|k| k.to_string()) == Some(rev_id.clone()))
        .unwrap()
        .id;
    env.ok(&["admin", "tokens", "revoke", &id]).await;
    let o = run_r(r(&["queue"])).await;
    assert!(
        !o.status.success() && text(&o).contains("401"),
        "{}",
        text(&o)
    );
    // The hashes all link, but the approval the test wrote straight into the store as a
    // database writer would, with no signature, is named.
    let o = env.run(&["admin", "audit", "verify"], None).await;
    assert!(
        !o.status.success()
            && text(&o).contains("(disclosure.decide) is a signed act but carries no signature"),
        "{}",
        text(&o)
    );
    let shown = env.ok(&["admin", "audit", "show"]).await;
    assert!(shown.contains("disclosure.fulfil") && !shown.contains("Cần xác minh"));
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    sqlx::query("UPDATE audit_log SET actor = 'someone else' WHERE seq = 7")
        .execute(&pool)
        .await
        .unwrap();
    let o = env.run(&["admin", "audit", "verify"], None).await;
    assert!(
        !o.status.success() && text(&o).contains("broken at entry 7"),
        "{}",
        text(&o)
    );
    pool.close().await;
    api.stop().await;
}

struct Guard(std::process::Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_answers_on_the_review_address() {
    let tmp = tempfile::tempdir().unwrap();
    let env = Env {
        dir: tmp.path().to_path_buf(),
    };
    env.ok(&["init"]).await;
    new_key(&env, "reviewer", "R", &env.dir.join("r.key")).await;
    new_key(&env, "custodian", "C", &env.dir.join("c.key")).await;
    let sim = tipline::sim::Simulator::start().await.unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let _child = Guard(
        Command::new(env!("CARGO_BIN_EXE_tipline"))
            .arg("serve")
            .env("TIPLINE_DATA_DIR", env.dir.join("data"))
            .env("TELEGRAM_BOT_TOKEN", sim.token())
            .env("TELEGRAM_API_URL", sim.api_url())
            .env("TIPLINE_REVIEW_LISTEN", format!("127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let http = reqwest::Client::new();
    let mut answer = None;
    for _ in 0..100 {
        if let Ok(r) = http
            .get(format!("http://127.0.0.1:{port}/api/v1/whoami"))
            .send()
            .await
        {
            answer = Some(r.status());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(answer, Some(reqwest::StatusCode::UNAUTHORIZED));
}
