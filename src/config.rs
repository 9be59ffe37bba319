//! `linkrot.toml`: settings for `linkrot check` kept beside the documents.
//!
//! Every top-level key is a long option of `linkrot check`, spelled as on the
//! command line (`timeout = "10s"`, `host-concurrency = 4`,
//! `exclude = ["^https://example\\.org/"]`, `insecure = true`). Rather than
//! keeping a second list of options in step with the flags, the file is
//! checked against the command's own definition and turned into arguments
//! placed before the ones typed: a flag given on the command line wins over
//! the file; list options (`exclude`, `header`...) add up.
//!
//! `[hosts."NAME"]` sections hold per-host settings (concurrency, interval,
//! headers, accepted status codes, user agent). Unknown keys anywhere are an
//! error naming the key and its line.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The file looked for in the working directory when `--config` is not given.
pub const DEFAULT_FILE: &str = "linkrot.toml";

/// The commented example `linkrot init` writes.
pub const EXAMPLE: &str = include_str!("config_example.toml");

/// Per-host settings from a `[hosts."NAME"]` section.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct HostSettings {
    /// Requests in flight to this host at once.
    pub concurrency: Option<usize>,
    /// Minimum time between request starts to this host (`"1s"`, `"250ms"`).
    pub interval: Option<String>,
    /// Extra request headers for this host only.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Status codes counted as alive for this host (`"200..=299,403"`).
    pub accept: Option<String>,
    /// User agent for this host.
    pub user_agent: Option<String>,
}

/// A loaded `linkrot.toml`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigFile {
    /// The file.
    pub path: PathBuf,
    /// The top-level settings as command-line arguments, to be placed before
    /// the typed ones.
    pub args: Vec<OsString>,
    /// Per-host sections, keyed by host name (lowercase).
    pub hosts: BTreeMap<String, HostSettings>,
}

/// A problem in a config file; the message names the file and line.
#[derive(Debug, thiserror::Error)]
#[error("{}{}: {message}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct ConfigError {
    /// The file.
    pub path: PathBuf,
    /// 1-based line, where one applies.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
}

/// The config file to use: `explicit` if given, else `linkrot.toml` in the
/// working directory if there is one.
pub fn locate(explicit: Option<&Path>) -> Option<PathBuf> {
    match explicit {
        Some(path) => Some(path.to_path_buf()),
        None => {
            let path = PathBuf::from(DEFAULT_FILE);
            path.is_file().then_some(path)
        }
    }
}

/// Reads and checks `path` against the options of `command` (`linkrot check`).
pub fn load(path: &Path, command: &clap::Command) -> Result<ConfigFile, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        path: path.to_path_buf(),
        line: None,
        message: e.to_string(),
    })?;
    parse(path, &text, command)
}

/// Checks `text` (the contents of `path`) against the options of `command`.
pub fn parse(path: &Path, text: &str, command: &clap::Command) -> Result<ConfigFile, ConfigError> {
    let error = |span: Option<Range<usize>>, message: String| ConfigError {
        path: path.to_path_buf(),
        line: span.map(|s| line_of(text, s.start)),
        message,
    };
    type Spanned<T> = toml::Spanned<T>;
    let table: BTreeMap<Spanned<String>, Spanned<toml::Value>> =
        toml::from_str(text).map_err(|e| error(e.span(), e.message().trim().to_string()))?;

    let mut config = ConfigFile {
        path: path.to_path_buf(),
        ..ConfigFile::default()
    };
    for (key, value) in &table {
        let name = key.get_ref().as_str();
        let key_span = Some(key.span());
        if name == "hosts" {
            if !value.get_ref().is_table() {
                return Err(error(
                    key_span,
                    "hosts must be a table of [hosts.\"NAME\"] sections".into(),
                ));
            }
            config.hosts = parse_hosts(path, text)?;
            continue;
        }
        let Some(arg) = command
            .get_arguments()
            .find(|a| a.get_long() == Some(name) && !a.is_hide_set())
        else {
            return Err(error(
                key_span,
                format!(
                    "unknown key '{name}' (keys are the long options of `linkrot check`, and [hosts.\"NAME\"] sections)"
                ),
            ));
        };
        let flag = format!("--{name}");
        let takes_value = arg.get_action().takes_values();
        let many = matches!(arg.get_action(), clap::ArgAction::Append);
        let values: Vec<&toml::Value> = match value.get_ref() {
            toml::Value::Array(items) if many => items.iter().collect(),
            toml::Value::Array(_) => {
                return Err(error(
                    Some(value.span()),
                    format!("'{name}' takes one value, not a list"),
                ));
            }
            other => vec![other],
        };
        for item in values {
            match (item, takes_value) {
                (toml::Value::Boolean(on), false) => {
                    if *on {
                        config.args.push(flag.clone().into());
                    }
                }
                (_, false) => {
                    return Err(error(
                        Some(value.span()),
                        format!("'{name}' is a switch: write {name} = true"),
                    ));
                }
                (toml::Value::String(s), true) => {
                    config.args.push(flag.clone().into());
                    config.args.push(s.into());
                }
                (toml::Value::Integer(n), true) => {
                    config.args.push(flag.clone().into());
                    config.args.push(n.to_string().into());
                }
                (toml::Value::Float(n), true) => {
                    config.args.push(flag.clone().into());
                    config.args.push(n.to_string().into());
                }
                (toml::Value::Boolean(_), true) => {
                    return Err(error(
                        Some(value.span()),
                        format!("'{name}' takes a value, not true/false"),
                    ));
                }
                (_, true) => {
                    return Err(error(
                        Some(value.span()),
                        format!("'{name}' takes a string or a number"),
                    ));
                }
            }
        }
    }
    Ok(config)
}

/// The `[hosts."NAME"]` sections, with unknown keys reported at their line.
fn parse_hosts(path: &Path, text: &str) -> Result<BTreeMap<String, HostSettings>, ConfigError> {
    #[derive(Deserialize)]
    struct HostsOnly {
        #[serde(default)]
        hosts: BTreeMap<String, HostSettings>,
        #[serde(flatten)]
        _rest: toml::Table,
    }
    let parsed: HostsOnly = toml::from_str(text).map_err(|e| ConfigError {
        path: path.to_path_buf(),
        line: e.span().map(|s| line_of(text, s.start)),
        message: e.message().trim().to_string(),
    })?;
    Ok(parsed
        .hosts
        .into_iter()
        .map(|(host, settings)| (host.to_ascii_lowercase(), settings))
        .collect())
}

/// 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{Arg, ArgAction, Command};

    fn check_command() -> Command {
        Command::new("check")
            .arg(Arg::new("timeout").long("timeout"))
            .arg(Arg::new("host-concurrency").long("host-concurrency"))
            .arg(
                Arg::new("exclude")
                    .long("exclude")
                    .action(ArgAction::Append),
            )
            .arg(
                Arg::new("insecure")
                    .long("insecure")
                    .action(ArgAction::SetTrue),
            )
            .arg(Arg::new("now").long("now").hide(true))
    }

    fn parse_text(text: &str) -> Result<ConfigFile, ConfigError> {
        parse(Path::new("linkrot.toml"), text, &check_command())
    }

    #[test]
    fn options_become_arguments_and_hosts_sections_parse() {
        let config = parse_text(
            "timeout = \"5s\"\nhost-concurrency = 2\nexclude = [\"a\", \"b\"]\ninsecure = true\n\n\
             [hosts.\"Example.org\"]\nconcurrency = 1\ninterval = \"1s\"\nheaders = { Authorization = \"Bearer x\" }\n",
        )
        .unwrap();
        let args: Vec<_> = config.args.iter().map(|a| a.to_str().unwrap()).collect();
        assert_eq!(
            args,
            [
                "--exclude",
                "a",
                "--exclude",
                "b",
                "--host-concurrency",
                "2",
                "--insecure",
                "--timeout",
                "5s"
            ]
        );
        let host = &config.hosts["example.org"];
        assert_eq!(host.concurrency, Some(1));
        assert_eq!(host.interval.as_deref(), Some("1s"));
        assert_eq!(host.headers["Authorization"], "Bearer x");
    }

    #[test]
    fn unknown_keys_name_the_key_and_line() {
        let err = parse_text("timeout = \"5s\"\n\ntimeuot = \"1s\"\n").unwrap_err();
        assert_eq!(err.line, Some(3));
        assert!(
            err.to_string()
                .starts_with("linkrot.toml:3: unknown key 'timeuot'"),
            "{err}"
        );

        let err = parse_text("[hosts.\"a.test\"]\nconcurrency = 1\nspeed = 9\n").unwrap_err();
        assert_eq!(err.line, Some(3), "{err}");
        assert!(err.message.contains("speed"), "{err}");

        let err = parse_text("now = \"2020-01-01T00:00:00Z\"\n").unwrap_err();
        assert!(
            err.message.contains("unknown key 'now'"),
            "hidden test flags stay hidden: {err}"
        );
    }

    #[test]
    fn wrong_shapes_are_errors_with_lines() {
        let err = parse_text("insecure = \"yes\"\n").unwrap_err();
        assert_eq!(err.line, Some(1));
        assert!(err.message.contains("switch"), "{err}");
        let err = parse_text("timeout = [\"1s\", \"2s\"]\n").unwrap_err();
        assert!(err.message.contains("one value"), "{err}");
        let err = parse_text("timeout = \n").unwrap_err();
        assert_eq!(err.line, Some(1), "{err}");
    }

    #[test]
    fn the_example_parses() {
        let example_check = check_command()
            .arg(Arg::new("max-concurrency").long("max-concurrency"))
            .arg(Arg::new("retries").long("retries"))
            .arg(Arg::new("dead-after").long("dead-after"))
            .arg(Arg::new("dead-after-days").long("dead-after-days"))
            .arg(Arg::new("recheck-after").long("recheck-after"))
            .arg(Arg::new("fail-on").long("fail-on"))
            .arg(Arg::new("user-agent").long("user-agent"));
        let config = parse(Path::new("linkrot.toml"), EXAMPLE, &example_check).unwrap();
        assert!(config.args.is_empty(), "every setting is commented out");
        assert_eq!(config.hosts["www.example.org"], HostSettings::default());
        // Every commented setting is valid once uncommented.
        let uncommented: String = EXAMPLE
            .lines()
            .map(|line| match line.strip_prefix("# ") {
                Some(rest) if rest.contains(" = ") => format!("{rest}\n"),
                _ => format!("{line}\n"),
            })
            .collect();
        let config = parse(Path::new("linkrot.toml"), &uncommented, &example_check).unwrap();
        assert_eq!(config.args.len(), 2 * 11, "{:?}", config.args);
        let host = &config.hosts["www.example.org"];
        assert_eq!(host.concurrency, Some(1));
        assert_eq!(host.headers["Authorization"], "Bearer TOKEN");
    }
}
