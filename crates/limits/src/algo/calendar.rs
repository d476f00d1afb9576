//! Calendar counters for budgets: what was used and what is reserved in the current day, week
//! (Monday to Sunday) or month of a time zone. A new period starts from zero; its boundaries
//! are civil time in the zone, so a month is 28 to 31 days and a day around a DST change is
//! 23 or 25 hours.

use crate::model::Calendar;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

/// The period containing `now_us`: its start and end (µs since the epoch) and its name
/// (`2026-12-04`, the week's Monday, or `2026-12`).
pub fn period(cal: Calendar, tz: &TimeZone, now_us: i64) -> Result<(i64, i64, String), String> {
    let ts = Timestamp::from_microsecond(now_us).map_err(|e| e.to_string())?;
    let here = ts.to_zoned(tz.clone());
    let day = here.date();
    let (first, next, name) = match cal {
        Calendar::Day => {
            let next = day.tomorrow().map_err(|e| e.to_string())?;
            (day, next, day.to_string())
        }
        Calendar::Week => {
            let back = i64::from(day.weekday().to_monday_zero_offset());
            let monday = day.checked_sub(back.days()).map_err(|e| e.to_string())?;
            let next = monday.checked_add(7.days()).map_err(|e| e.to_string())?;
            (monday, next, monday.to_string())
        }
        Calendar::Month => {
            let first = day.first_of_month();
            let next = first.checked_add(1.month()).map_err(|e| e.to_string())?;
            (
                first,
                next,
                format!("{:04}-{:02}", first.year(), first.month()),
            )
        }
    };
    let at = |d: jiff::civil::Date| -> Result<i64, String> {
        let z = d
            .to_zoned(tz.clone())
            .and_then(|z| z.start_of_day())
            .map_err(|e| e.to_string())?;
        Ok(z.timestamp().as_microsecond())
    };
    Ok((at(first)?, at(next)?, name))
}

/// One period's counter, in the limit's unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counter {
    pub used: u64,
    pub reserved: u64,
}

impl Counter {
    /// Reserves `n` when it fits under `amount` with what is used and reserved.
    pub fn reserve(&mut self, n: u64, amount: u64) -> bool {
        let after = self.used.saturating_add(self.reserved).saturating_add(n);
        if after > amount {
            return false;
        }
        self.reserved += n;
        true
    }

    /// Reserves `n` whatever the amount (shadow limits count what would have happened).
    pub fn force(&mut self, n: u64) {
        self.reserved = self.reserved.saturating_add(n);
    }

    /// Ends a reservation of `reserved`, charging `used` (past the amount if so).
    pub fn settle(&mut self, reserved: u64, used: u64) {
        self.reserved = self.reserved.saturating_sub(reserved);
        self.used = self.used.saturating_add(used);
    }

    /// Releases a reservation that was never settled.
    pub fn release(&mut self, reserved: u64) {
        self.reserved = self.reserved.saturating_sub(reserved);
    }

    pub fn remaining(&self, amount: u64) -> i64 {
        let taken = i128::from(self.used) + i128::from(self.reserved);
        i64::try_from(i128::from(amount) - taken).unwrap_or(i64::MIN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn us(s: &str) -> i64 {
        s.parse::<Timestamp>().unwrap().as_microsecond()
    }

    #[test]
    fn months_weeks_and_days_in_utc() {
        let utc = TimeZone::UTC;
        let (a, b, name) = period(Calendar::Month, &utc, us("2026-02-14T12:00:00Z")).unwrap();
        assert_eq!(
            (a, b),
            (us("2026-02-01T00:00:00Z"), us("2026-03-01T00:00:00Z"))
        );
        assert_eq!(name, "2026-02");
        // A leap February, a 31-day month, the year's turn.
        let (a, b, _) = period(Calendar::Month, &utc, us("2028-02-29T23:59:59Z")).unwrap();
        assert_eq!(b - a, 29 * 86_400_000_000);
        let (a, b, _) = period(Calendar::Month, &utc, us("2026-12-31T23:59:59.999999Z")).unwrap();
        assert_eq!(
            (a, b),
            (us("2026-12-01T00:00:00Z"), us("2027-01-01T00:00:00Z"))
        );
        // 2026-12-04 is a Friday: its week began Monday the 30th of November.
        let (a, b, name) = period(Calendar::Week, &utc, us("2026-12-04T10:00:00Z")).unwrap();
        assert_eq!(
            (a, b),
            (us("2026-11-30T00:00:00Z"), us("2026-12-07T00:00:00Z"))
        );
        assert_eq!(name, "2026-11-30");
        let (a, b, _) = period(Calendar::Day, &utc, us("2026-12-04T00:00:00Z")).unwrap();
        assert_eq!(
            (a, b),
            (us("2026-12-04T00:00:00Z"), us("2026-12-05T00:00:00Z"))
        );
    }

    #[test]
    fn periods_follow_the_time_zone_and_its_daylight_saving_changes() {
        let berlin = TimeZone::get("Europe/Berlin").unwrap();
        // 23:30 UTC on 31 January is already February in Berlin.
        let (a, _, name) = period(Calendar::Month, &berlin, us("2026-01-31T23:30:00Z")).unwrap();
        assert_eq!(name, "2026-02");
        assert_eq!(a, us("2026-01-31T23:00:00Z"));
        // The spring change (29 March 2026) makes a 23-hour day; the autumn one a 25-hour day.
        let (a, b, _) = period(Calendar::Day, &berlin, us("2026-03-29T12:00:00Z")).unwrap();
        assert_eq!(b - a, 23 * 3_600_000_000);
        let (a, b, _) = period(Calendar::Day, &berlin, us("2026-10-25T12:00:00Z")).unwrap();
        assert_eq!(b - a, 25 * 3_600_000_000);
        // March in Berlin is 31 days less the lost hour.
        let (a, b, _) = period(Calendar::Month, &berlin, us("2026-03-15T00:00:00Z")).unwrap();
        assert_eq!(b - a, (31 * 24 - 1) * 3_600_000_000);
    }

    /// Property: every instant falls in its own period (start ≤ now < end), and the next
    /// period starts where this one ends, across random instants and zones.
    #[test]
    fn every_instant_is_inside_its_period_and_periods_tile() {
        let zones = [
            "UTC",
            "Europe/Berlin",
            "America/New_York",
            "Australia/Lord_Howe",
            "Asia/Kolkata",
            "Pacific/Chatham",
        ];
        let mut rng = fastrand::Rng::with_seed(11);
        for _ in 0..2000 {
            let tz = TimeZone::get(zones[rng.usize(..zones.len())]).unwrap();
            let cal = [Calendar::Day, Calendar::Week, Calendar::Month][rng.usize(..3)];
            let now = rng.i64(1_600_000_000_000_000..2_000_000_000_000_000);
            let (a, b, name) = period(cal, &tz, now).unwrap();
            assert!(a <= now && now < b, "{cal:?} {tz:?} {now}");
            let (a2, _, name2) = period(cal, &tz, b).unwrap();
            assert_eq!(a2, b);
            assert_ne!(name, name2);
            let (_, b0, _) = period(cal, &tz, a - 1).unwrap();
            assert_eq!(b0, a);
        }
    }

    #[test]
    fn a_counter_reserves_within_the_amount_and_charges_what_was_used() {
        let mut c = Counter::default();
        assert!(c.reserve(60, 100));
        assert!(!c.reserve(41, 100));
        assert!(c.reserve(40, 100));
        c.settle(60, 75);
        assert_eq!((c.used, c.reserved, c.remaining(100)), (75, 40, -15));
        c.release(40);
        assert_eq!(c.remaining(100), 25);
    }
}
