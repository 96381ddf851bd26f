//! Net per day as a bar chart, drawn on the server as SVG: no script and nothing to
//! load, and it prints. One chart per currency, as amounts in two currencies do not
//! share a scale.

use chrono::NaiveDate;
use maud::{html, Markup};

use crate::report::decimal;

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 190.0;
/// Room for the amounts on the left and the dates below.
const LEFT: f64 = 78.0;
const TOP: f64 = 10.0;
const BOTTOM: f64 = 26.0;

/// The chart of `days` (each day's net in minor units, oldest first) in `currency`.
pub fn net_per_day(currency: &str, days: &[(NaiveDate, i64)]) -> Markup {
    let (Some(first), Some(last)) = (days.first(), days.last()) else {
        return html! {};
    };
    let high = days.iter().map(|(_, net)| *net).max().unwrap_or(0).max(0);
    let low = days.iter().map(|(_, net)| *net).min().unwrap_or(0).min(0);
    let range = if high == low {
        1.0
    } else {
        (high - low) as f64
    };
    let plot = HEIGHT - TOP - BOTTOM;
    let y = |value: i64| TOP + (high - value) as f64 / range * plot;
    let slot = (WIDTH - LEFT) / days.len() as f64;
    let bar = (slot * 0.8).max(1.0);
    let zero = y(0);
    let code = currency.to_ascii_uppercase();
    let label = format!("Net per day in {code}, {} to {}", first.0, last.0);
    html! {
        svg.chart viewBox={ "0 0 " (WIDTH) " " (HEIGHT) } role="img" aria-label=(label) {
            text.axis x=(LEFT - 6.0) y=(TOP + 4.0) text-anchor="end" { (decimal(high, currency)) }
            @if low < 0 {
                text.axis x=(LEFT - 6.0) y=(HEIGHT - BOTTOM) text-anchor="end" { (decimal(low, currency)) }
            }
            line.zero x1=(LEFT) x2=(WIDTH) y1=(round(zero)) y2=(round(zero)) {}
            @for (i, (date, net)) in days.iter().enumerate() {
                @let top = y((*net).max(0));
                @let height = (y((*net).min(0)) - top).max(if *net == 0 { 0.0 } else { 1.0 });
                rect class=(if *net < 0 { "out" } else { "in" })
                    x=(round(LEFT + i as f64 * slot + (slot - bar) / 2.0)) y=(round(top))
                    width=(round(bar)) height=(round(height)) {
                    title { (date) ": " (decimal(*net, currency)) " " (code) }
                }
            }
            text.axis x=(LEFT) y=(HEIGHT - 6.0) { (first.0) }
            text.axis x=(WIDTH) y=(HEIGHT - 6.0) text-anchor="end" { (last.0) }
        }
    }
}

/// Two decimals are plenty for a 720-wide drawing.
fn round(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, d).expect("a date")
    }

    #[test]
    fn bars_go_up_for_money_in_and_down_for_money_out() {
        let svg = net_per_day("usd", &[(day(1), 4998), (day(2), 0), (day(3), -1000)]).into_string();
        assert_eq!(svg.matches("<rect").count(), 3, "{svg}");
        assert!(
            svg.contains(r#"class="in""#) && svg.contains(r#"class="out""#),
            "{svg}"
        );
        assert!(
            svg.contains("<title>2026-12-03: -10.00 USD</title>"),
            "{svg}"
        );
        assert!(svg.contains(">49.98<") && svg.contains(">-10.00<"), "{svg}");
        assert!(svg.contains(r#"aria-label="Net per day in USD, 2026-12-01 to 2026-12-03""#));
        assert_eq!(net_per_day("usd", &[]).into_string(), "");
    }

    #[test]
    fn a_window_of_quiet_days_still_draws() {
        let svg = net_per_day("jpy", &[(day(1), 0), (day(2), 0)]).into_string();
        assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
    }
}
