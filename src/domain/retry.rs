//! When to try a notification again: the retry schedule, jitter,
//! `Retry-After`, and which HTTP answers are worth another attempt.
//!
//! Pure: the caller brings the clock and the random source, so every rule
//! here is testable without sleeping.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};
use rand::Rng;

/// The longest `Retry-After` honoured: a server asking for more is treated
/// as asking for a day, so one bad header cannot park a delivery forever.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// The delays between attempts, as configured by `HERALD_RETRY_SCHEDULE`
/// (e.g. `5s,5m,30m,2h,5h,10h,10h`). Never empty: one delay per retry, so
/// the first attempt plus `delays.len()` retries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule(Vec<Duration>);

impl RetrySchedule {
    /// The schedule used when `HERALD_RETRY_SCHEDULE` is unset.
    pub const DEFAULT: &'static str = "5s,5m,30m,2h,5h,10h,10h";

    /// Parses a comma-separated list of whole numbers with a unit (`ms`, `s`,
    /// `m`, `h`, `d`), spaces allowed around items and between number and
    /// unit. Units are lower-case only, so `5M` is not mistaken for months.
    /// The error names the offending item.
    pub fn parse(s: &str) -> Result<Self, String> {
        if s.trim().is_empty() {
            return Err("the retry schedule is empty".to_owned());
        }
        let delays = s
            .split(',')
            .enumerate()
            .map(|(i, item)| {
                parse_item(item).map_err(|why| format!("retry schedule item {} `{}`: {why}", i + 1, item.trim()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self(delays))
    }

    pub fn delays(&self) -> &[Duration] {
        &self.0
    }

    /// The first attempt plus one retry per delay.
    pub fn max_attempts(&self) -> u32 {
        u32::try_from(self.0.len()).unwrap_or(u32::MAX - 1).saturating_add(1)
    }

    /// The delay before the next attempt once attempt number `attempt`
    /// (1-based) failed; `None` when that was the last one. `0` is read as
    /// `1`, so a caller's off-by-one delays the retry instead of dropping it.
    pub fn delay_after(&self, attempt: u32) -> Option<Duration> {
        let index = usize::try_from(attempt.max(1) - 1).ok()?;
        self.0.get(index).copied()
    }
}

impl Default for RetrySchedule {
    fn default() -> Self {
        Self::parse(Self::DEFAULT).expect("the default retry schedule parses")
    }
}

impl FromStr for RetrySchedule {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// The same notation as [`RetrySchedule::parse`], so a logged schedule can be
/// pasted back into the environment.
impl fmt::Display for RetrySchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, delay) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write_delay(f, *delay)?;
        }
        Ok(())
    }
}

/// Largest first, so `Display` picks the coarsest exact unit.
const UNITS: [(&str, u64); 5] = [
    ("d", 86_400_000),
    ("h", 3_600_000),
    ("m", 60_000),
    ("s", 1_000),
    ("ms", 1),
];

fn parse_item(item: &str) -> Result<Duration, &'static str> {
    let item = item.trim();
    if item.is_empty() {
        return Err("empty item");
    }
    let split = item.find(|c: char| !c.is_ascii_digit()).unwrap_or(item.len());
    let (number, unit) = (&item[..split], item[split..].trim());
    if number.is_empty() {
        return Err("expected a whole number followed by a unit (ms, s, m, h, d)");
    }
    let millis_per_unit = UNITS
        .iter()
        .find(|(name, _)| *name == unit)
        .map(|(_, millis)| *millis)
        .ok_or("unknown unit, expected ms, s, m, h or d")?;
    let count: u64 = number.parse().map_err(|_| "number too large")?;
    let millis = count.checked_mul(millis_per_unit).ok_or("number too large")?;
    if millis == 0 {
        return Err("a delay must be longer than zero");
    }
    Ok(Duration::from_millis(millis))
}

fn write_delay(f: &mut fmt::Formatter<'_>, delay: Duration) -> fmt::Result {
    // Parsed delays are whole milliseconds; anything finer is rounded down.
    let millis = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
    let (name, per) = UNITS
        .iter()
        .find(|(_, per)| millis % per == 0)
        .copied()
        .unwrap_or(("ms", 1));
    write!(f, "{}{name}", millis / per)
}

/// Spreads `delay` uniformly over ±10 % so deliveries that failed together
/// (one outage) do not all come back at the same instant. The result is
/// never negative (a `Duration` cannot be), and a delay too large to scale
/// is returned as is.
pub fn with_jitter(delay: Duration, rng: &mut impl Rng) -> Duration {
    let factor = rng.random_range(0.9..=1.1);
    Duration::try_from_secs_f64(delay.as_secs_f64() * factor).unwrap_or(delay)
}

/// Reads a `Retry-After` value: delta-seconds (`120`) or an HTTP-date
/// (`Wed, 21 Oct 2015 07:28:00 GMT`, plus the obsolete RFC 850 and asctime
/// forms RFC 9110 still asks recipients to accept). A date already past
/// means "now" (`Duration::ZERO`); anything beyond [`MAX_RETRY_AFTER`] is
/// capped. `None` when the value is neither.
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // All digits but too big for u64 still means "a very long time".
        let seconds = value.parse::<u64>().unwrap_or(u64::MAX);
        return Some(Duration::from_secs(seconds).min(MAX_RETRY_AFTER));
    }
    let at = parse_http_date(value)?;
    // A negative difference fails `to_std`: the date is past, retry now.
    let wait = (at - now).to_std().unwrap_or(Duration::ZERO);
    Some(wait.min(MAX_RETRY_AFTER))
}

fn parse_http_date(value: &str) -> Option<DateTime<Utc>> {
    if let Ok(date) = DateTime::parse_from_rfc2822(value) {
        return Some(date.with_timezone(&Utc));
    }
    // RFC 850 (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime
    // (`Sun Nov  6 08:49:37 1994`); both are UTC by definition.
    ["%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(value, format).ok())
        .map(|naive| naive.and_utc())
}

/// What an HTTP answer means for a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpOutcome {
    Sent,
    /// Worth another attempt; `after` is the server's `Retry-After`, when it
    /// is one we honour.
    Retry {
        after: Option<Duration>,
    },
    /// Retrying would not help (bad or gone target, refused request).
    Fail,
}

/// Sorts a status code: 2xx sent; 408, 429 and 5xx retried; any other code
/// fails at once. That includes the other 4xx (Slack answers 404
/// `channel_not_found` and 410 `channel_is_archived`, which no retry fixes)
/// and 1xx/3xx, because redirects are never followed: a webhook that
/// redirects is misconfigured, and following it could lead anywhere.
/// `Retry-After` is passed on only for 429 and 503, where RFC 9110 gives it
/// that meaning.
pub fn classify_http(status: u16, retry_after: Option<Duration>) -> HttpOutcome {
    match status {
        200..=299 => HttpOutcome::Sent,
        429 | 503 => HttpOutcome::Retry { after: retry_after },
        408 | 500..=599 => HttpOutcome::Retry { after: None },
        _ => HttpOutcome::Fail,
    }
}

/// The wait before the next attempt once attempt number `attempt` (1-based)
/// failed: the jittered schedule delay, or the server's `Retry-After` when
/// that is longer (never retry sooner than asked). `None` when no attempt is
/// left, whatever the server asked.
pub fn next_delay(
    schedule: &RetrySchedule,
    attempt: u32,
    retry_after: Option<Duration>,
    rng: &mut impl Rng,
) -> Option<Duration> {
    let delay = with_jitter(schedule.delay_after(attempt)?, rng);
    Some(retry_after.map_or(delay, |after| delay.max(after)))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;

    const SEC: Duration = Duration::from_secs(1);
    const MIN: Duration = Duration::from_secs(60);
    const HOUR: Duration = Duration::from_secs(3600);

    /// Always yields the same word, to pin jitter at its extremes.
    struct Constant(u64);

    impl rand::RngCore for Constant {
        fn next_u32(&mut self) -> u32 {
            self.0 as u32
        }
        fn next_u64(&mut self) -> u64 {
            self.0
        }
        fn fill_bytes(&mut self, dst: &mut [u8]) {
            dst.fill(self.0 as u8);
        }
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2015, 10, 21, 7, 0, 0).unwrap()
    }

    #[test]
    fn parses_the_default_schedule() {
        let schedule = RetrySchedule::default();
        assert_eq!(
            schedule.delays(),
            &[5 * SEC, 5 * MIN, 30 * MIN, 2 * HOUR, 5 * HOUR, 10 * HOUR, 10 * HOUR]
        );
        assert_eq!(schedule.max_attempts(), 8);
        assert_eq!(schedule.to_string(), RetrySchedule::DEFAULT);
    }

    #[test]
    fn parses_every_unit_and_tolerates_spaces() {
        let schedule = RetrySchedule::parse(" 250ms , 3 s,2m ,\t1h,1d\n").unwrap();
        assert_eq!(
            schedule.delays(),
            &[Duration::from_millis(250), 3 * SEC, 2 * MIN, HOUR, 24 * HOUR]
        );
        assert_eq!(schedule.max_attempts(), 6);
        assert_eq!("90s".parse::<RetrySchedule>().unwrap().delays(), &[90 * SEC]);
    }

    #[test]
    fn display_round_trips() {
        for text in ["250ms", "1500ms,90s,90m,36h,2d", "1s"] {
            let schedule = RetrySchedule::parse(text).unwrap();
            assert_eq!(RetrySchedule::parse(&schedule.to_string()).unwrap(), schedule);
        }
        assert_eq!(RetrySchedule::parse("60s,120m,1000ms").unwrap().to_string(), "1m,2h,1s");
    }

    #[test]
    fn refuses_bad_schedules_naming_the_item() {
        for (input, named) in [
            ("", "empty"),
            ("   ", "empty"),
            ("5s,,5m", "item 2 ``"),
            ("5s,", "item 2 ``"),
            ("0s", "`0s`"),
            ("5s,0ms", "`0ms`"),
            ("5x", "`5x`"),
            ("5", "`5`"),
            ("s", "`s`"),
            ("5M", "`5M`"),
            ("-5s", "`-5s`"),
            ("1.5h", "`1.5h`"),
            ("5 s 2", "`5 s 2`"),
            ("99999999999999999999s", "too large"),
            ("9999999999999999d", "too large"),
        ] {
            let err = RetrySchedule::parse(input).unwrap_err();
            assert!(err.contains(named), "{input:?} gave {err:?}");
        }
    }

    #[test]
    fn delay_after_walks_the_schedule_then_stops() {
        let schedule = RetrySchedule::parse("1s,2s,3s").unwrap();
        assert_eq!(schedule.max_attempts(), 4);
        assert_eq!(schedule.delay_after(0), Some(SEC));
        assert_eq!(schedule.delay_after(1), Some(SEC));
        assert_eq!(schedule.delay_after(2), Some(2 * SEC));
        assert_eq!(schedule.delay_after(3), Some(3 * SEC));
        assert_eq!(schedule.delay_after(4), None);
        assert_eq!(schedule.delay_after(u32::MAX), None);
    }

    #[test]
    fn jitter_stays_within_ten_percent() {
        let mut rng = StdRng::seed_from_u64(7);
        let base = 100 * SEC;
        let (mut low, mut high) = (false, false);
        for _ in 0..1000 {
            let d = with_jitter(base, &mut rng);
            assert!((90 * SEC..=110 * SEC).contains(&d), "{d:?}");
            low |= d < 95 * SEC;
            high |= d > 105 * SEC;
        }
        assert!(low && high, "jitter should use both sides of the range");
    }

    #[test]
    fn jitter_extremes_and_edge_values() {
        let base = 100 * SEC;
        let lowest = with_jitter(base, &mut Constant(0));
        let highest = with_jitter(base, &mut Constant(u64::MAX));
        assert!(lowest >= 90 * SEC && lowest < 91 * SEC, "{lowest:?}");
        assert!(highest <= 110 * SEC && highest > 109 * SEC, "{highest:?}");
        assert_eq!(with_jitter(Duration::ZERO, &mut Constant(u64::MAX)), Duration::ZERO);
        // Too big to scale up: returned unchanged instead of panicking.
        assert_eq!(with_jitter(Duration::MAX, &mut Constant(u64::MAX)), Duration::MAX);
    }

    #[test]
    fn retry_after_in_seconds() {
        assert_eq!(parse_retry_after("120", now()), Some(2 * MIN));
        assert_eq!(parse_retry_after(" 0 ", now()), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("86400", now()), Some(MAX_RETRY_AFTER));
        assert_eq!(parse_retry_after("86401", now()), Some(MAX_RETRY_AFTER));
        assert_eq!(
            parse_retry_after("99999999999999999999999", now()),
            Some(MAX_RETRY_AFTER)
        );
        for bad in [
            "",
            " ",
            "-5",
            "1.5",
            "+5",
            "soon",
            "5s",
            "Wed, 32 Oct 2015 07:28:00 GMT",
        ] {
            assert_eq!(parse_retry_after(bad, now()), None, "{bad:?}");
        }
    }

    #[test]
    fn retry_after_as_http_date() {
        let at = "Wed, 21 Oct 2015 07:28:00 GMT";
        assert_eq!(parse_retry_after(at, now()), Some(28 * MIN));
        assert_eq!(
            parse_retry_after("Wednesday, 21-Oct-15 07:28:00 GMT", now()),
            Some(28 * MIN)
        );
        assert_eq!(parse_retry_after("Wed Oct 21 07:28:00 2015", now()), Some(28 * MIN));
        assert_eq!(
            parse_retry_after("Wed Oct  7 07:10:00 2015", now() - chrono::Duration::days(14)),
            Some(10 * MIN)
        );
        // Past dates mean "now"; far-future dates are capped.
        assert_eq!(
            parse_retry_after("Tue, 20 Oct 2015 07:28:00 GMT", now()),
            Some(Duration::ZERO)
        );
        assert_eq!(
            parse_retry_after(at, now() + chrono::Duration::hours(1)),
            Some(Duration::ZERO)
        );
        assert_eq!(
            parse_retry_after("Fri, 21 Oct 2016 07:28:00 GMT", now()),
            Some(MAX_RETRY_AFTER)
        );
    }

    #[test]
    fn classifies_statuses() {
        let after = Some(30 * SEC);
        for status in [200, 201, 202, 204, 299] {
            assert_eq!(classify_http(status, after), HttpOutcome::Sent, "{status}");
        }
        for status in [429, 503] {
            assert_eq!(classify_http(status, after), HttpOutcome::Retry { after }, "{status}");
            assert_eq!(
                classify_http(status, None),
                HttpOutcome::Retry { after: None },
                "{status}"
            );
        }
        for status in [408, 500, 502, 504, 599] {
            assert_eq!(
                classify_http(status, after),
                HttpOutcome::Retry { after: None },
                "{status}"
            );
        }
        for status in [400, 401, 403, 404, 405, 409, 410, 413, 422, 499] {
            assert_eq!(classify_http(status, after), HttpOutcome::Fail, "{status}");
        }
        for status in [0, 99, 100, 101, 199, 300, 301, 302, 304, 307, 308, 600, 999, u16::MAX] {
            assert_eq!(classify_http(status, after), HttpOutcome::Fail, "{status}");
        }
    }

    #[test]
    fn next_delay_follows_schedule_with_jitter() {
        let schedule = RetrySchedule::parse("10s,1m").unwrap();
        let mut rng = StdRng::seed_from_u64(1);
        let first = next_delay(&schedule, 1, None, &mut rng).unwrap();
        assert!((9 * SEC..=11 * SEC).contains(&first), "{first:?}");
        let second = next_delay(&schedule, 2, None, &mut rng).unwrap();
        assert!((54 * SEC..=66 * SEC).contains(&second), "{second:?}");
        assert_eq!(next_delay(&schedule, 3, None, &mut rng), None);
        // Attempts exhausted: a Retry-After does not buy another one.
        assert_eq!(next_delay(&schedule, 3, Some(SEC), &mut rng), None);
    }

    #[test]
    fn next_delay_honours_a_longer_retry_after_only() {
        let schedule = RetrySchedule::parse("10s").unwrap();
        assert_eq!(
            next_delay(&schedule, 1, Some(HOUR), &mut Constant(u64::MAX)),
            Some(HOUR)
        );
        let jittered = with_jitter(10 * SEC, &mut Constant(0));
        assert_eq!(next_delay(&schedule, 1, Some(SEC), &mut Constant(0)), Some(jittered));
        assert_eq!(
            next_delay(&schedule, 1, Some(Duration::ZERO), &mut Constant(0)),
            Some(jittered)
        );
    }
}
