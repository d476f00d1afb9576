//! `switchyard-mock`: runs the mock provider on a port, for SDK tests and benchmarks.

use clap::Parser;
use switchyard_mock::MockOptions;

#[derive(Parser)]
#[command(about = "Mock LLM provider speaking OpenAI's wire format, with fault injection")]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:9000")]
    listen: String,
    /// Do not record requests (for benchmarks).
    #[arg(long)]
    no_record: bool,
    /// Require exactly this API key.
    #[arg(long)]
    expect_key: Option<String>,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let listener = match tokio::net::TcpListener::bind(&args.listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("switchyard-mock: cannot listen on {}: {e}", args.listen);
            return std::process::ExitCode::FAILURE;
        }
    };
    let opts = MockOptions {
        record: !args.no_record,
        expect_key: args.expect_key,
    };
    match switchyard_mock::spawn(listener, opts) {
        Ok(h) => println!("switchyard-mock listening on {}", h.addr),
        Err(e) => {
            eprintln!("switchyard-mock: {e}");
            return std::process::ExitCode::FAILURE;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
    std::process::ExitCode::SUCCESS
}
