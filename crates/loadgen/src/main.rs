//! `switchyard-loadgen`: HTTP/1.1 load for bench/, printing one JSON line of results.
//!
//! Modes: `closed` (N connections, each sends its next request when the last one ends),
//! `rate` (a fixed request rate; latency counts from the scheduled send time, so a stall is not
//! hidden by sending less), `stream` (like closed, also timing the first body chunk), and `idle`
//! (N connections that send nothing, reopened whenever the server closes one: the load a
//! careless or hostile client puts on a server's descriptors).

mod stats;

use bytes::Bytes;
use clap::{Parser, ValueEnum};
use http::Request;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum Mode {
    Closed,
    Rate,
    Stream,
    Idle,
}

#[derive(Parser)]
struct Args {
    #[arg(long, value_enum)]
    mode: Mode,
    /// Target URL (http only).
    #[arg(long)]
    url: String,
    /// File with the JSON request body.
    #[arg(long)]
    body: std::path::PathBuf,
    #[arg(long, default_value_t = 64)]
    connections: usize,
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Requests per second, for `rate`.
    #[arg(long, default_value_t = 500.0)]
    rate: f64,
    /// Bearer key to send.
    #[arg(long)]
    key: Option<String>,
    /// Seconds of warm-up traffic not counted.
    #[arg(long, default_value_t = 1.0)]
    warmup: f64,
    /// `closed` only: stop after this many requests in all (no warm-up), instead of after
    /// `--seconds`.
    #[arg(long)]
    requests: Option<u64>,
    /// Make every request distinct: the body's `__N__` is replaced by a number no other
    /// request of any run sends (for cache misses).
    #[arg(long)]
    unique: bool,
}

struct Target {
    addr: String,
    host: String,
    path: String,
    body: Bytes,
    key: Option<String>,
    /// With `--unique`: the body around its `__N__`, this run's id and the next number.
    unique: Option<(Bytes, Bytes, u64, std::sync::atomic::AtomicU64)>,
}

impl Target {
    fn body(&self) -> Bytes {
        let Some((before, after, run, next)) = &self.unique else {
            return self.body.clone();
        };
        let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mid = format!("{run:x}-{n}");
        let mut b = Vec::with_capacity(before.len() + mid.len() + after.len());
        b.extend_from_slice(before);
        b.extend_from_slice(mid.as_bytes());
        b.extend_from_slice(after);
        Bytes::from(b)
    }
}

fn parse_url(url: &str) -> Option<(String, String)> {
    let rest = url.strip_prefix("http://")?;
    let (hostport, path) = rest.split_at(rest.find('/')?);
    Some((hostport.to_owned(), path.to_owned()))
}

/// One sample: total latency, time to first body chunk, success.
#[derive(Clone, Copy)]
pub struct Sample {
    pub total: Duration,
    pub first: Duration,
    pub ok: bool,
}

type Sender = http1::SendRequest<Full<Bytes>>;

async fn connect(t: &Target) -> std::io::Result<Sender> {
    let tcp = TcpStream::connect(&t.addr).await?;
    tcp.set_nodelay(true)?;
    let (sender, conn) = http1::handshake(TokioIo::new(tcp))
        .await
        .map_err(std::io::Error::other)?;
    tokio::spawn(conn);
    Ok(sender)
}

async fn one(sender: &mut Sender, t: &Target, start: Instant) -> Sample {
    let mut b = Request::post(t.path.as_str())
        .header("host", t.host.as_str())
        .header("content-type", "application/json");
    if let Some(k) = &t.key {
        b = b.header("authorization", format!("Bearer {k}"));
    }
    let Ok(req) = b.body(Full::new(t.body())) else {
        return Sample {
            total: start.elapsed(),
            first: start.elapsed(),
            ok: false,
        };
    };
    let fail = |start: Instant| Sample {
        total: start.elapsed(),
        first: start.elapsed(),
        ok: false,
    };
    if sender.ready().await.is_err() {
        return fail(start);
    }
    let Ok(resp) = sender.send_request(req).await else {
        return fail(start);
    };
    let ok = resp.status().is_success();
    let mut body = resp.into_body();
    let mut first = None;
    while let Some(frame) = body.frame().await {
        match frame {
            Ok(f) if f.is_data() && first.is_none() => first = Some(start.elapsed()),
            Ok(_) => {}
            Err(_) => return fail(start),
        }
    }
    let total = start.elapsed();
    Sample {
        total,
        first: first.unwrap_or(total),
        ok,
    }
}

async fn closed_worker(
    t: std::sync::Arc<Target>,
    until: Instant,
    count_from: Instant,
    budget: Option<std::sync::Arc<std::sync::atomic::AtomicU64>>,
) -> Vec<Sample> {
    let mut out = Vec::new();
    let Ok(mut s) = connect(&t).await else {
        return out;
    };
    let take = || match &budget {
        // A request budget: each worker takes one request at a time until none is left.
        Some(left) => left
            .fetch_update(
                std::sync::atomic::Ordering::Relaxed,
                std::sync::atomic::Ordering::Relaxed,
                |n| n.checked_sub(1),
            )
            .is_ok(),
        None => Instant::now() < until,
    };
    while take() {
        let start = Instant::now();
        let sample = one(&mut s, &t, start).await;
        if !sample.ok {
            match connect(&t).await {
                Ok(n) => s = n,
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        }
        if start >= count_from {
            out.push(sample);
        }
    }
    out
}

/// Holds one connection open without sending, reopening it whenever the server closes it.
async fn idle_worker(
    t: std::sync::Arc<Target>,
    until: Instant,
    closed: std::sync::Arc<std::sync::atomic::AtomicU64>,
    failed: std::sync::Arc<std::sync::atomic::AtomicU64>,
) {
    use tokio::io::AsyncReadExt;
    let mut buf = [0u8; 256];
    while Instant::now() < until {
        let Ok(mut tcp) = TcpStream::connect(&t.addr).await else {
            failed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        loop {
            match tokio::time::timeout_at(until.into(), tcp.read(&mut buf)).await {
                Err(_) => return,
                Ok(Ok(n)) if n > 0 => continue,
                Ok(_) => {
                    closed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    break;
                }
            }
        }
    }
}

async fn rate_worker(
    t: std::sync::Arc<Target>,
    first_slot: Instant,
    interval: Duration,
    until: Instant,
    count_from: Instant,
) -> Vec<Sample> {
    let mut out = Vec::new();
    let Ok(mut s) = connect(&t).await else {
        return out;
    };
    let mut slot = first_slot;
    while slot < until {
        // Count from the scheduled time only when the previous request overran it (so a stall
        // is not hidden); otherwise from the actual wake-up, as the timer wheel rounds up to 1 ms.
        let start = if Instant::now() >= slot {
            slot
        } else {
            tokio::time::sleep_until(slot.into()).await;
            Instant::now()
        };
        let sample = one(&mut s, &t, start).await;
        if !sample.ok {
            if let Ok(n) = connect(&t).await {
                s = n;
            }
        }
        if slot >= count_from {
            out.push(sample);
        }
        slot += interval;
    }
    out
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    let a = Args::parse();
    let Some((addr, path)) = parse_url(&a.url) else {
        eprintln!("loadgen: --url must look like http://host:port/path");
        return std::process::ExitCode::FAILURE;
    };
    let body = match std::fs::read(&a.body) {
        Ok(b) => Bytes::from(b),
        Err(e) => {
            eprintln!("loadgen: {}: {e}", a.body.display());
            return std::process::ExitCode::FAILURE;
        }
    };
    let unique = if a.unique {
        let Some(at) = body.windows(5).position(|w| w == b"__N__") else {
            eprintln!("loadgen: --unique needs __N__ in the body");
            return std::process::ExitCode::FAILURE;
        };
        let run = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        Some((
            body.slice(..at),
            body.slice(at + 5..),
            run,
            std::sync::atomic::AtomicU64::new(0),
        ))
    } else {
        None
    };
    let t = std::sync::Arc::new(Target {
        host: addr.clone(),
        addr,
        path,
        body,
        key: a.key.clone(),
        unique,
    });
    let now = Instant::now();
    let warmup = if a.requests.is_some() { 0.0 } else { a.warmup };
    let count_from = now + Duration::from_secs_f64(warmup);
    let until = count_from + Duration::from_secs_f64(a.seconds);
    let budget = a
        .requests
        .map(|n| std::sync::Arc::new(std::sync::atomic::AtomicU64::new(n)));
    if a.mode == Mode::Idle {
        let closed = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let failed = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let workers: Vec<_> = (0..a.connections)
            .map(|_| {
                tokio::spawn(idle_worker(
                    t.clone(),
                    until,
                    closed.clone(),
                    failed.clone(),
                ))
            })
            .collect();
        for w in workers {
            let _ = w.await;
        }
        let load = |c: &std::sync::atomic::AtomicU64| c.load(std::sync::atomic::Ordering::Relaxed);
        println!(
            "{{\"connections\":{},\"closed_by_server\":{},\"connect_failures\":{}}}",
            a.connections,
            load(&closed),
            load(&failed)
        );
        return std::process::ExitCode::SUCCESS;
    }
    let mut tasks = Vec::new();
    match a.mode {
        Mode::Closed | Mode::Stream => {
            for _ in 0..a.connections {
                tasks.push(tokio::spawn(closed_worker(
                    t.clone(),
                    until,
                    count_from,
                    budget.clone(),
                )));
            }
        }
        Mode::Idle => {}
        Mode::Rate => {
            // Each connection takes every n-th slot of the global schedule.
            let n = a.connections.max(1);
            let global = Duration::from_secs_f64(1.0 / a.rate);
            let per = global * n as u32;
            let start = now + Duration::from_millis(100);
            for i in 0..n {
                tasks.push(tokio::spawn(rate_worker(
                    t.clone(),
                    start + global * i as u32,
                    per,
                    until,
                    count_from,
                )));
            }
        }
    }
    let mut samples = Vec::new();
    for task in tasks {
        if let Ok(s) = task.await {
            samples.extend(s);
        }
    }
    let seconds = if a.requests.is_some() {
        now.elapsed().as_secs_f64()
    } else {
        a.seconds
    };
    let report = stats::report(&samples, seconds);
    println!("{report}");
    std::process::ExitCode::SUCCESS
}
