//! Number and text formatting shared by the report and its charts, so every
//! count and score looks the same everywhere.

/// Formats an integer with comma thousands separators: `163201` → `163,201`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// Formats a signed integer with thousands separators: `-1234` → `-1,234`.
pub fn thousands_i64(n: i64) -> String {
    if n < 0 {
        format!("-{}", thousands(n.unsigned_abs()))
    } else {
        thousands(n as u64)
    }
}

/// Formats a float with `decimals` places; non-finite values read `NaN`,
/// `∞` or `−∞` instead of Rust's `inf`, and `-0.0000` becomes `0.0000`.
pub fn fixed(x: f64, decimals: usize) -> String {
    if x.is_nan() {
        return "NaN".to_string();
    }
    if x.is_infinite() {
        return if x > 0.0 { "∞" } else { "−∞" }.to_string();
    }
    let s = format!("{x:.decimals$}");
    // A tiny negative rounds to "-0.00"; the sign carries no information.
    if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') {
        s[1..].to_string()
    } else {
        s
    }
}

/// Formats a float with at most `decimals` places and no trailing zeros:
/// `0.5` → `0.5`, `1.0` → `1`, `0.73105` → `0.7311` (for hand calculations).
pub fn compact(x: f64, decimals: usize) -> String {
    let s = fixed(x, decimals);
    if s.contains('.') {
        let t = s.trim_end_matches('0').trim_end_matches('.');
        if t == "-0" {
            "0".to_string()
        } else {
            t.to_string()
        }
    } else {
        s
    }
}

/// Formats `x` with `digits` significant digits, without exponent for
/// everyday magnitudes: `0.0019342` → `0.001934`, `1.6612` → `1.661`.
/// Integer digits are kept: `1234.56` with 3 digits is `1235`.
pub fn significant(x: f64, digits: usize) -> String {
    if !x.is_finite() || x == 0.0 {
        return fixed(x, 0);
    }
    let magnitude = x.abs().log10().floor() as i64;
    if !(-6..=12).contains(&magnitude) {
        return format!("{x:.prec$e}", prec = digits.saturating_sub(1));
    }
    let decimals = (digits as i64 - 1 - magnitude).max(0) as usize;
    fixed(x, decimals)
}

/// Formats seconds for a table cell with enough digits for short epochs:
/// `0.0432` → `0.043`, `3.217` → `3.22`, `45.61` → `45.6`, `312.4` → `312`.
pub fn seconds(x: f64) -> String {
    if !x.is_finite() || x >= 100.0 {
        fixed(x, 0)
    } else if x >= 10.0 {
        fixed(x, 1)
    } else if x >= 1.0 {
        fixed(x, 2)
    } else {
        significant(x, 2)
    }
}

/// Formats a fraction as a percentage with one decimal: `0.9123` → `91.2%`.
pub fn percent(fraction: f64) -> String {
    format!("{}%", fixed(fraction * 100.0, 1))
}

/// Formats a size in megabytes with two decimals: `1.2345` → `1.23 MB`.
pub fn megabytes(mb: f64) -> String {
    format!("{} MB", fixed(mb, 2))
}

/// Formats seconds as `12.3 s`, or `4 min 05.2 s` from a minute on.
pub fn duration(seconds: f64) -> String {
    if !seconds.is_finite() || seconds < 60.0 {
        return format!("{} s", fixed(seconds, 1));
    }
    let minutes = (seconds / 60.0).floor();
    let rest = seconds - minutes * 60.0;
    format!("{} min {:04.1} s", minutes as u64, rest)
}

/// Cuts `text` to at most `max_chars` characters (not bytes, so multi-byte
/// characters are never split) and appends `…` when something was cut.
pub fn truncate_chars(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        None => text.to_string(),
        Some((byte_end, _)) => {
            let mut cut = text[..byte_end].trim_end().to_string();
            cut.push('…');
            cut
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(163201), "163,201");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(thousands_i64(-1234), "-1,234");
    }

    #[test]
    fn fixed_decimals_and_specials() {
        assert_eq!(fixed(0.123456, 4), "0.1235");
        assert_eq!(fixed(-0.00001, 4), "0.0000");
        assert_eq!(fixed(-0.5, 2), "-0.50");
        assert_eq!(fixed(f64::NAN, 4), "NaN");
        assert_eq!(fixed(f64::INFINITY, 4), "∞");
        assert_eq!(percent(0.9123), "91.2%");
        assert_eq!(compact(0.5, 4), "0.5");
        assert_eq!(compact(1.0, 4), "1");
        assert_eq!(compact(0.731_058_6, 4), "0.7311");
        assert_eq!(compact(-0.00001, 4), "0");
    }

    #[test]
    fn significant_digits_and_seconds() {
        assert_eq!(significant(0.0019342, 4), "0.001934");
        assert_eq!(significant(1.66123, 4), "1.661");
        // Integer digits are never rounded away.
        assert_eq!(significant(1234.56, 3), "1235");
        assert_eq!(seconds(0.0432), "0.043");
        assert_eq!(seconds(0.00012), "0.00012");
        assert_eq!(seconds(3.217), "3.22");
        assert_eq!(seconds(45.61), "45.6");
    }

    #[test]
    fn durations() {
        assert_eq!(duration(12.34), "12.3 s");
        assert_eq!(duration(125.25), "2 min 05.2 s");
    }

    #[test]
    fn truncation_respects_char_boundaries() {
        assert_eq!(truncate_chars("short", 10), "short");
        assert_eq!(truncate_chars("abcdef", 6), "abcdef");
        assert_eq!(truncate_chars("abc def", 4), "abc…");
        // 'é' and '😀' are multi-byte; a byte slice at 3 would panic.
        assert_eq!(truncate_chars("éé😀xyz", 3), "éé😀…");
    }
}
