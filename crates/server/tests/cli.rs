//! The binary itself: config commands, the exposure check, start-up line and SIGTERM.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    // Keep the developer's own provider keys out of these tests; the request log's default file
    // (switchyard.db) goes to a directory of the test's own.
    bin_in_temp_dir(env!("CARGO_BIN_EXE_switchyard"))
}

fn repo(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path)
}

#[test]
fn schema_matches_the_checked_in_copy() {
    let out = bin().args(["config", "schema"]).output().unwrap();
    assert!(out.status.success());
    let checked_in = std::fs::read_to_string(repo("docs/config.schema.json")).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        checked_in.trim(),
        "docs/config.schema.json is stale: run `switchyard config schema > docs/config.schema.json`"
    );
}

#[test]
fn every_example_config_is_valid() {
    let mut n = 0;
    for entry in std::fs::read_dir(repo("examples")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") {
            let out = bin()
                .args(["config", "check"])
                .arg(&path)
                .env("OPENAI_API_KEY", "sk-a")
                .env("GROQ_API_KEY", "gsk-b")
                .env("TEAM_A_KEY", "team-a-key-123")
                .env("ANTHROPIC_API_KEY", "sk-ant-c")
                .env("OPS_ADMIN_KEY", "ops-admin-key-123")
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}: {}",
                path.display(),
                String::from_utf8_lossy(&out.stderr)
            );
            n += 1;
        }
    }
    assert!(n >= 2);
}

#[test]
fn config_check_reports_every_error_with_file_and_line() {
    let dir = std::env::temp_dir().join(format!("sy-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad.yaml");
    std::fs::write(
        &file,
        "server:\n  listen: nope\nproviders:\n  - name: x\naliases:\n  a: missing/model\n",
    )
    .unwrap();
    let out = bin().args(["config", "check"]).arg(&file).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    let f = file.display();
    assert_eq!(
        err.lines().collect::<Vec<_>>(),
        vec![
            format!("{f}:2: server.listen: invalid address \"nope\": expected IP:PORT such as 127.0.0.1:8080"),
            format!("{f}:4: providers[0].base_url: required: no preset is named \"x\", so set base_url or preset"),
        ]
    );
}

#[test]
fn public_listen_without_client_keys_is_refused() {
    let out = bin()
        .args(["serve", "--listen", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("refusing to listen on 0.0.0.0:0 without client keys"),
        "{err}"
    );
    assert!(err.contains("--allow-insecure-public"), "{err}");
}

#[test]
fn starts_with_no_providers_says_so_and_exits_0_on_sigterm() {
    let mut child = bin()
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let line = first_line(&mut child);
    assert!(
        line.starts_with("switchyard listening on http://127.0.0.1:"),
        "{line}"
    );
    assert!(
        line.contains("no providers found: set a provider key such as OPENAI_API_KEY"),
        "{line}"
    );
    // The request log is on by default, in switchyard.db in the working directory.
    assert!(line.contains("request log switchyard.db"), "{line}");
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let start = Instant::now();
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            assert_eq!(s.code(), Some(0));
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "did not exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn providers_doc_lists_every_preset() {
    let doc = std::fs::read_to_string(repo("docs/providers.md")).unwrap();
    for p in switchyard_providers::presets::PRESETS {
        let row = format!("| `{}` |", p.name);
        let line = doc
            .lines()
            .find(|l| l.starts_with(&row))
            .unwrap_or_else(|| panic!("docs/providers.md has no row for {}", p.name));
        assert!(line.contains(p.base_url), "{}: base URL", p.name);
        assert!(line.contains(p.key_env), "{}: key env", p.name);
        assert!(line.contains(p.base_url_env), "{}: base URL env", p.name);
    }
}

#[test]
fn a_request_log_that_cannot_be_opened_stops_start_up() {
    let cfg = std::env::temp_dir().join(format!("switchyard-cli-{:016x}.yaml", fastrand::u64(..)));
    std::fs::write(
        &cfg,
        "server:\n  log:\n    sqlite_path: /nonexistent-dir/switchyard.db\n",
    )
    .unwrap();
    let out = bin()
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("request log: cannot open /nonexistent-dir/switchyard.db"),
        "{err}"
    );
    assert!(err.contains("server.log.enabled: false"), "{err}");
}

#[test]
fn serve_raises_its_open_file_limit_to_the_hard_limit() {
    let hard: u64 = std::fs::read_to_string("/proc/self/limits")
        .unwrap()
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(4))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    if hard <= 512 {
        // Nothing to raise it to on this machine.
        return;
    }
    let bin = env!("CARGO_BIN_EXE_switchyard");
    let mut cmd = bin_in_temp_dir("bash");
    let mut child = cmd
        .args([
            "-c",
            &format!("ulimit -Sn 512 && exec {bin} serve --listen 127.0.0.1:0"),
        ])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let line = first_line(&mut child);
    assert!(line.starts_with("switchyard listening"), "{line}");
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", child.id())).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    let soft: u64 = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|v| v.parse().ok())
        .unwrap();
    assert_eq!(soft, hard, "{limits}");
}

/// `program` with a clean environment in a temp directory of its own (as `bin()` does).
fn bin_in_temp_dir(program: &str) -> Command {
    let mut c = Command::new(program);
    c.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    let dir = std::env::temp_dir().join(format!("switchyard-cli-{:016x}", fastrand::u64(..)));
    std::fs::create_dir_all(&dir).unwrap();
    c.current_dir(dir);
    c
}

/// The first line a started child writes to stderr (the start-up line).
fn first_line(child: &mut std::process::Child) -> String {
    let mut line = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    line
}

#[test]
fn metrics_show_the_allocators_account_of_memory() {
    use std::io::{Read, Write};
    let mut child = bin()
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("SWITCHYARD_ADMIN_KEYS", "cli-test-admin-key")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let line = first_line(&mut child);
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|r| r.split(&[';', ' ', '\n'][..]).next())
        .unwrap_or_default()
        .to_owned();
    let mut sock = std::net::TcpStream::connect(&addr).unwrap();
    write!(
        sock,
        "GET /metrics HTTP/1.1\r\nhost: x\r\nauthorization: Bearer cli-test-admin-key\r\nconnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    sock.read_to_string(&mut text).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    let gauge = |name: &str| -> u64 {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("{name} missing from:\n{text}"))
    };
    let allocated = gauge("switchyard_memory_allocated_bytes");
    let active = gauge("switchyard_memory_active_bytes");
    let resident = gauge("switchyard_memory_resident_bytes");
    let metadata = gauge("switchyard_memory_metadata_bytes");
    // The binary's allocator holds the running server: its config, runtime and tables.
    assert!(allocated > 100_000, "{allocated}");
    assert!(active >= allocated, "{active} < {allocated}");
    assert!(resident >= active, "{resident} < {active}");
    assert!(metadata > 0 && metadata < resident, "{metadata}");
}
