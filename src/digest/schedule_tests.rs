use chrono::TimeZone;
use chrono_tz::Europe::Paris;

use super::*;

fn paris(y: i32, m: u32, d: u32, h: u32, min: u32) -> i64 {
    Paris
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .earliest()
        .expect("a time that exists")
        .timestamp_millis()
}

fn texts(runs: &[i64]) -> Vec<String> {
    runs.iter().map(|ms| local_text(*ms, Paris)).collect()
}

#[test]
fn seven_every_morning_once_a_day_across_spring_and_autumn() {
    let daily = Schedule::new("0 7 * * *", Paris, Period::Day).expect("reads");
    let spring = daily.runs_between(paris(2026, 3, 27, 12, 0), paris(2026, 3, 31, 12, 0), 10);
    assert_eq!(
        texts(&spring),
        [
            "2026-03-28T07:00:00+01:00",
            "2026-03-29T07:00:00+02:00",
            "2026-03-30T07:00:00+02:00",
            "2026-03-31T07:00:00+02:00",
        ]
    );
    // The periods follow each other without gap or overlap; the short day is 23 hours.
    let windows: Vec<(i64, i64)> = spring.iter().filter_map(|run| daily.window(*run)).collect();
    for pair in windows.windows(2) {
        assert_eq!(pair[0].1, pair[1].0);
    }
    assert_eq!(
        windows[2],
        (paris(2026, 3, 29, 0, 0), paris(2026, 3, 30, 0, 0))
    );
    assert_eq!(windows[2].1 - windows[2].0, 23 * 3600 * 1000);
    let autumn = daily.runs_between(paris(2026, 10, 24, 12, 0), paris(2026, 10, 27, 12, 0), 10);
    assert_eq!(autumn.len(), 3);
    let long_day = daily.window(autumn[1]).expect("a window");
    assert_eq!(long_day.1 - long_day.0, 25 * 3600 * 1000);
}

#[test]
fn a_time_the_clock_skips_runs_after_the_gap_and_a_repeated_one_runs_once() {
    let night = Schedule::new("30 2 * * *", Paris, Period::SinceLast).expect("reads");
    let spring = night.runs_between(paris(2026, 3, 28, 12, 0), paris(2026, 3, 30, 12, 0), 10);
    assert_eq!(spring.len(), 2, "{:?}", texts(&spring));
    assert_eq!(texts(&spring)[1], "2026-03-30T02:30:00+02:00");
    assert!(texts(&spring)[0].starts_with("2026-03-29T03:"));
    let autumn = night.runs_between(paris(2026, 10, 24, 12, 0), paris(2026, 10, 26, 12, 0), 10);
    assert_eq!(
        texts(&autumn),
        ["2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"]
    );
}

#[test]
fn weeks_and_months_are_the_ones_before_the_run() {
    let weekly = Schedule::new("0 8 * * 1", Paris, Period::Week).expect("reads");
    let run = weekly
        .next_after(paris(2026, 12, 8, 0, 0))
        .expect("a Monday");
    assert_eq!(local_text(run, Paris), "2026-12-14T08:00:00+01:00");
    assert_eq!(
        weekly.window(run),
        Some((paris(2026, 12, 7, 0, 0), paris(2026, 12, 14, 0, 0)))
    );
    let monthly = Schedule::new("0 6 1 * *", Paris, Period::Month).expect("reads");
    let run = monthly
        .next_after(paris(2026, 3, 15, 0, 0))
        .expect("the 1st");
    assert_eq!(
        monthly.window(run),
        Some((paris(2026, 3, 1, 0, 0), paris(2026, 4, 1, 0, 0)))
    );
    let since = Schedule::new("0 */6 * * *", Paris, Period::SinceLast).expect("reads");
    assert_eq!(
        since.window(paris(2026, 12, 8, 12, 0)),
        Some((paris(2026, 12, 8, 6, 0), paris(2026, 12, 8, 12, 0)))
    );
    assert_eq!(
        since.last_at_or_before(paris(2026, 12, 8, 13, 0)),
        Some(paris(2026, 12, 8, 12, 0))
    );
}

#[test]
fn schedules_that_would_not_run_as_meant_are_refused() {
    for text in ["0 0 7 * * *", "7 * *", "0 25 * * *", "0 0 30 2 *", ""] {
        let err = Schedule::new(text, Paris, Period::Day).expect_err(text);
        assert!(err.to_string().contains("five-field cron"), "{err}");
    }
    assert!(Schedule::new("@daily", Paris, Period::Day).is_ok());
}
