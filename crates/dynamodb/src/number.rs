//! DynamoDB's numbers: decimal, at most 38 significant digits, magnitudes from 1E-130 to
//! below 1E+126, exact (never floats). Written back in plain decimal with no leading or
//! trailing zeros (`1.5E2` is `150`, `-0` is `0`), compared numerically, and encoded for
//! keys so that bytewise order is numeric order.

use std::cmp::Ordering;

/// The most significant digits a number holds.
pub const MAX_DIGITS: usize = 38;
/// The largest exponent, as `0.d… × 10^exp` (below 1E+126).
const MAX_EXP: i32 = 126;
/// The smallest exponent, as `0.d… × 10^exp` (1E-130 is `0.1 × 10^-129`).
const MIN_EXP: i32 = -129;

/// A number DynamoDB can hold: `±0.d₁d₂… × 10^exp`, its digits without leading or trailing
/// zeros (none at all for zero).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Number {
    neg: bool,
    digits: Vec<u8>,
    exp: i32,
}

/// Why a text is not a DynamoDB number, in DynamoDB's words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NumberError {
    /// Not a number at all.
    #[error("The parameter cannot be converted to a numeric value{0}")]
    NotNumeric(String),
    /// More than 38 significant digits.
    #[error("Attempting to store more than 38 significant digits in a Number")]
    Precision,
    /// 1E+126 or more.
    #[error("Number overflow. Attempting to store a number with magnitude larger than supported range")]
    Overflow,
    /// Below 1E-130 (but not zero).
    #[error("Number underflow. Attempting to store a number with magnitude smaller than supported range")]
    Underflow,
}

impl Number {
    /// Zero.
    pub fn zero() -> Number {
        Number { neg: false, digits: Vec::new(), exp: 0 }
    }

    /// Reads a number as DynamoDB does: an optional sign, digits with an optional point, an
    /// optional exponent; no spaces.
    pub fn parse(text: &str) -> Result<Number, NumberError> {
        let not =
            || NumberError::NotNumeric(if text.is_empty() { String::new() } else { format!(": {}", bounded(text)) });
        let b = text.as_bytes();
        let mut i = 0;
        let mut neg = false;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            neg = b[i] == b'-';
            i += 1;
        }
        let mut mantissa: Vec<u8> = Vec::new();
        let mut point: Option<usize> = None;
        let mut any = false;
        while i < b.len() {
            match b[i] {
                c @ b'0'..=b'9' => {
                    // Bounded: digits beyond what any valid number needs are only counted.
                    if mantissa.len() < 4096 {
                        mantissa.push(c - b'0');
                    } else {
                        return Err(NumberError::Precision);
                    }
                    any = true;
                }
                b'.' if point.is_none() => point = Some(mantissa.len()),
                _ => break,
            }
            i += 1;
        }
        if !any {
            return Err(not());
        }
        let mut e: i64 = 0;
        if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
            i += 1;
            let mut eneg = false;
            if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
                eneg = b[i] == b'-';
                i += 1;
            }
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                e = (e * 10 + i64::from(b[i] - b'0')).min(1_000_000);
                i += 1;
            }
            if i == start {
                return Err(not());
            }
            if eneg {
                e = -e;
            }
        }
        if i != b.len() {
            return Err(not());
        }
        let int_len = point.unwrap_or(mantissa.len()) as i64;
        // Leading zeros move the point; trailing ones go.
        let lead = mantissa.iter().take_while(|d| **d == 0).count();
        let digits: Vec<u8> = mantissa[lead..].to_vec();
        let trail = digits.iter().rev().take_while(|d| **d == 0).count();
        let digits = digits[..digits.len() - trail].to_vec();
        if digits.is_empty() {
            return Ok(Number::zero());
        }
        let exp = int_len - lead as i64 + e;
        Number::checked(neg, digits, exp)
    }

    fn checked(neg: bool, digits: Vec<u8>, exp: i64) -> Result<Number, NumberError> {
        if exp > i64::from(MAX_EXP) {
            return Err(NumberError::Overflow);
        }
        if exp < i64::from(MIN_EXP) {
            return Err(NumberError::Underflow);
        }
        if digits.len() > MAX_DIGITS {
            return Err(NumberError::Precision);
        }
        Ok(Number { neg, digits, exp: exp as i32 })
    }

    /// Whether it is zero.
    pub fn is_zero(&self) -> bool {
        self.digits.is_empty()
    }

    /// Whether it is below zero.
    pub fn is_negative(&self) -> bool {
        self.neg
    }

    /// A whole number that fits an `i64`, if it is one.
    pub fn as_i64(&self) -> Option<i64> {
        if self.is_zero() {
            return Some(0);
        }
        if self.exp < self.digits.len() as i32 || self.exp > 18 {
            return None;
        }
        let mut v: i64 = 0;
        for i in 0..self.exp as usize {
            v = v.checked_mul(10)?.checked_add(i64::from(self.digits.get(i).copied().unwrap_or(0)))?;
        }
        Some(if self.neg { -v } else { v })
    }

    /// The number as a float, for what only needs an estimate (TTL's epoch seconds).
    pub fn to_f64(&self) -> f64 {
        self.to_string().parse().unwrap_or(0.0)
    }

    /// The sum; an error when it needs more than DynamoDB holds.
    pub fn add(&self, other: &Number) -> Result<Number, NumberError> {
        if self.is_zero() {
            return Ok(other.clone());
        }
        if other.is_zero() {
            return Ok(self.clone());
        }
        // Both as integers of digits times 10^scale (scale: the last digit's place).
        let scale_a = self.exp - self.digits.len() as i32;
        let scale_b = other.exp - other.digits.len() as i32;
        let scale = scale_a.min(scale_b);
        let a = shifted(&self.digits, (scale_a - scale) as usize);
        let b = shifted(&other.digits, (scale_b - scale) as usize);
        let (neg, mag) = if self.neg == other.neg {
            (self.neg, add_mag(&a, &b))
        } else {
            match cmp_mag(&a, &b) {
                Ordering::Equal => return Ok(Number::zero()),
                Ordering::Greater => (self.neg, sub_mag(&a, &b)),
                Ordering::Less => (other.neg, sub_mag(&b, &a)),
            }
        };
        let lead = mag.iter().take_while(|d| **d == 0).count();
        let mag = &mag[lead..];
        let trail = mag.iter().rev().take_while(|d| **d == 0).count();
        let digits = mag[..mag.len() - trail].to_vec();
        if digits.is_empty() {
            return Ok(Number::zero());
        }
        let exp = i64::from(scale) + mag.len() as i64;
        Number::checked(neg, digits, exp)
    }

    /// The difference; an error when it needs more than DynamoDB holds.
    pub fn sub(&self, other: &Number) -> Result<Number, NumberError> {
        self.add(&other.negated())
    }

    fn negated(&self) -> Number {
        Number { neg: !self.neg && !self.is_zero(), digits: self.digits.clone(), exp: self.exp }
    }

    /// The bytes DynamoDB counts for it: one, a byte per two significant digits on each
    /// side of the point, one more when negative.
    pub fn size(&self) -> usize {
        if self.is_zero() {
            return 1;
        }
        let int = self.exp.clamp(0, self.digits.len() as i32) as usize;
        let frac = self.digits.len() - int;
        1 + int.div_ceil(2) + frac.div_ceil(2) + usize::from(self.neg)
    }

    /// An encoding whose bytewise order is numeric order.
    pub fn key_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.digits.len() + 4);
        if self.is_zero() {
            out.push(1);
            return out;
        }
        let biased = (self.exp + 0x4000) as u16;
        if self.neg {
            out.push(0);
            out.extend_from_slice(&(!biased).to_be_bytes());
            out.extend(self.digits.iter().map(|d| 9 - d));
            // Ends above any digit: -0.12 sorts after -0.123.
            out.push(0xff);
        } else {
            out.push(2);
            out.extend_from_slice(&biased.to_be_bytes());
            out.extend_from_slice(&self.digits);
        }
        out
    }

    /// Reads [`Number::key_bytes`] back.
    pub fn from_key_bytes(b: &[u8]) -> Option<Number> {
        match b.first()? {
            1 => Some(Number::zero()),
            0 => {
                let biased = !u16::from_be_bytes([*b.get(1)?, *b.get(2)?]);
                let digits = b.get(3..b.len().checked_sub(1)?)?.iter().map(|d| 9 - d).collect();
                Some(Number { neg: true, digits, exp: i32::from(biased) - 0x4000 })
            }
            2 => {
                let biased = u16::from_be_bytes([*b.get(1)?, *b.get(2)?]);
                Some(Number { neg: false, digits: b.get(3..)?.to_vec(), exp: i32::from(biased) - 0x4000 })
            }
            _ => None,
        }
    }
}

fn bounded(text: &str) -> &str {
    match text.char_indices().nth(256) {
        Some((i, _)) => &text[..i],
        None => text,
    }
}

fn shifted(digits: &[u8], zeros: usize) -> Vec<u8> {
    let mut v = digits.to_vec();
    v.resize(digits.len() + zeros, 0);
    v
}

fn cmp_mag(a: &[u8], b: &[u8]) -> Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// Sum of two digit strings (most significant first).
fn add_mag(a: &[u8], b: &[u8]) -> Vec<u8> {
    let n = a.len().max(b.len());
    let mut out = vec![0u8; n + 1];
    let mut carry = 0u8;
    for i in 0..n {
        let da = if i < a.len() { a[a.len() - 1 - i] } else { 0 };
        let db = if i < b.len() { b[b.len() - 1 - i] } else { 0 };
        let s = da + db + carry;
        out[n - i] = s % 10;
        carry = s / 10;
    }
    out[0] = carry;
    out
}

/// `a - b` for `a >= b`.
fn sub_mag(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; a.len()];
    let mut borrow = 0i8;
    for i in 0..a.len() {
        let da = a[a.len() - 1 - i] as i8;
        let db = if i < b.len() { b[b.len() - 1 - i] as i8 } else { 0 };
        let mut d = da - db - borrow;
        borrow = 0;
        if d < 0 {
            d += 10;
            borrow = 1;
        }
        out[a.len() - 1 - i] = d as u8;
    }
    out
}

impl Ord for Number {
    fn cmp(&self, other: &Number) -> Ordering {
        let sign = |n: &Number| {
            if n.is_zero() {
                0
            } else if n.neg {
                -1
            } else {
                1
            }
        };
        match sign(self).cmp(&sign(other)) {
            Ordering::Equal => {}
            o => return o,
        }
        if self.is_zero() {
            return Ordering::Equal;
        }
        let mag = self.exp.cmp(&other.exp).then_with(|| self.digits.cmp(&other.digits));
        if self.neg {
            mag.reverse()
        } else {
            mag
        }
    }
}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Number) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl std::fmt::Display for Number {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_zero() {
            return f.write_str("0");
        }
        let mut s = String::with_capacity(self.digits.len() + 8);
        if self.neg {
            s.push('-');
        }
        let digit = |d: &u8| char::from(b'0' + d);
        let len = self.digits.len() as i32;
        if self.exp <= 0 {
            s.push_str("0.");
            s.extend(std::iter::repeat_n('0', (-self.exp) as usize));
            s.extend(self.digits.iter().map(digit));
        } else if self.exp >= len {
            s.extend(self.digits.iter().map(digit));
            s.extend(std::iter::repeat_n('0', (self.exp - len) as usize));
        } else {
            let (int, frac) = self.digits.split_at(self.exp as usize);
            s.extend(int.iter().map(digit));
            s.push('.');
            s.extend(frac.iter().map(digit));
        }
        f.write_str(&s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Number {
        Number::parse(s).unwrap()
    }

    #[test]
    fn normalises_as_dynamodb_writes_back() {
        for (input, out) in [
            ("00042", "42"),
            ("-0", "0"),
            ("1.5E2", "150"),
            ("1.0", "1"),
            ("0.000123", "0.000123"),
            ("-12.3400", "-12.34"),
            ("+7", "7"),
            (".5", "0.5"),
            ("5.", "5"),
            ("1e-3", "0.001"),
            ("123456789012345678901234567890.12345678", "123456789012345678901234567890.12345678"),
        ] {
            assert_eq!(n(input).to_string(), out, "{input}");
        }
    }

    #[test]
    fn refuses_what_dynamodb_refuses() {
        assert!(matches!(Number::parse(""), Err(NumberError::NotNumeric(_))));
        assert!(matches!(Number::parse("abc"), Err(NumberError::NotNumeric(_))));
        assert!(matches!(Number::parse(" 1"), Err(NumberError::NotNumeric(_))));
        assert!(matches!(Number::parse("1e"), Err(NumberError::NotNumeric(_))));
        assert!(matches!(Number::parse("NaN"), Err(NumberError::NotNumeric(_))));
        assert_eq!(Number::parse("1234567890123456789012345678901234567890"), Err(NumberError::Precision));
        assert_eq!(Number::parse("1E126"), Err(NumberError::Overflow));
        assert_eq!(Number::parse("1E-131"), Err(NumberError::Underflow));
        assert!(Number::parse("9.9999999999999999999999999999999999999E+125").is_ok());
        assert!(Number::parse("1E-130").is_ok());
        // Trailing zeros are not significant.
        assert!(Number::parse("1000000000000000000000000000000000000000000").is_ok());
    }

    #[test]
    fn orders_numerically() {
        let mut v: Vec<Number> = ["10", "-1", "0", "2", "-0.5", "1E10", "-100", "0.001", "-0.0011"].map(n).to_vec();
        v.sort();
        let s: Vec<String> = v.iter().map(ToString::to_string).collect();
        assert_eq!(s, ["-100", "-1", "-0.5", "-0.0011", "0", "0.001", "2", "10", "10000000000"]);
        let mut k: Vec<Vec<u8>> = v.iter().map(Number::key_bytes).collect();
        let sorted = k.clone();
        k.sort();
        assert_eq!(k, sorted, "key bytes sort as numbers do");
        for x in &v {
            assert_eq!(Number::from_key_bytes(&x.key_bytes()).as_ref(), Some(x));
        }
        assert!(n("-0.12") > n("-0.123"));
        assert!(n("-0.12").key_bytes() > n("-0.123").key_bytes());
    }

    #[test]
    fn adds_exactly() {
        assert_eq!(n("0.1").add(&n("0.2")).unwrap().to_string(), "0.3");
        assert_eq!(n("99999999999999999999999999999999999999").sub(&n("1")).unwrap().to_string().len(), 38);
        assert_eq!(n("-5").add(&n("3")).unwrap().to_string(), "-2");
        assert_eq!(n("5").sub(&n("5")).unwrap().to_string(), "0");
        assert_eq!(n("1E100").add(&n("-1E100")).unwrap(), Number::zero());
        assert_eq!(
            n("99999999999999999999999999999999999999").add(&n("1")).unwrap().to_string(),
            format!("1{}", "0".repeat(38))
        );
        assert_eq!(n("1E32").add(&n("0.000001")), Err(NumberError::Precision));
        assert_eq!(n("9.9999999999999999999999999999999999999E+125").add(&n("1E125")), Err(NumberError::Overflow));
    }

    #[test]
    fn sizes_as_dynamodb_counts() {
        assert_eq!(n("0").size(), 1);
        assert_eq!(n("1").size(), 2);
        assert_eq!(n("1E125").size(), 2);
        assert_eq!(n("12.34").size(), 3);
        assert_eq!(n("-123").size(), 4);
        assert_eq!(n("100").size(), 2);
    }

    #[test]
    fn small_integers() {
        assert_eq!(n("1000").as_i64(), Some(1000));
        assert_eq!(n("-12").as_i64(), Some(-12));
        assert_eq!(n("1.5").as_i64(), None);
    }
}
