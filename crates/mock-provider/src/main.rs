//! `switchyard-mock`: runs the mock provider on a port, for SDK tests and benchmarks.

use clap::Parser;
use switchyard_mock::MockOptions;

#[derive(Parser)]
#[command(
    about = "Mock LLM provider speaking OpenAI, Anthropic, Gemini, Vertex and Cohere wire formats, with fault injection"
)]
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
    /// Google service-account key file (JSON) whose signature `/token` checks assertions with.
    #[arg(long)]
    google_credentials: Option<std::path::PathBuf>,
    /// `expires_in` of the access tokens `/token` issues.
    #[arg(long)]
    token_lifetime_secs: Option<u64>,
    /// AWS access key id whose SigV4 signatures the Bedrock routes accept (with --aws-secret-key).
    #[arg(long, requires = "aws_secret_key")]
    aws_access_key: Option<String>,
    /// The secret access key for --aws-access-key.
    #[arg(long, requires = "aws_access_key")]
    aws_secret_key: Option<String>,
    /// Share of requests (0 to 1) answered with --chaos-error-status instead.
    #[arg(long, default_value_t = 0.0)]
    chaos_error_rate: f64,
    #[arg(long, default_value_t = 503)]
    chaos_error_status: u16,
    /// Share of requests (0 to 1) answered --chaos-slow-ms late.
    #[arg(long, default_value_t = 0.0)]
    chaos_slow_rate: f64,
    #[arg(long, default_value_t = 2000)]
    chaos_slow_ms: u64,
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
    let google_key_pem = match args.google_credentials.as_deref().map(read_private_key) {
        Some(Ok(pem)) => Some(pem),
        Some(Err(e)) => {
            eprintln!("switchyard-mock: --google-credentials: {e}");
            return std::process::ExitCode::FAILURE;
        }
        None => None,
    };
    let opts = MockOptions {
        record: !args.no_record,
        expect_key: args.expect_key,
        google_key_pem,
        token_lifetime_secs: args.token_lifetime_secs,
        aws_credentials: args.aws_access_key.zip(args.aws_secret_key),
        chaos: (args.chaos_error_rate > 0.0 || args.chaos_slow_rate > 0.0).then_some(
            switchyard_mock::Chaos {
                error_rate: args.chaos_error_rate,
                error_status: args.chaos_error_status,
                slow_rate: args.chaos_slow_rate,
                slow_ms: args.chaos_slow_ms,
            },
        ),
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

/// The `private_key` of a service-account key file.
fn read_private_key(path: &std::path::Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    v.get("private_key")
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| "no private_key in the file".to_owned())
}
