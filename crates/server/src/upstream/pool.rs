//! Idle keep-alive connections to one upstream, most recently used first.

use super::conn::Conn;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Connections idle longer than this are closed rather than reused: servers commonly drop
/// keep-alive connections after 60 to 120 s, and a reused dead one costs a failed request.
pub const MAX_IDLE_TIME: Duration = Duration::from_secs(50);
const MAX_IDLE: usize = 256;

#[derive(Default)]
pub struct Pool {
    idle: Mutex<Vec<(Conn, Instant)>>,
}

impl Pool {
    /// Takes the freshest idle connection that can send now.
    pub fn checkout(&self) -> Option<Conn> {
        loop {
            let (mut conn, since) = {
                let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
                idle.pop()?
            };
            if since.elapsed() < MAX_IDLE_TIME && conn.ready_now() {
                return Some(conn);
            }
        }
    }

    /// Closes the connections that have sat idle too long to be reused, so a burst's
    /// connections (and their buffers) do not stay open after it.
    pub fn sweep(&self, max_idle: Duration) -> usize {
        let expired: Vec<(Conn, Instant)> = {
            let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
            // Oldest first: the expired ones are a prefix.
            let n = idle
                .iter()
                .take_while(|(_, since)| since.elapsed() >= max_idle)
                .count();
            idle.drain(..n).collect()
        };
        // Closed outside the lock.
        expired.len()
    }

    /// Returns a connection whose exchange completed.
    pub fn checkin(&self, conn: Conn) {
        if conn.closed {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() >= MAX_IDLE {
            // Drop the oldest: the front has waited longest.
            idle.remove(0);
        }
        idle.push((conn, Instant::now()));
    }
}
