//! The `linkrot` binary: everything lives in the library; see `linkrot::cli`.

fn main() -> std::process::ExitCode {
    linkrot::cli::main()
}
