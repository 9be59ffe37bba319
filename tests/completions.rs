//! `linkrot completions SHELL` and `linkrot man` are generated from the real
//! command line.

use assert_cmd::cargo::cargo_bin_cmd;
use predicates::prelude::*;

#[test]
fn completions_cover_every_subcommand() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = cargo_bin_cmd!("linkrot")
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(out.status.success(), "{shell}");
        let script = String::from_utf8(out.stdout).unwrap();
        for subcommand in ["scan", "history", "diff", "man"] {
            assert!(
                script.contains(subcommand),
                "{shell} completion lacks {subcommand}"
            );
        }
    }
    cargo_bin_cmd!("linkrot")
        .args(["completions", "tcsh"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("invalid value 'tcsh'"));
}

#[test]
fn man_page_prints_and_writes_one_page_per_subcommand() {
    cargo_bin_cmd!("linkrot")
        .arg("man")
        .assert()
        .success()
        .stdout(predicate::str::starts_with(".ie").and(predicate::str::contains(".TH linkrot 1")));
    let dir = tempfile::tempdir().unwrap();
    cargo_bin_cmd!("linkrot")
        .args(["man", "--dir"])
        .arg(dir.path())
        .assert()
        .success();
    for page in ["linkrot.1", "linkrot-history.1", "linkrot-diff.1"] {
        let text = std::fs::read_to_string(dir.path().join(page)).unwrap();
        assert!(text.contains(".SH NAME"), "{page}");
    }
}

#[test]
fn init_writes_the_commented_example_once() {
    let dir = tempfile::tempdir().unwrap();
    cargo_bin_cmd!("linkrot")
        .current_dir(dir.path())
        .arg("init")
        .assert()
        .success()
        .stderr(predicate::str::contains("wrote linkrot.toml"));
    let text = std::fs::read_to_string(dir.path().join("linkrot.toml")).unwrap();
    assert!(
        text.contains("# dead-after = 3") && text.contains("[hosts."),
        "{text}"
    );
    std::fs::write(dir.path().join("linkrot.toml"), "mine").unwrap();
    cargo_bin_cmd!("linkrot")
        .current_dir(dir.path())
        .arg("init")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("linkrot.toml: already exists"));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("linkrot.toml")).unwrap(),
        "mine"
    );
    cargo_bin_cmd!("linkrot")
        .current_dir(dir.path())
        .args(["init", "--force"])
        .assert()
        .success();
    assert_eq!(
        std::fs::read_to_string(dir.path().join("linkrot.toml")).unwrap(),
        text
    );
}
