//! The `switchyard` binary: everything lives in the library so tests can start the real server.

/// mimalloc rather than the C library's malloc: after a burst (thousands of streams at once) it
/// gives the memory back to the system, where glibc's arenas keep it (bench/soak.sh).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    switchyard::cli::main()
}
