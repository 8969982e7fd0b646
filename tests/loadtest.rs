//! The load harness itself works: a few citizens complete reports against the real `serve`
//! binary and the baseline bot under Telegram's flood limits, and the figures line says so.
//! (The figures themselves come from release runs, recorded in BENCHMARKS.md.)

use std::process::Command;

#[test]
fn a_small_load_run_completes_on_both_bots() {
    let out = Command::new(env!("CARGO_BIN_EXE_tipline"))
        .args([
            "loadtest",
            "--citizens",
            "2",
            "--arrival-rate",
            "2",
            "--baseline",
        ])
        .env_remove("TIPLINE_DATA_DIR")
        .output()
        .expect("run tipline loadtest");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("tipline: 2 citizens, 2 completed"),
        "{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("baseline: 2 citizens, 2 completed"),
        "{stdout}\n{stderr}"
    );
    assert!(stdout.contains("tipline CPU per update / baseline CPU per update"));
    // The harness counts every update it sent: 14 steps for each of two citizens.
    assert!(stdout.contains("(28 updates)"), "{stdout}");
    // The dialogue-only run first: 10 steps to the review screen and /cancel, each; then the
    // dialogue's and the submission's CPU apart, and the dialogue's beside the baseline's.
    assert!(
        stdout.contains("tipline (dialogue only): 2 citizens, 2 completed"),
        "{stdout}"
    );
    assert!(stdout.contains("(22 updates)"), "{stdout}");
    assert!(stdout.contains("tipline CPU: dialogue steps "), "{stdout}");
    assert!(stdout.contains(" ms/report"), "{stdout}");
    assert!(stdout.contains("tipline dialogue CPU per update / baseline CPU per update"));
}
