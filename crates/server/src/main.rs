//! The `switchyard` binary: everything lives in the library so tests can start the real server.

/// jemalloc rather than the C library's malloc: after a burst (thousands of streams at once) its
/// background thread gives the freed memory back to the system within seconds, where glibc's
/// arenas keep it for good (bench/soak.sh, docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> std::process::ExitCode {
    switchyard::cli::main()
}
