//! Byte sizes as people write them in a configuration file: `10485760`,
//! `"10 MiB"`, `"10MB"`.

use std::fmt;

use serde::{Deserialize, Deserializer};

/// A number of bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ByteSize(pub u64);

impl ByteSize {
    /// Reads `123`, `"123"`, `"10 KiB"`, `"10KB"` (KB, MB, GB, TB are
    /// decimal, KiB, MiB, GiB, TiB binary).
    ///
    /// # Errors
    /// A message saying what is wrong with `text`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
        let (number, unit) = text.split_at(split);
        let number: u64 = number
            .parse()
            .map_err(|_| format!("{text:?} is not a size: expected a number of bytes or e.g. \"10 MiB\""))?;
        let multiplier: u64 = match unit.trim().to_ascii_lowercase().as_str() {
            "" | "b" => 1,
            "kb" => 1_000,
            "kib" => 1 << 10,
            "mb" => 1_000_000,
            "mib" => 1 << 20,
            "gb" => 1_000_000_000,
            "gib" => 1 << 30,
            "tb" => 1_000_000_000_000,
            "tib" => 1 << 40,
            other => {
                return Err(format!("{text:?}: unknown unit {other:?} (use B, KB, KiB, MB, MiB, GB, GiB, TB or TiB)"));
            }
        };
        number.checked_mul(multiplier).map(ByteSize).ok_or_else(|| format!("{text:?} is too large"))
    }
}

impl fmt::Display for ByteSize {
    /// The size the way a person reads it: `12.4 MB`, `512 bytes`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        human_size(self.0, f)
    }
}

fn human_size(bytes: u64, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    const UNITS: [&str; 4] = ["kB", "MB", "GB", "TB"];
    if bytes < 1000 {
        return write!(f, "{bytes} bytes");
    }
    #[allow(clippy::cast_precision_loss)]
    let mut value = bytes as f64;
    for unit in UNITS {
        value /= 1000.0;
        if value < 1000.0 {
            return if value >= 100.0 || value.fract() == 0.0 {
                write!(f, "{value:.0} {unit}")
            } else {
                write!(f, "{value:.1} {unit}")
            };
        }
    }
    write!(f, "{value:.1} PB")
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(u64),
            Text(String),
        }
        match Raw::deserialize(deserializer)? {
            Raw::Number(n) => Ok(ByteSize(n)),
            Raw::Text(text) => ByteSize::parse(&text).map_err(serde::de::Error::custom),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_refuses_nonsense() {
        assert_eq!(ByteSize::parse("10 MiB"), Ok(ByteSize(10 << 20)));
        assert_eq!(ByteSize::parse("10MB"), Ok(ByteSize(10_000_000)));
        assert_eq!(ByteSize::parse("42"), Ok(ByteSize(42)));
        assert!(ByteSize::parse("ten").is_err());
        assert!(ByteSize::parse("10 parsecs").is_err());
        assert!(ByteSize::parse("99999999999 TiB").is_err());
    }

    #[test]
    fn displays_for_people() {
        assert_eq!(ByteSize(12_400_000).to_string(), "12.4 MB");
        assert_eq!(ByteSize(10_000_000).to_string(), "10 MB");
        assert_eq!(ByteSize(512).to_string(), "512 bytes");
        assert_eq!(ByteSize(5 << 30).to_string(), "5.4 GB");
    }
}
