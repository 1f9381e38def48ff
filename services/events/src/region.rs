//! Kemendagri region codes (kode wilayah, Permendagri on administrative codes): province
//! `PP`, regency or city `PP.RR`, sub-district `PP.RR.DD`, village `PP.RR.DD.VVVV`.
//!
//! Villages are matched by these codes, never by name: Indonesia has many villages of one
//! name (two "Jetis" in one regency share nothing), and a name is typed in any case. Names
//! travel beside the codes for display only.

use std::fmt;

/// Province codes in use, including the Papua provinces of 2022. The same list checks the
/// NIK's first two digits.
pub const PROVINCE_CODES: &[u8] = &[
    11, 12, 13, 14, 15, 16, 17, 18, 19, 21, 31, 32, 33, 34, 35, 36, 51, 52, 53, 61, 62, 63, 64, 65,
    71, 72, 73, 74, 75, 76, 81, 82, 91, 92, 93, 94, 95, 96,
];

/// A village (desa or kelurahan) code, kept in the dotted form `33.01.02.2003`. Village
/// serials start with 1 for a kelurahan and 2 for a desa.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct VillageCode(String);

/// A regency or city (kabupaten/kota) code, `33.01`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RegencyCode(String);

impl VillageCode {
    /// Reads `33.01.02.2003` or the same ten digits without dots.
    pub fn parse(s: &str) -> Result<Self, String> {
        let digits = digits_of(s, 10, "a village code such as 33.01.02.2003")?;
        province(&digits)?;
        nonzero(&digits[2..4], "regency")?;
        nonzero(&digits[4..6], "sub-district")?;
        if !matches!(digits.as_bytes()[6], b'1' | b'2') || &digits[7..10] == "000" {
            return Err(format!(
                "village serial {} must be 1001-1999 (kelurahan) or 2001-2999 (desa)",
                &digits[6..10]
            ));
        }
        Ok(VillageCode(format!(
            "{}.{}.{}.{}",
            &digits[0..2],
            &digits[2..4],
            &digits[4..6],
            &digits[6..10]
        )))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The regency or city the village belongs to.
    pub fn regency(&self) -> RegencyCode {
        RegencyCode(self.0[..5].to_string())
    }

    /// The sub-district (kecamatan) code, `33.01.02`.
    pub fn sub_district(&self) -> &str {
        &self.0[..8]
    }
}

impl RegencyCode {
    /// Reads `33.01` or `3301`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let digits = digits_of(s, 4, "a regency code such as 33.01")?;
        province(&digits)?;
        nonzero(&digits[2..4], "regency")?;
        Ok(RegencyCode(format!("{}.{}", &digits[0..2], &digits[2..4])))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the village lies in this regency.
    pub fn contains(&self, village: &VillageCode) -> bool {
        village.regency() == *self
    }
}

/// The digits of a code given dotted or plain, with the dots only where they belong.
fn digits_of(s: &str, len: usize, expected: &str) -> Result<String, String> {
    let s = s.trim();
    let digits: String = s.chars().filter(|c| *c != '.').collect();
    let plain = digits.len() == s.len();
    // Dots after the province, regency and sub-district parts.
    let dots: &[usize] = if len == 10 { &[2, 5, 8] } else { &[2] };
    let dotted = s.len() == len + dots.len() && dots.iter().all(|&at| s.as_bytes()[at] == b'.');
    if digits.len() != len || !digits.bytes().all(|b| b.is_ascii_digit()) || !(plain || dotted) {
        return Err(format!("`{s}` is not {expected} (Kemendagri kode wilayah)"));
    }
    Ok(digits)
}

fn province(digits: &str) -> Result<(), String> {
    let code: u8 = digits[0..2].parse().expect("digits");
    if PROVINCE_CODES.contains(&code) {
        Ok(())
    } else {
        Err(format!("province code {code:02} does not exist"))
    }
}

fn nonzero(part: &str, what: &str) -> Result<(), String> {
    if part.bytes().all(|b| b == b'0') {
        Err(format!("{what} code must not be {part}"))
    } else {
        Ok(())
    }
}

impl TryFrom<String> for VillageCode {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        VillageCode::parse(&s)
    }
}

impl From<VillageCode> for String {
    fn from(code: VillageCode) -> String {
        code.0
    }
}

impl std::str::FromStr for VillageCode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        VillageCode::parse(s)
    }
}

impl std::str::FromStr for RegencyCode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        RegencyCode::parse(s)
    }
}

impl fmt::Display for VillageCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

impl fmt::Display for RegencyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Dotted and plain forms are one code; its regency and sub-district are its prefixes.
    #[test]
    fn village_codes_read_dotted_or_plain() {
        let dotted = VillageCode::parse("33.01.05.2004").unwrap();
        assert_eq!(VillageCode::parse(" 3301052004 ").unwrap(), dotted);
        assert_eq!(dotted.as_str(), "33.01.05.2004");
        assert_eq!(dotted.sub_district(), "33.01.05");
        assert_eq!(dotted.regency(), RegencyCode::parse("3301").unwrap());
        assert!(RegencyCode::parse("33.01").unwrap().contains(&dotted));
        assert!(!RegencyCode::parse("33.02").unwrap().contains(&dotted));
    }

    /// Names, partial codes, misplaced dots, zero parts and unknown provinces are refused
    /// with the reason.
    #[test]
    fn malformed_codes_are_refused_with_the_reason() {
        for (input, reason) in [
            ("Jetis", "not a village code"),
            ("33.01.05", "not a village code"),
            ("330.1.05.2004", "not a village code"),
            ("33.01.05.20.04", "not a village code"),
            ("99.01.05.2004", "province code 99"),
            ("33.00.05.2004", "regency code must not be 00"),
            ("33.01.00.2004", "sub-district code must not be 00"),
            ("33.01.05.2000", "village serial 2000"),
            ("33.01.05.3004", "village serial 3004"),
        ] {
            let err = VillageCode::parse(input).unwrap_err();
            assert!(err.contains(reason), "{input}: {err}");
        }
        assert!(RegencyCode::parse("33.01.05").is_err());
        assert!(RegencyCode::parse("Cilacap").is_err());
    }

    /// An event carrying a malformed code does not decode (it goes to the dead letters
    /// with the reason), and a good one keeps its dotted form through serde.
    #[test]
    fn serde_keeps_the_dotted_form_and_refuses_malformed_codes() {
        let code: VillageCode = serde_json::from_str("\"3301052004\"").unwrap();
        assert_eq!(serde_json::to_string(&code).unwrap(), "\"33.01.05.2004\"");
        assert!(serde_json::from_str::<VillageCode>("\"Jetis\"").is_err());
    }
}
