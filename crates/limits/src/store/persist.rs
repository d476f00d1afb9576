//! The single binary's budgets survive a restart: the in-memory store's calendar counters
//! (what each budget used in its current period) are written to the embedded SQLite database
//! every few seconds and at shutdown, and read back at start. Rolling rates and open
//! reservations are not kept: a rate refills within its window, and a restart ends every
//! request that held a reservation.

use super::memory::MemoryStore;
use rusqlite::{params, Connection};
use std::path::Path;

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS limit_counters (
    counter TEXT PRIMARY KEY, used INTEGER NOT NULL, end_us INTEGER NOT NULL)";

fn open(path: &Path) -> Result<Connection, String> {
    let c = Connection::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    c.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(|e| e.to_string())?;
    c.execute_batch(SCHEMA).map_err(|e| e.to_string())?;
    Ok(c)
}

/// Writes every budget counter whose period has not ended (and forgets the ended ones);
/// how many were written. Blocking: run it off the request path.
pub fn save(store: &MemoryStore, path: &Path, now_us: i64) -> Result<usize, String> {
    let mut c = open(path)?;
    let tx = c.transaction().map_err(|e| e.to_string())?;
    tx.execute(
        "DELETE FROM limit_counters WHERE end_us <= ?1",
        params![now_us],
    )
    .map_err(|e| e.to_string())?;
    let mut n = 0;
    for (key, counter, end_us) in store.calendars() {
        if end_us <= now_us {
            continue;
        }
        let used = i64::try_from(counter.used).unwrap_or(i64::MAX);
        tx.execute(
            "INSERT INTO limit_counters (counter, used, end_us) VALUES (?1, ?2, ?3)
             ON CONFLICT (counter) DO UPDATE SET used = excluded.used, end_us = excluded.end_us",
            params![key, used, end_us],
        )
        .map_err(|e| e.to_string())?;
        n += 1;
    }
    tx.commit().map_err(|e| e.to_string())?;
    Ok(n)
}

/// Reads back the budget counters of periods not yet over; how many.
pub fn load(store: &MemoryStore, path: &Path, now_us: i64) -> Result<usize, String> {
    let c = open(path)?;
    let mut st = c
        .prepare("SELECT counter, used, end_us FROM limit_counters WHERE end_us > ?1")
        .map_err(|e| e.to_string())?;
    let rows = st
        .query_map(params![now_us], |r| {
            Ok((
                r.get::<_, String>(0)?,
                u64::try_from(r.get::<_, i64>(1)?).unwrap_or(0),
                r.get::<_, i64>(2)?,
            ))
        })
        .map_err(|e| e.to_string())?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    let n = rows.len();
    store.restore(rows);
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::{Algo, Line};

    #[test]
    fn budgets_survive_a_restart_and_ended_periods_do_not() {
        let path = std::env::temp_dir().join(format!("sy-limits-{:x}.db", fastrand::u64(..)));
        let a = MemoryStore::new();
        let line = |counter: &str, end_us: i64| Line {
            counter: counter.into(),
            algo: Algo::Calendar {
                amount: 100,
                end_us,
            },
            reserve: 40,
            enforce: true,
            settles: true,
        };
        a.reserve_now("1", &[line("month", 10_000)], 1_000, 0)
            .unwrap()
            .unwrap();
        a.settle_now("1", &[30], 0);
        a.reserve_now("2", &[line("gone", 50)], 1_000, 0)
            .unwrap()
            .unwrap();
        a.settle_now("2", &[10], 0);
        // An open reservation is not kept.
        a.reserve_now("3", &[line("month", 10_000)], 1_000, 0)
            .unwrap()
            .unwrap();
        assert_eq!(save(&a, &path, 100).unwrap(), 1);
        let b = MemoryStore::new();
        assert_eq!(load(&b, &path, 100).unwrap(), 1);
        let c = b.counter("month").unwrap();
        assert_eq!((c.used, c.reserved), (30, 0));
        assert!(b.counter("gone").is_none());
        let _ = std::fs::remove_file(&path);
    }
}
