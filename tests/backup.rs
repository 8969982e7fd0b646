//! `tipline admin backup`: an online copy of the SQLite database, taken while cases keep
//! arriving, created 0600, never over an existing file or through a planted symlink, and
//! leaving no temporary file behind; wiping the database and restoring the copy leaves every
//! case in it readable by the reviewer through the review API (the backup holds the sealed
//! items, so it inherits their protection) and the audit log intact by `tipline admin audit
//! verify`.

use crate::common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tipline::crypto::{RecipientRole, suite};
use tipline::store::{Store, TokenRole};

fn tipline(data: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tipline"))
        .args(args)
        .env("TIPLINE_DATA_DIR", data)
        .env("TIPLINE_AUTHORITY", common::authority_pin())
        .env_remove("TIPLINE_DATABASE_URL")
        .output()
        .unwrap()
}

fn story(i: usize) -> String {
    format!("report number {i}: the canary story")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_during_writes_wipe_restore_and_the_reviewer_opens_every_case() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let o = tipline(&data, &["init"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let url = format!("sqlite:{}", data.join("tipline.db").display());
    let store = Store::open(&url).await.unwrap();
    let reviewer = suite::generate_keypair();
    store
        .add_recipient(&reviewer.1, RecipientRole::Reviewer, "R", "test")
        .await
        .unwrap();
    store
        .add_recipient(
            &suite::generate_keypair().1,
            RecipientRole::Custodian,
            "C",
            "test",
        )
        .await
        .unwrap();
    let mut made = Vec::new();
    for i in 0..6 {
        made.push((
            common::review::submit(&store, &story(i)).await.code,
            story(i),
        ));
    }

    // Online, under writes: reports keep arriving (as the bot would submit them) while the
    // backup runs in another process.
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (store, stop) = (store.clone(), stop.clone());
        tokio::spawn(async move {
            let mut more = Vec::new();
            let mut i = 6;
            while !stop.load(Ordering::Relaxed) || more.len() < 3 {
                more.push((
                    common::review::submit(&store, &story(i)).await.code,
                    story(i),
                ));
                i += 1;
            }
            more
        })
    };
    let backup = tmp.path().join("tipline-backup.db");
    let o = {
        let (data, backup) = (data.clone(), backup.clone());
        tokio::task::spawn_blocking(move || {
            tipline(
                &data,
                &["admin", "backup", "--out", backup.to_str().unwrap()],
            )
        })
        .await
        .unwrap()
    };
    stop.store(true, Ordering::Relaxed);
    let during = writer.await.unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mode = std::fs::metadata(&backup).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "backup mode {mode:o}");
    let bytes = std::fs::read(&backup).unwrap();
    assert!(bytes.starts_with(b"SQLite format 3\0"));
    // Sealed: the plaintext is nowhere in the copy.
    assert!(!bytes.windows(12).any(|w| w == b"canary story"));
    // Nothing left behind next to it (the private working directory is gone).
    let names: Vec<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().all(|n| !n.starts_with(".tipline-backup")),
        "{names:?}"
    );

    // Never over an existing file, nor through a symlink planted where the backup goes.
    let o = tipline(
        &data,
        &["admin", "backup", "--out", backup.to_str().unwrap()],
    );
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("exists already"));
    assert_eq!(
        std::fs::read(&backup).unwrap(),
        bytes,
        "the backup was changed"
    );
    let victim = tmp.path().join("victim");
    std::fs::write(&victim, b"keep me").unwrap();
    let planted = tmp.path().join("planted.db");
    std::os::unix::fs::symlink(&victim, &planted).unwrap();
    let o = tipline(
        &data,
        &["admin", "backup", "--out", planted.to_str().unwrap()],
    );
    assert!(!o.status.success());
    assert_eq!(std::fs::read(&victim).unwrap(), b"keep me");

    // Wipe the database, restore the copy.
    store.close().await;
    for suffix in ["", "-wal", "-shm"] {
        let p = data.join(format!("tipline.db{suffix}"));
        if p.exists() {
            std::fs::remove_file(&p).unwrap();
        }
    }
    assert!(!data.join("tipline.db").exists());
    std::fs::copy(&backup, data.join("tipline.db")).unwrap();
    std::fs::set_permissions(
        data.join("tipline.db"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();

    let o = tipline(&data, &["admin", "audit", "verify"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("intact"));
    let restored = Store::open(&url).await.unwrap();
    assert!(restored.migrations_current().await.unwrap());
    let total: i64 = restored
        .case_counts()
        .await
        .unwrap()
        .iter()
        .map(|(_, n)| n)
        .sum();
    // One snapshot: every case from before the backup, and a prefix of those written during it.
    let mut present = made.clone();
    let mut missing_seen = false;
    for (code, text) in &during {
        match restored.case_by_code(code).await {
            Ok(_) => {
                assert!(!missing_seen, "the snapshot is not a prefix of the writes");
                present.push((code.clone(), text.clone()));
            }
            Err(tipline::store::StoreError::NotFound) => missing_seen = true,
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(total, present.len() as i64);
    eprintln!(
        "backup holds {} cases; {} were written during it",
        present.len(),
        during.len()
    );

    // The reviewer opens every case of the restored database through the review API.
    let api = common::review::Api::start(&restored, 1).await;
    let token = common::review::token(
        &restored,
        TokenRole::Reviewer,
        Some(reviewer.1.key_id()),
        3600,
    )
    .await;
    let client = api.client(&token);
    for (code, text) in &present {
        let opened = tipline::review::client::open_case(&client, &reviewer.0, code.as_str())
            .await
            .expect("the reviewer opens the restored case");
        assert_eq!(opened.unreadable, 0);
        assert_eq!(&opened.summary.expect("a summary").story, text);
    }
    api.stop().await;
    restored.close().await;
}

#[tokio::test]
async fn backup_refuses_postgres_and_points_to_pg_dump() {
    let Some(db) = common::PgDatabase::create("backup_refuses_postgres").await else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("x.db");
    let o = Command::new(env!("CARGO_BIN_EXE_tipline"))
        .args(["admin", "backup", "--out", out.to_str().unwrap()])
        .env("TIPLINE_DATA_DIR", tmp.path())
        .env("TIPLINE_DATABASE_URL", &db.url)
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("pg_dump"));
    assert!(!out.exists());
    db.drop_database().await;
}
