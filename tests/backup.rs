//! `tipline admin backup`: an online copy of the SQLite database, created 0600, never over an
//! existing file; wiping the database and restoring the copy leaves every case readable by the
//! reviewer (the backup holds the sealed items, so it inherits their protection).

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use tipline::crypto::keyfile::KdfParams;
use tipline::crypto::{ItemKind, Receipt, RecipientRole, Sealed, suite};
use tipline::ids::{CaseCode, CaseId};
use tipline::store::{NewCase, NewItem, Store};

fn tipline(data: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tipline"))
        .args(args)
        .env("TIPLINE_DATA_DIR", data)
        .env_remove("TIPLINE_DATABASE_URL")
        .output()
        .unwrap()
}

#[tokio::test]
async fn backup_wipe_restore_and_the_reviewer_opens_every_case() {
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
    let ring = store.keyring().await.unwrap();
    let mut made: Vec<(CaseCode, Vec<u8>)> = Vec::new();
    for i in 0..6 {
        let id = CaseId::random();
        let text = format!("report number {i}: the canary story").into_bytes();
        let summary = Sealed::seal(&text, ItemKind::Summary, &id, &ring.reviewers).unwrap();
        let identity =
            Sealed::seal(&b"who".to_vec(), ItemKind::Identity, &id, &ring.custodians).unwrap();
        let keys = Receipt::generate()
            .derive_blocking(KdfParams::INSECURE_FOR_TESTS)
            .unwrap();
        let code = store
            .submit_case(&NewCase {
                id,
                category: "bribery".into(),
                epoch: ring.epoch,
                items: vec![
                    NewItem::from_bot(ItemKind::Summary, summary.into_bytes()),
                    NewItem::from_bot(ItemKind::Identity, identity.into_bytes()),
                ],
                lookup_id: keys.lookup_id,
                mailbox_public: keys.mailbox_public,
            })
            .await
            .unwrap();
        made.push((code, text));
    }

    // Online: the store above stays open (as the service would) while the backup runs.
    let backup = tmp.path().join("tipline-backup.db");
    let o = tipline(
        &data,
        &["admin", "backup", "--out", backup.to_str().unwrap()],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mode = std::fs::metadata(&backup).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "backup mode {mode:o}");
    let bytes = std::fs::read(&backup).unwrap();
    assert!(bytes.starts_with(b"SQLite format 3\0"));
    // Sealed: the plaintext is nowhere in the copy.
    assert!(!bytes.windows(12).any(|w| w == b"canary story"));

    // Never over an existing file.
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

    let restored = Store::open(&url).await.unwrap();
    assert!(restored.migrations_current().await.unwrap());
    let total: i64 = restored
        .case_counts()
        .await
        .unwrap()
        .iter()
        .map(|(_, n)| n)
        .sum();
    assert_eq!(total, made.len() as i64);
    for (code, text) in &made {
        let case = restored.case_by_code(code).await.unwrap();
        let items = restored.items(&case.id).await.unwrap();
        let item = items.iter().find(|i| i.kind == ItemKind::Summary).unwrap();
        let sealed: Sealed<Vec<u8>> = Sealed::from_bytes(item.blob.clone());
        let opened = sealed
            .open(ItemKind::Summary, &case.id, &reviewer.0)
            .expect("the reviewer opens the restored case");
        assert_eq!(&opened, text);
    }
    assert!(restored.audit_verify().await.unwrap().is_ok());
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
