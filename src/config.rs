//! Settings shared by the subcommands: defaults, and later `linkrot.toml`.
