//! Summaries of repeated measurements and the text formats of the report.

/// Median, minimum and maximum of a set of measurements.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Summary {
    /// The median (the mean of the two middle values for an even count).
    pub med: f64,
    /// The smallest value.
    pub min: f64,
    /// The largest value.
    pub max: f64,
}

/// Summarises `values`; `None` if there are none.
pub fn summarize(values: &[f64]) -> Option<Summary> {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let min = *v.first()?;
    let max = *v.last()?;
    let mid = v.len() / 2;
    let med = if !v.len().is_multiple_of(2) {
        *v.get(mid)?
    } else {
        (*v.get(mid.checked_sub(1)?)? + *v.get(mid)?) / 2.0
    };
    Some(Summary { med, min, max })
}

/// Formats seconds as `med (min-max)` with millisecond precision.
pub fn cell(s: Option<Summary>, failed: bool) -> String {
    match s {
        _ if failed => "failed".to_string(),
        Some(s) => format!("{:.3} ({:.3}-{:.3})", s.med, s.min, s.max),
        None => "-".to_string(),
    }
}

/// Formats the ratio of two medians as `x1.23`, or `-` if either is missing or zero.
pub fn ratio(num: Option<Summary>, den: Option<Summary>) -> String {
    match (num, den) {
        (Some(n), Some(d)) if d.med > 0.0 => format!("x{:.2}", n.med / d.med),
        _ => "-".to_string(),
    }
}

/// The extra time per call in microseconds: `(t_mode - t_native) / calls`.
pub fn extra_us(mode: Option<Summary>, native: Option<Summary>, calls: Option<u64>) -> String {
    match (mode, native, calls) {
        (Some(m), Some(n), Some(c)) if c > 0 => {
            // A call count fits an f64 exactly below 2^53.
            let c = c as f64;
            format!("{:.2}", (m.med - n.med) / c * 1e6)
        }
        _ => "-".to_string(),
    }
}

/// Quotes `s` as a JSON string.
pub fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Formats an optional number for JSON (`null` when absent).
pub fn json_num<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or_else(|| "null".to_string(), |v| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `(median, min, max)`.
    type Want = Option<(f64, f64, f64)>;

    #[test]
    fn summarize_table() {
        let cases: &[(&[f64], Want)] = &[
            (&[], None),
            (&[2.0], Some((2.0, 2.0, 2.0))),
            (&[3.0, 1.0], Some((2.0, 1.0, 3.0))),
            (&[5.0, 1.0, 4.0], Some((4.0, 1.0, 5.0))),
            (&[4.0, 1.0, 3.0, 2.0], Some((2.5, 1.0, 4.0))),
            (&[9.0, 1.0, 1.0, 1.0, 7.0], Some((1.0, 1.0, 9.0))),
        ];
        for (input, want) in cases {
            let got = summarize(input).map(|s| (s.med, s.min, s.max));
            assert_eq!(got, *want, "input {input:?}");
        }
    }

    #[test]
    fn formats() {
        let s = |med| {
            Some(Summary {
                med,
                min: med,
                max: med,
            })
        };
        assert_eq!(cell(s(1.5), false), "1.500 (1.500-1.500)");
        assert_eq!(cell(s(1.5), true), "failed");
        assert_eq!(cell(None, false), "-");
        assert_eq!(ratio(s(3.0), s(2.0)), "x1.50");
        assert_eq!(ratio(s(3.0), s(0.0)), "-");
        assert_eq!(ratio(None, s(2.0)), "-");
        assert_eq!(extra_us(s(1.2), s(0.2), Some(200_000)), "5.00");
        assert_eq!(extra_us(s(1.2), s(0.2), None), "-");
        assert_eq!(extra_us(s(1.2), s(0.2), Some(0)), "-");
    }

    #[test]
    fn json() {
        assert_eq!(json_str("a\"b\\c\n"), "\"a\\\"b\\\\c\\u000a\"");
        assert_eq!(json_num(Some(3)), "3");
        assert_eq!(json_num::<u64>(None), "null");
    }
}
