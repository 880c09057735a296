//! Exact decimal amounts for settlement legs: integer arithmetic on a scaled `i128`, never
//! floats, so `0.1 + 0.2` nets to exactly `0.3`.

use std::fmt;

/// Most fractional digits accepted (more than any asset Kraken lists).
const MAX_SCALE: u32 = 18;
/// Most integer digits accepted. With [`MAX_SCALE`] a value uses at most 33 of the 38 digits an
/// `i128` holds, so over 10^5 maximal trades can be summed before [`DecimalError::Overflow`].
const MAX_INTEGER_DIGITS: usize = 15;

/// A signed decimal: `units / 10^scale`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Decimal {
    units: i128,
    scale: u32,
}

/// Why decimal text was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DecimalError {
    /// Not `[-]digits[.digits]`.
    Syntax,
    /// More than [`MAX_INTEGER_DIGITS`] or [`MAX_SCALE`] digits.
    TooLong,
    /// A sum left the representable range.
    Overflow,
}

impl fmt::Display for DecimalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Syntax => "not a decimal number like 1.5 or -0.25",
            Self::TooLong => "too many digits (at most 15 before and 18 after the point)",
            Self::Overflow => "the sum is too large",
        })
    }
}

impl Decimal {
    /// Zero.
    #[cfg(test)]
    pub(crate) const ZERO: Self = Self { units: 0, scale: 0 };

    /// Parses `[-]digits[.digits]` (no exponent, no `+`, no bare `.5`).
    pub(crate) fn parse(text: &str) -> Result<Self, DecimalError> {
        let (negative, unsigned) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (integer, fraction) = match unsigned.split_once('.') {
            Some((i, f)) => (i, Some(f)),
            None => (unsigned, None),
        };
        let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !all_digits(integer) || fraction.is_some_and(|f| !all_digits(f)) {
            return Err(DecimalError::Syntax);
        }
        let fraction = fraction.unwrap_or("");
        let integer = integer.trim_start_matches('0');
        if integer.len() > MAX_INTEGER_DIGITS || fraction.len() > MAX_SCALE as usize {
            return Err(DecimalError::TooLong);
        }
        let mut units: i128 = 0;
        for b in integer.bytes().chain(fraction.bytes()) {
            // Cannot overflow: at most 38 digits, and i128 holds 38 nines.
            units = units * 10 + i128::from(b - b'0');
        }
        let scale = u32::try_from(fraction.len()).map_err(|_| DecimalError::TooLong)?;
        Ok(Self {
            units: if negative { -units } else { units },
            scale,
        })
    }

    /// The exact sum.
    pub(crate) fn checked_add(self, other: Self) -> Result<Self, DecimalError> {
        let scale = self.scale.max(other.scale);
        let a = self.rescaled(scale)?;
        let b = other.rescaled(scale)?;
        let units = a.checked_add(b).ok_or(DecimalError::Overflow)?;
        Ok(Self { units, scale })
    }

    /// Whether the value is zero.
    pub(crate) fn is_zero(self) -> bool {
        self.units == 0
    }

    fn rescaled(self, scale: u32) -> Result<i128, DecimalError> {
        10i128
            .checked_pow(scale - self.scale)
            .and_then(|factor| self.units.checked_mul(factor))
            .ok_or(DecimalError::Overflow)
    }
}

impl fmt::Display for Decimal {
    /// The shortest exact text: no trailing fractional zeros, no `-0`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let magnitude = self.units.unsigned_abs();
        let factor = 10u128.pow(self.scale);
        let (integer, fraction) = (magnitude / factor, magnitude % factor);
        if self.units < 0 {
            f.write_str("-")?;
        }
        write!(f, "{integer}")?;
        if fraction != 0 {
            let digits = format!("{fraction:0width$}", width = self.scale as usize);
            write!(f, ".{}", digits.trim_end_matches('0'))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sum(values: &[&str]) -> String {
        values
            .iter()
            .map(|v| Decimal::parse(v).unwrap())
            .try_fold(Decimal::ZERO, Decimal::checked_add)
            .unwrap()
            .to_string()
    }

    #[test]
    fn sums_are_exact() {
        assert_eq!(sum(&["0.1", "0.2"]), "0.3");
        assert_eq!(sum(&["1.5", "-0.25"]), "1.25");
        assert_eq!(sum(&["1", "-1"]), "0");
        assert_eq!(sum(&["-0.5", "0.25"]), "-0.25");
        assert_eq!(
            sum(&["100.10", "0.000000000000000001"]),
            "100.100000000000000001"
        );
        assert_eq!(sum(&["007.50"]), "7.5");
        assert_eq!(sum(&["-0.0"]), "0");
    }

    #[test]
    fn malformed_text_is_refused() {
        for bad in [
            "", "-", ".5", "5.", "1e3", "+1", "1.2.3", "1,5", " 1", "0x10", "١",
        ] {
            assert_eq!(Decimal::parse(bad), Err(DecimalError::Syntax), "{bad:?}");
        }
        assert_eq!(
            Decimal::parse("1234567890123456"),
            Err(DecimalError::TooLong)
        );
        assert_eq!(
            Decimal::parse("0.1234567890123456789"),
            Err(DecimalError::TooLong)
        );
    }

    #[test]
    fn extremes_do_not_overflow_silently() {
        let big = Decimal::parse("999999999999999.999999999999999999").unwrap();
        let mut total = Decimal::ZERO;
        for _ in 0..1000 {
            total = total.checked_add(big).unwrap();
        }
        assert_eq!(total.to_string(), "999999999999999999.999999999999999");
        let huge = Decimal {
            units: i128::MAX,
            scale: 0,
        };
        assert_eq!(huge.checked_add(big), Err(DecimalError::Overflow));
    }
}
