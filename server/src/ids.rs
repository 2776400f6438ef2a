//! Chinese identifiers: resident ID numbers (GB 11643) and unified social credit codes (GB 32100).

use chrono::{Datelike, NaiveDate, Utc};

/// Why an ID number is refused, in Chinese for the form.
pub fn check_id_number(raw: &str) -> Result<String, &'static str> {
    let id = raw.trim().to_ascii_uppercase();
    if id.len() != 18 {
        return Err("身份证号码应为 18 位");
    }
    let bytes = id.as_bytes();
    if !bytes[..17].iter().all(u8::is_ascii_digit) || !(bytes[17].is_ascii_digit() || bytes[17] == b'X') {
        return Err("身份证号码只能包含数字，最后一位可以是 X");
    }
    let birth = NaiveDate::parse_from_str(&id[6..14], "%Y%m%d").map_err(|_| "身份证号码中的出生日期无效")?;
    let today = Utc::now().date_naive();
    if birth > today || birth.year() < today.year() - 120 {
        return Err("身份证号码中的出生日期无效");
    }
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    let sum: u32 = bytes[..17].iter().zip(WEIGHTS).map(|(b, w)| u32::from(b - b'0') * w).sum();
    if CHECK[(sum % 11) as usize] != bytes[17] {
        return Err("身份证号码校验位不正确");
    }
    Ok(id)
}

/// The gender an ID number encodes (17th digit: odd male, even female).
pub fn gender_of(id: &str) -> &'static str {
    match id.as_bytes().get(16).map(|b| b - b'0') {
        Some(d) if d % 2 == 1 => "male",
        _ => "female",
    }
}

/// `430102********1234`: lists never show a whole ID number. Counted in characters: stored rows of
/// uploaded rosters can hold any text, and slicing such text by bytes would panic.
pub fn mask_id_number(id: &str) -> String {
    let count = id.chars().count();
    if count < 10 {
        return "*".repeat(count);
    }
    id.chars().enumerate().map(|(i, c)| if i < 6 || i >= count - 4 { c } else { '*' }).collect()
}

/// Masks all but the first character of a name (`张**`).
pub fn mask_name(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => std::iter::once(first).chain(chars.map(|_| '*')).collect(),
        None => String::new(),
    }
}

const CREDIT_CHARS: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";

/// Validates an 18-character unified social credit code including its check character.
pub fn check_credit_code(raw: &str) -> Result<String, &'static str> {
    let code = raw.trim().to_ascii_uppercase();
    if code.chars().count() != 18 {
        return Err("统一社会信用代码应为 18 位");
    }
    let values: Option<Vec<u32>> = code.chars().map(|c| CREDIT_CHARS.find(c).map(|i| i as u32)).collect();
    let Some(values) = values else {
        return Err("统一社会信用代码含有无效字符");
    };
    const WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
    let sum: u32 = values[..17].iter().zip(WEIGHTS).map(|(v, w)| v * w).sum();
    let check = (31 - sum % 31) % 31;
    if values[17] != check {
        return Err("统一社会信用代码校验位不正确");
    }
    Ok(code)
}

/// Completes the first 17 characters of a credit code with its check character (demo data, tests).
pub fn credit_code_with_check(first17: &str) -> String {
    const WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
    let sum: u32 = first17.chars().zip(WEIGHTS).map(|(c, w)| CREDIT_CHARS.find(c).unwrap_or(0) as u32 * w).sum();
    let check = ((31 - sum % 31) % 31) as usize;
    format!("{first17}{}", &CREDIT_CHARS[check..check + 1])
}

/// Completes the first 17 digits of an ID number with its check digit (demo data, tests).
pub fn id_number_with_check(first17: &str) -> String {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    let sum: u32 = first17.bytes().zip(WEIGHTS).map(|(b, w)| u32::from(b - b'0') * w).sum();
    format!("{first17}{}", CHECK[(sum % 11) as usize] as char)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_numbers() {
        // The GB 11643 example number.
        assert_eq!(check_id_number("11010519491231002x"), Ok("11010519491231002X".into()));
        assert_eq!(check_id_number("110105194912310021"), Err("身份证号码校验位不正确"));
        assert!(check_id_number("1101051949123100").is_err());
        assert_eq!(check_id_number(&id_number_with_check("11010519491331002")), Err("身份证号码中的出生日期无效"));
        assert_eq!(gender_of("11010519491231002X"), "female");
        assert_eq!(mask_id_number("11010519491231002X"), "110105********002X");
    }

    #[test]
    fn credit_codes() {
        let code = credit_code_with_check("91430100MA4L12345");
        assert!(check_credit_code(&code).is_ok());
        let mut bad = code.clone();
        bad.replace_range(17..18, if &code[17..] == "0" { "1" } else { "0" });
        assert!(check_credit_code(&bad).is_err());
        assert!(check_credit_code("91430100MA4L1234").is_err());
        assert!(check_credit_code("91430100MA4L1234I5").is_err());
    }

    mod properties {
        use super::super::*;
        use proptest::prelude::*;

        /// The first 17 digits of an ID number: a region, a birth date in the last century, a sequence.
        fn first17() -> impl Strategy<Value = String> {
            (100_000u32..999_999, 1930i32..2005, 1u32..13, 1u32..29, 0u32..1000)
                .prop_map(|(region, year, month, day, seq)| format!("{region:06}{year:04}{month:02}{day:02}{seq:03}"))
        }

        fn credit17() -> impl Strategy<Value = String> {
            proptest::collection::vec(proptest::sample::select(CREDIT_CHARS.chars().collect::<Vec<_>>()), 17)
                .prop_map(|chars| chars.into_iter().collect())
        }

        proptest! {
            #[test]
            fn any_text_is_judged_without_panicking(text in any::<String>()) {
                let _ = check_id_number(&text);
                let _ = check_credit_code(&text);
                prop_assert_eq!(mask_id_number(&text).chars().count(), text.chars().count());
                prop_assert_eq!(mask_name(&text).chars().count(), text.chars().count());
            }

            #[test]
            fn a_masked_number_shows_only_its_ends(text in "\\PC{10,30}") {
                let masked: Vec<char> = mask_id_number(&text).chars().collect();
                let count = masked.len();
                prop_assert!(masked[6..count - 4].iter().all(|c| *c == '*'));
            }

            #[test]
            fn a_completed_id_number_passes_and_any_one_changed_digit_fails(first in first17(), at in 0usize..18, digit in 0u8..10) {
                let id = id_number_with_check(&first);
                prop_assert_eq!(check_id_number(&id.to_lowercase()), Ok(id.clone()));
                let mut changed = id.clone().into_bytes();
                if changed[at] != b'0' + digit {
                    changed[at] = b'0' + digit;
                    let changed = String::from_utf8(changed).unwrap();
                    prop_assert!(check_id_number(&changed).is_err(), "{} accepted", changed);
                }
            }

            #[test]
            fn a_completed_credit_code_passes_and_any_one_changed_character_fails(
                first in credit17(), at in 0usize..18, replacement in proptest::sample::select(CREDIT_CHARS.chars().collect::<Vec<_>>()),
            ) {
                let code = credit_code_with_check(&first);
                prop_assert_eq!(check_credit_code(&code), Ok(code.clone()));
                let mut chars: Vec<char> = code.chars().collect();
                if chars[at] != replacement {
                    chars[at] = replacement;
                    let changed: String = chars.into_iter().collect();
                    prop_assert!(check_credit_code(&changed).is_err(), "{} accepted", changed);
                }
            }
        }
    }
}
