//! The helpers every template can call: `money`, `date`, `upper`, `lower`, `json`.

use super::*;
use chrono_tz::Tz;

/// A helper as a plain function of its arguments and the template's data (for
/// `shop.time_zone`); the error is the message shown.
pub(super) type HelperFn = fn(&Helper<'_>, &Value) -> Result<Value, String>;

pub(super) const HELPERS: [(&str, HelperFn); 5] = [
    ("money", money),
    ("date", date),
    ("upper", upper),
    ("lower", lower),
    ("json", json),
];

/// Adapts a [`HelperFn`] to handlebars.
pub(super) struct FnHelper(pub(super) HelperFn);

impl HelperDef for FnHelper {
    // `call_inner` (not `call`) so handlebars escapes the result in HTML and the helpers also
    // work as subexpressions: `{{upper (money amount currency)}}`.
    fn call_inner<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        context: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
    ) -> Result<ScopedJson<'rc>, handlebars::RenderError> {
        (self.0)(h, context.data())
            .map(ScopedJson::Derived)
            .map_err(|message| RenderErrorReason::Other(message).into())
    }
}

/// Checks the argument count, so `{{money amount}}` fails instead of guessing.
pub(super) fn arity(h: &Helper<'_>, min: usize, max: usize, usage: &str) -> Result<(), String> {
    let n = h.params().len();
    if (min..=max).contains(&n) {
        Ok(())
    } else {
        Err(format!("{} takes {usage}, got {n} argument(s)", h.name()))
    }
}

/// Argument `idx`; a key absent from the data is named in the error (strict mode).
pub(super) fn arg<'a>(h: &'a Helper<'_>, idx: usize, what: &str) -> Result<&'a Value, String> {
    let param = h
        .param(idx)
        .ok_or_else(|| format!("{}: no {what} given", h.name()))?;
    if param.is_value_missing() {
        let path = param.relative_path().map_or("?", String::as_str);
        return Err(format!(
            "{}: {what} `{path}` is not in the data (strict mode)",
            h.name()
        ));
    }
    Ok(param.value())
}

/// `{{money amount currency}}`: minor units (as Stripe sends them) to a human amount.
pub(super) fn money(h: &Helper<'_>, _: &Value) -> Result<Value, String> {
    arity(h, 2, 2, "an amount in minor units and a currency code")?;
    let amount = arg(h, 0, "amount")?;
    let amount = amount.as_i64().ok_or_else(|| {
        format!("money: the amount must be a whole number of minor units (4998 for 49.98), got {amount}")
    })?;
    let currency = arg(h, 1, "currency")?;
    let currency = currency.as_str().ok_or_else(|| {
        format!("money: the currency must be a code like \"usd\", got {currency}")
    })?;
    format_money(amount, currency).map(Value::String)
}

/// Stripe's zero-decimal currencies: the amount is already in whole units.
pub(super) const ZERO_DECIMAL: [&str; 16] = [
    "BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV",
    "XAF", "XOF", "XPF",
];
/// Stripe's three-decimal currencies.
pub(super) const THREE_DECIMAL: [&str; 5] = ["BHD", "JOD", "KWD", "OMR", "TND"];

/// How many digits of `currency` (any case) are minor units, as Stripe counts them.
pub fn minor_digits(currency: &str) -> u32 {
    let code = currency.to_ascii_uppercase();
    if ZERO_DECIMAL.contains(&code.as_str()) {
        0
    } else if THREE_DECIMAL.contains(&code.as_str()) {
        3
    } else {
        2
    }
}

/// `4998, "usd"` → `$49.98`; symbols for USD, EUR, GBP and JPY, which readers recognise
/// unambiguously; any other code follows the number (`49.98 CHF`, `5000 KRW`). No thousands
/// separators, whose style varies by locale. ISK, HUF and TWD stay two-decimal, as Stripe's
/// API counts them.
pub(super) fn format_money(amount: i64, currency: &str) -> Result<String, String> {
    let code = currency.to_ascii_uppercase();
    if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(format!(
            "money: {currency:?} is not a currency code like \"usd\""
        ));
    }
    let decimals = minor_digits(&code);
    let sign = if amount < 0 { "-" } else { "" };
    // unsigned_abs: i64::MIN has no positive i64 counterpart.
    let units = amount.unsigned_abs();
    let number = match decimals {
        0 => units.to_string(),
        d => {
            let scale = 10u64.pow(d);
            format!(
                "{}.{:0width$}",
                units / scale,
                units % scale,
                width = d as usize
            )
        }
    };
    let symbol = match code.as_str() {
        "USD" => Some("$"),
        "EUR" => Some("€"),
        "GBP" => Some("£"),
        "JPY" => Some("¥"),
        _ => None,
    };
    Ok(match symbol {
        Some(symbol) => format!("{sign}{symbol}{number}"),
        None => format!("{sign}{number} {code}"),
    })
}

/// The format `{{date created}}` uses when none is given: `%Z` names the zone (`UTC`,
/// `CET`, …) so a reader never guesses which one a deadline is in.
pub(super) const DEFAULT_DATE_FORMAT: &str = "%Y-%m-%d %H:%M %Z";

/// `{{date unix_seconds [format]}}`: a Unix time in UTC, with a chrono strftime format.
pub(super) fn date(h: &Helper<'_>, data: &Value) -> Result<Value, String> {
    arity(h, 1, 2, "a Unix time in seconds and an optional format")?;
    let seconds = arg(h, 0, "time")?;
    let seconds = seconds
        .as_i64()
        .ok_or_else(|| format!("date: the time must be whole Unix seconds, got {seconds}"))?;
    let format = match h.params().len() {
        2 => {
            let format = arg(h, 1, "format")?;
            format
                .as_str()
                .ok_or_else(|| format!("date: the format must be a string, got {format}"))?
        }
        _ => DEFAULT_DATE_FORMAT,
    };
    let zone = time_zone(data.pointer("/shop/time_zone"))?;
    let time = DateTime::from_timestamp(seconds, 0)
        .ok_or_else(|| format!("date: {seconds} is out of range"))?
        .with_timezone(&zone);
    let mut out = String::new();
    // chrono reports an invalid specifier as a fmt::Error here; `to_string()` would panic.
    write!(out, "{}", time.format(format))
        .map_err(|_| format!("date: invalid format {format:?} (see chrono's strftime)"))?;
    Ok(Value::String(out))
}

/// The shop's time zone (`[shop] time_zone`, an IANA name); UTC when unset.
///
/// # Errors
/// A value that is not a known zone's name; config validation reports it at start-up.
pub fn time_zone(value: Option<&Value>) -> Result<Tz, String> {
    match value {
        None | Some(Value::Null) => Ok(Tz::UTC),
        Some(Value::String(name)) => name.parse().map_err(|_| {
            format!("unknown time zone `{name}` (an IANA name like \"Europe/Paris\" or \"America/New_York\")")
        }),
        Some(other) => Err(format!(
            "the time zone must be a name like \"Europe/Paris\", got {other}"
        )),
    }
}

/// `{{upper text}}`.
pub(super) fn upper(h: &Helper<'_>, _: &Value) -> Result<Value, String> {
    string_arg(h).map(|s| Value::String(s.to_uppercase()))
}

/// `{{lower text}}`.
pub(super) fn lower(h: &Helper<'_>, _: &Value) -> Result<Value, String> {
    string_arg(h).map(|s| Value::String(s.to_lowercase()))
}

/// `{{json value}}`: the value as JSON text, quotes and escapes included, so a webhook
/// `body` template stays valid JSON whatever a customer typed.
pub(super) fn json(h: &Helper<'_>, _: &Value) -> Result<Value, String> {
    arity(h, 1, 1, "one value")?;
    serde_json::to_string(arg(h, 0, "value")?)
        .map(Value::String)
        .map_err(|err| format!("json: {err}"))
}

/// The single string argument of `upper` and `lower`.
pub(super) fn string_arg<'a>(h: &'a Helper<'_>) -> Result<&'a str, String> {
    arity(h, 1, 1, "one string")?;
    let value = arg(h, 0, "text")?;
    value
        .as_str()
        .ok_or_else(|| format!("{} takes a string, got {value}", h.name()))
}
