//! deploy/: the systemd unit passes `systemd-analyze verify` and scores as well hardened under
//! `systemd-analyze security --offline`, and the environment it gives the service (credentials
//! as systemd hands them over, no config file) is enough for tipline to run; the compose file
//! validates with `docker compose config` (or the older `docker-compose config`). Each tool
//! part skips loudly when its tool is missing (and fails under CI, which installs them).

use crate::common;

use std::path::Path;
use std::process::Command;

fn repo(path: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn have(cmd: &str, args: &[&str]) -> bool {
    Command::new(cmd)
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn systemd_unit_verifies_and_is_hardened() {
    let unit = std::fs::read_to_string(repo("deploy/systemd/tipline.service")).unwrap();
    // What the issue asks of the unit, whatever the tools say.
    for line in [
        "DynamicUser=yes",
        "StateDirectory=tipline",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "PrivateTmp=yes",
        "NoNewPrivileges=yes",
        "MemoryDenyWriteExecute=yes",
        "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
        "SystemCallFilter=@system-service",
        "LoadCredential=server-secret:",
        "PrivateMounts=yes",
    ] {
        assert!(unit.lines().any(|l| l.starts_with(line)), "missing {line}");
    }
    // A config file the runbook does not create must not be required, and a directory only
    // root can read is of no use to a DynamicUser service.
    assert!(
        !unit.contains("TIPLINE_CONFIG="),
        "the unit requires a config file"
    );
    assert!(!unit.contains("ConfigurationDirectory"));
    assert!(unit.lines().any(|l| l.trim() == "CapabilityBoundingSet="));
    if !have("systemd-analyze", &["--version"]) {
        common::skipped(
            "systemd_unit_verifies_and_is_hardened (tools part)",
            "systemd-analyze is not installed (apt-get install systemd)",
        );
        return;
    }
    // verify insists that ExecStart exists: point it at the binary under test.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tipline.service");
    std::fs::write(
        &path,
        unit.replace("/usr/local/bin/tipline", env!("CARGO_BIN_EXE_tipline")),
    )
    .unwrap();
    let o = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&path)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "systemd-analyze verify: {err}");
    assert!(
        err.trim().is_empty(),
        "systemd-analyze verify warned: {err}"
    );

    let o = Command::new("systemd-analyze")
        .args(["security", "--offline=yes"])
        .arg(&path)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    let score: f64 = out
        .lines()
        .find_map(|l| l.split_once("Overall exposure level for tipline.service: "))
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no score in: {out}{}", String::from_utf8_lossy(&o.stderr)));
    eprintln!("systemd-analyze security: exposure {score} (0 = best, 10 = worst)");
    // deploy/README.md records 1.1 for the unit as shipped.
    assert!(score <= 1.1, "exposure {score}:\n{out}");
}

/// `KEY=VALUE` pairs of the unit's `Environment=` lines, and the ids of its `LoadCredential=`.
fn unit_environment(unit: &str) -> (Vec<(String, String)>, Vec<String>) {
    let mut env = Vec::new();
    let mut creds = Vec::new();
    for line in unit.lines() {
        if let Some(kv) = line.strip_prefix("Environment=") {
            let (k, v) = kv.split_once('=').expect("Environment=KEY=VALUE");
            env.push((k.to_owned(), v.to_owned()));
        } else if let Some(c) = line.strip_prefix("LoadCredential=") {
            creds.push(
                c.split_once(':')
                    .expect("LoadCredential=ID:PATH")
                    .0
                    .to_owned(),
            );
        }
    }
    (env, creds)
}

#[test]
fn systemd_unit_environment_is_enough_to_run() {
    let unit = std::fs::read_to_string(repo("deploy/systemd/tipline.service")).unwrap();
    let (env, creds) = unit_environment(&unit);
    let tmp = tempfile::tempdir().unwrap();
    // StateDirectory=tipline is /var/lib/tipline; %d is the credentials directory.
    let state = tmp.path().join("state");
    let creds_dir = tmp.path().join("credentials");
    std::fs::create_dir(&creds_dir).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_tipline"))
        .arg("init")
        .env_clear()
        .env("TIPLINE_DATA_DIR", &state)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let db = format!("sqlite:{}", state.join("tipline.db").display());
    let secret = std::fs::read_to_string(state.join("server-secret")).unwrap();
    for id in &creds {
        let text = match id.as_str() {
            "server-secret" => secret.clone(),
            "database-url" => db.clone(),
            "telegram-bot-token" => "123456:unit-test-token".to_owned(),
            "webhook-secret" => "w".repeat(40),
            other => panic!("unexpected credential {other}"),
        };
        std::fs::write(creds_dir.join(id), text).unwrap();
    }
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tipline"));
    cmd.args(["admin", "recipients", "list"]).env_clear();
    for (k, v) in &env {
        let v = v
            .replace("%d", creds_dir.to_str().unwrap())
            .replace("/var/lib/tipline", state.to_str().unwrap());
        assert!(
            !v.starts_with('/') || Path::new(&v).exists(),
            "{k} names {v}, which the unit does not provide"
        );
        cmd.env(k, v);
    }
    let o = cmd.output().unwrap();
    assert!(
        o.status.success(),
        "tipline under the unit's environment: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("Keyring epoch"));
}

#[test]
fn compose_file_validates() {
    let file = repo("deploy/compose.yaml");
    let file = file.to_str().unwrap();
    let o = if have("docker", &["compose", "version"]) {
        Command::new("docker")
            .args(["compose", "-f", file, "config", "--quiet"])
            .output()
            .unwrap()
    } else if have("docker-compose", &["version"]) {
        // Debian 12 packages compose v1 (1.29); it validates the same file format.
        eprintln!("compose_file_validates: validating with docker-compose v1");
        Command::new("docker-compose")
            .args(["-f", file, "config", "--quiet"])
            .output()
            .unwrap()
    } else {
        common::skipped(
            "compose_file_validates",
            "neither `docker compose` nor `docker-compose` is installed",
        );
        return;
    };
    assert!(
        o.status.success(),
        "compose config: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let text = std::fs::read_to_string(repo("deploy/compose.yaml")).unwrap();
    // Secrets only as files: no password, token or secret value in the compose file.
    for var in [
        "TIPLINE_DATABASE_URL:",
        "TELEGRAM_BOT_TOKEN:",
        "TIPLINE_WEBHOOK_SECRET:",
        "POSTGRES_PASSWORD:",
    ] {
        assert!(!text.contains(var), "{var} given inline");
    }
    // File secrets keep the host file's owner and mode (no compose version applies uid, gid
    // or mode to them), so the file must not pretend otherwise.
    assert!(
        !text.contains("mode: 0"),
        "a secret mode that compose ignores"
    );
    // PostgreSQL is reachable only from tipline's internal network.
    assert!(
        text.contains("internal: true"),
        "the database network is not internal"
    );
}
