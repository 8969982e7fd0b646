//! Time as tipline stores it: whole days in Vietnam time (UTC+7) for anything a reporter does,
//! Unix seconds only for staff activity and expiries.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// Vietnam's UTC offset in seconds (no daylight saving).
const VIETNAM_OFFSET: i64 = 7 * 3600;

/// The current Unix time in seconds.
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// A calendar day in Vietnam time, counted from 1970-01-01.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Day(pub i64);

impl Day {
    /// Today in Vietnam.
    pub fn today() -> Self {
        Self::from_unix(unix_now())
    }

    /// The Vietnam day of a Unix time.
    pub fn from_unix(secs: i64) -> Self {
        Self((secs + VIETNAM_OFFSET).div_euclid(86_400))
    }

    /// `n` days later.
    pub fn plus(self, n: i64) -> Self {
        Self(self.0 + n)
    }

    /// The calendar date.
    pub fn date(self) -> time::Date {
        // Day numbers come from `from_unix` of real clocks or small offsets of them, far inside
        // the `time` crate's range; fall back to the epoch rather than panic.
        time::Date::from_julian_day(2_440_588 + i32::try_from(self.0).unwrap_or(0))
            .unwrap_or(time::Date::MIN)
    }

    /// (year, month 1–12) of this day.
    pub fn year_month(self) -> (i32, u8) {
        let d = self.date();
        (d.year(), u8::from(d.month()))
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.date();
        write!(
            f,
            "{:04}-{:02}-{:02}",
            d.year(),
            u8::from(d.month()),
            d.day()
        )
    }
}

impl fmt::Debug for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Day({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vietnam_day_boundaries() {
        // 2026-11-25 16:59:59 UTC is 23:59:59 in Vietnam; one second later is the 26th.
        let t = 1_795_625_999;
        assert_eq!(Day::from_unix(t).to_string(), "2026-11-25");
        assert_eq!(Day::from_unix(t + 1).to_string(), "2026-11-26");
        assert_eq!(Day(0).to_string(), "1970-01-01");
        assert_eq!(Day::from_unix(t).year_month(), (2026, 11));
    }
}
