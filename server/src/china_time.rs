//! Times as people read them: China Standard Time (UTC+8, no daylight saving) on every page, export and
//! certificate. Storage and the JSON API keep UTC (RFC 3339 with its offset).

use chrono::{DateTime, FixedOffset, Utc};

/// UTC+8.
pub fn zone() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("static offset")
}

/// The calendar day of `at` in China.
pub fn day(at: DateTime<Utc>) -> chrono::NaiveDate {
    at.with_timezone(&zone()).date_naive()
}

/// This calendar year in China: the year the ledger counts, requirements apply to and pages default to
/// (from 00:00 on 1 January Beijing time, eight hours before the UTC year turns).
pub fn this_year() -> i64 {
    i64::from(chrono::Datelike::year(&day(Utc::now())))
}

/// Checks a year for the ledger and the rules (the plugin interface counts years in `u16`).
pub fn check_year(year: i64) -> Result<u16, crate::error::AppError> {
    u16::try_from(year)
        .ok()
        .filter(|y| (1990..=2100).contains(y))
        .ok_or_else(|| crate::error::AppError::bad_request("bad_year", "年度无效"))
}

/// `2026-03-01 18:05`.
pub fn minute(at: DateTime<Utc>) -> String {
    at.with_timezone(&zone()).format("%Y-%m-%d %H:%M").to_string()
}

/// `2026-03-01`.
pub fn date(at: DateTime<Utc>) -> String {
    at.with_timezone(&zone()).format("%Y-%m-%d").to_string()
}

/// The template filters `china_time` and `china_date`: an RFC 3339 text (as times reach templates
/// through JSON) in China time; anything else is shown as it is.
pub fn filter(text: &str, format: fn(DateTime<Utc>) -> String) -> String {
    DateTime::parse_from_rfc3339(text.trim()).map_or_else(|_| text.to_owned(), |at| format(at.with_timezone(&Utc)))
}

#[cfg(test)]
mod tests {
    #[test]
    fn utc_evening_is_next_morning_in_china() {
        assert_eq!(super::filter("2026-03-01T18:05:09.123Z", super::minute), "2026-03-02 02:05");
        assert_eq!(super::filter("2026-03-01T18:05:09+00:00", super::date), "2026-03-02");
        assert_eq!(super::filter("—", super::minute), "—");
    }
}
