//! The real `tipline` binary: init, key files, recipients, audit.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

fn tipline(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tipline"))
        .args(args)
        .env("TIPLINE_DATA_DIR", dir.join("data"))
        .env_remove("TIPLINE_KEY_PASSPHRASE")
        .env_remove("TIPLINE_DATABASE_URL")
        .output()
        .unwrap()
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

#[test]
fn init_keys_recipients_audit() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();

    // init makes a private data dir, a 0600 secret, a config file and the database; twice is harmless.
    let o = tipline(d, &["init"]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(mode(&d.join("data")), 0o700);
    assert_eq!(mode(&d.join("data/server-secret")), 0o600);
    assert!(d.join("data/tipline.toml").exists());
    assert!(d.join("data/tipline.db").exists());
    let secret_before = std::fs::read(d.join("data/server-secret")).unwrap();
    let o = tipline(d, &["init"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("Kept the existing server secret"));
    assert_eq!(
        std::fs::read(d.join("data/server-secret")).unwrap(),
        secret_before
    );

    // keys new: 0600, prints a key string; a second run on the same path refuses and changes nothing.
    let pass = d.join("pass");
    std::fs::write(&pass, "a long enough passphrase\n").unwrap();
    let key = d.join("reviewer.key");
    let pass_s = pass.to_str().unwrap();
    let key_s = key.to_str().unwrap();
    let new_key = |name: &str, out: &str| {
        tipline(
            d,
            &[
                "keys",
                "new",
                "--role",
                "reviewer",
                "--name",
                name,
                "--out",
                out,
                "--passphrase-file",
                pass_s,
            ],
        )
    };
    let key_string_of = |o: &std::process::Output| {
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .find(|l| l.starts_with("tlrev2"))
            .unwrap()
            .to_owned()
    };
    let o = new_key("Trần Văn Bình", key_s);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(mode(&key), 0o600);
    let key_string = key_string_of(&o);
    let before = std::fs::read(&key).unwrap();
    let o = new_key("X", key_s);
    assert!(!o.status.success());
    assert!(text(&o).contains("already exists"), "{}", text(&o));
    assert_eq!(std::fs::read(&key).unwrap(), before);

    // show-public prints the same string; check opens with the right passphrase only.
    let o = tipline(d, &["keys", "show-public", key_s]);
    assert_eq!(String::from_utf8(o.stdout).unwrap().trim(), key_string);
    let o = tipline(d, &["keys", "check", key_s, "--passphrase-file", pass_s]);
    assert!(o.status.success(), "{}", text(&o));
    let wrong = d.join("wrong");
    std::fs::write(&wrong, "not the passphrase\n").unwrap();
    let o = tipline(
        d,
        &[
            "keys",
            "check",
            key_s,
            "--passphrase-file",
            wrong.to_str().unwrap(),
        ],
    );
    assert!(!o.status.success());
    let t = text(&o);
    assert!(t.contains("wrong passphrase"), "{t}");
    assert!(!t.contains("panicked"), "{t}");

    // A new key file's passphrase has at least 12 characters, from a file too.
    let short = d.join("short");
    std::fs::write(&short, "abc\n").unwrap();
    for args in [
        &["keys", "new", "--role", "reviewer", "--name", "S", "--out"][..],
        &["authority", "new", "--name", "S", "--out"][..],
    ] {
        let out = d.join("short.key");
        let mut a = args.to_vec();
        a.extend_from_slice(&[
            out.to_str().unwrap(),
            "--passphrase-file",
            short.to_str().unwrap(),
        ]);
        let o = tipline(d, &a);
        assert!(!o.status.success());
        assert!(text(&o).contains("too short"), "{}", text(&o));
        assert!(!out.exists(), "nothing was written");
    }

    // Without a configured authority nothing can be registered.
    let o = tipline(d, &["admin", "keyring", "verify"]);
    assert!(!o.status.success());
    assert!(text(&o).contains("TIPLINE_AUTHORITY"), "{}", text(&o));

    // The keyring authority's key, on its own machine: 0600, never overwritten, a tlauth1 string.
    let auth = d.join("authority.key");
    let auth_s = auth.to_str().unwrap();
    let o = tipline(
        d,
        &[
            "authority",
            "new",
            "--name",
            "Chánh Thanh tra",
            "--out",
            auth_s,
            "--passphrase-file",
            pass_s,
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(mode(&auth), 0o600);
    let pin = String::from_utf8_lossy(&o.stdout)
        .lines()
        .find(|l| l.starts_with("tlauth1"))
        .unwrap()
        .to_owned();
    let o = tipline(d, &["authority", "show", auth_s]);
    assert_eq!(String::from_utf8(o.stdout).unwrap().trim(), pin);
    // The administrator pins it in the configuration (the database cannot change it).
    let cfg = d.join("data/tipline.toml");
    let text_cfg = std::fs::read_to_string(&cfg).unwrap();
    assert!(text_cfg.contains("# authority = [\"tlauth1...\"]"));
    std::fs::write(
        &cfg,
        text_cfg.replace(
            "# authority = [\"tlauth1...\"]",
            &format!("authority = [\"{pin}\"]"),
        ),
    )
    .unwrap();

    // One round of the ceremony: export the chain, the authority signs, the admin imports.
    let round = |n: usize, op: &[&str]| -> Output {
        let chain = d.join(format!("chain-{n}.json"));
        let stmt = d.join(format!("statement-{n}.json"));
        let o = tipline(
            d,
            &[
                "admin",
                "keyring",
                "export",
                "--out",
                chain.to_str().unwrap(),
            ],
        );
        assert!(o.status.success(), "{}", text(&o));
        let mut args = vec![
            "authority",
            "sign",
            "--key",
            auth_s,
            "--chain",
            chain.to_str().unwrap(),
            "--passphrase-file",
            pass_s,
        ];
        args.extend_from_slice(op);
        args.extend_from_slice(&["--out", stmt.to_str().unwrap()]);
        let o = tipline(d, &args);
        if !o.status.success() {
            return o;
        }
        let import: &[&str] = match op[0] {
            "add" => &["admin", "recipients", "add", "--statement"],
            "retire" => &["admin", "recipients", "retire", "--statement"],
            _ => &["admin", "keyring", "import"],
        };
        tipline(d, &[import, &[stmt.to_str().unwrap()]].concat())
    };
    let add = |n: usize, role: &str, name: &str, key: &str| {
        round(
            n,
            &["add", "--role", role, "--name", name, "--public-key", key],
        )
    };
    // A typo is caught; the role must match.
    let mut typo = key_string.clone();
    let last = typo.pop().unwrap();
    typo.push(if last == 'a' { 'b' } else { 'a' });
    let o = add(1, "reviewer", "B", &typo);
    assert!(!o.status.success());
    assert!(text(&o).contains("not valid"), "{}", text(&o));
    let o = add(2, "custodian", "B", &key_string);
    assert!(!o.status.success());
    assert!(text(&o).contains("reviewer key"), "{}", text(&o));
    let o = add(3, "reviewer", "Trần Văn Bình", &key_string);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("1 active reviewer key"), "{}", text(&o));
    // A second addition of the same key is refused by the authority; importing the same
    // statement again is refused by the chain.
    let o = add(4, "reviewer", "B", &key_string);
    assert!(!o.status.success());
    assert!(text(&o).contains("in the keyring already"), "{}", text(&o));
    let o = tipline(
        d,
        &[
            "admin",
            "recipients",
            "add",
            "--statement",
            d.join("statement-3.json").to_str().unwrap(),
        ],
    );
    assert!(!o.status.success());
    assert!(text(&o).contains("nothing was changed"), "{}", text(&o));
    // A statement signed by another authority is refused.
    let rogue = d.join("rogue.key");
    let o = tipline(
        d,
        &[
            "authority",
            "new",
            "--name",
            "Mallory",
            "--out",
            rogue.to_str().unwrap(),
            "--passphrase-file",
            pass_s,
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = tipline(
        d,
        &[
            "admin",
            "keyring",
            "export",
            "--out",
            d.join("chain-r.json").to_str().unwrap(),
        ],
    );
    assert!(o.status.success());
    let other = d.join("other.key");
    let o = new_key("Mallory", other.to_str().unwrap());
    let other_string = key_string_of(&o);
    let o = tipline(
        d,
        &[
            "authority",
            "sign",
            "--key",
            rogue.to_str().unwrap(),
            "--also-trust",
            &pin,
            "--chain",
            d.join("chain-r.json").to_str().unwrap(),
            "--passphrase-file",
            pass_s,
            "add",
            "--role",
            "reviewer",
            "--name",
            "Mallory",
            "--public-key",
            &other_string,
            "--out",
            d.join("rogue.json").to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = tipline(
        d,
        &[
            "admin",
            "recipients",
            "add",
            "--statement",
            d.join("rogue.json").to_str().unwrap(),
        ],
    );
    assert!(!o.status.success());
    assert!(
        text(&o).contains("not signed by the keyring authority"),
        "{}",
        text(&o)
    );

    let o = tipline(d, &["admin", "recipients", "list"]);
    let t = text(&o);
    assert!(t.contains("Trần Văn Bình") && t.contains("active"), "{t}");
    assert!(!t.contains("Mallory"), "{t}");
    let o = tipline(d, &["admin", "keyring", "verify"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("1 statement(s)"), "{}", text(&o));

    // The only reviewer key is not retired: no report could be sealed. A replacement first.
    let o = round(5, &["retire", "--public-key", &key_string]);
    assert!(!o.status.success());
    assert!(
        text(&o).contains("would leave 0 active reviewer")
            && text(&o).contains("nothing was changed"),
        "{}",
        text(&o)
    );
    let second = d.join("second.key");
    let o = new_key("Lê Thị Cúc", second.to_str().unwrap());
    assert!(o.status.success(), "{}", text(&o));
    let second_string = key_string_of(&o);
    let o = add(6, "reviewer", "Lê Thị Cúc", &second_string);
    assert!(o.status.success(), "{}", text(&o));
    let o = round(7, &["retire", "--public-key", &key_string]);
    assert!(o.status.success(), "{}", text(&o));
    let o = round(8, &["retire", "--public-key", &key_string]);
    assert!(!o.status.success());
    let o = tipline(d, &["admin", "audit", "verify"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("intact: 3 entries"), "{}", text(&o));
    let o = tipline(d, &["admin", "audit", "show"]);
    assert!(text(&o).contains("keyring.statement"));

    // How many custodians must approve is the authority's to sign: never more than there are.
    let o = round(9, &["approvals", "--required", "1"]);
    assert!(
        !o.status.success() && text(&o).contains("0 active custodian key(s)"),
        "{}",
        text(&o)
    );
    let cus = d.join("custodian.key");
    let o = tipline(
        d,
        &[
            "keys",
            "new",
            "--role",
            "custodian",
            "--name",
            "Phạm Thu",
            "--out",
            cus.to_str().unwrap(),
            "--passphrase-file",
            pass_s,
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let cus_string = String::from_utf8_lossy(&o.stdout)
        .lines()
        .find(|l| l.starts_with("tlcus2"))
        .unwrap()
        .to_owned();
    assert!(
        add(10, "custodian", "Phạm Thu", &cus_string)
            .status
            .success()
    );
    let o = round(11, &["approvals", "--required", "2"]);
    assert!(
        !o.status.success() && text(&o).contains("1 approvals"),
        "{}",
        text(&o)
    );
    let o = round(12, &["approvals", "--required", "1"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("require 1 custodian approval(s)"),
        "{}",
        text(&o)
    );
    let o = tipline(d, &["admin", "keyring", "verify"]);
    assert!(
        text(&o).contains("A disclosure needs 1 custodian approval(s)"),
        "{}",
        text(&o)
    );
    let o = tipline(d, &["admin", "audit", "verify"]);
    assert!(
        text(&o).contains("intact: 5 entries; 5 signed act(s)"),
        "{}",
        text(&o)
    );
}

#[test]
fn bad_config_names_the_setting() {
    let tmp = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_tipline"))
        .args(["admin", "recipients", "list"])
        .env("TIPLINE_DATA_DIR", tmp.path())
        .env("TIPLINE_REVIEW_LISTEN", "everywhere")
        .output()
        .unwrap();
    assert!(!o.status.success());
    let t = text(&o);
    assert!(t.contains("review.listen"), "{t}");
    assert_eq!(t.trim().lines().count(), 1, "one clear sentence: {t}");
}

#[test]
fn demo_runs_the_whole_pipeline_offline() {
    // What a newcomer runs first (README): no token, no network, no data directory.
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tipline"))
        .arg("demo")
        .current_dir(dir.path())
        .env_remove("TIPLINE_DATA_DIR")
        .env_remove("TELEGRAM_BOT_TOKEN")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for expected in [
        "What the citizen sees in Telegram",
        "Đồng ý",
        "✅ Đã gửi phản ánh",
        "What the Inspectorate receives",
        "Đây đúng là bản Thanh tra sẽ nhận",
        "Mã tra cứu bí mật",
        "(ghi là: \"văn phòng đăng ký đất đai\")",
        "The reviewer key cannot open it",
    ] {
        assert!(
            stdout.contains(expected),
            "demo output lacks {expected:?}:\n{stdout}"
        );
    }
    assert!(!stdout.contains("COULD open it"));
    // It leaves nothing behind in the working directory.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}
