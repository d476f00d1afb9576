//! The `switchyard` binary: everything lives in the library so tests can start the real server.

fn main() -> std::process::ExitCode {
    switchyard::cli::main()
}
