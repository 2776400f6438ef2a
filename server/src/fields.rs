//! Checks of the text fields many forms share (registration, profiles, departments, reports): required
//! text within a length that cannot start a spreadsheet formula, mobile numbers, e-mail addresses and
//! personal names. Each adds its Chinese message to the form's errors under the field's key.

use crate::error::FieldErrors;

pub fn required(errors: &mut FieldErrors, field: &str, value: &str, label: &str, max: usize) {
    let len = value.trim().chars().count();
    if len == 0 {
        errors.add(field, format!("请填写{label}"));
    } else if len > max {
        errors.add(field, format!("{label}不能超过 {max} 个字"));
    } else if value.trim().starts_with(['=', '+', '-', '@']) {
        // Text a spreadsheet would run as a formula when an admin opens an export.
        errors.add(field, format!("{label}不能以 =、+、-、@ 开头"));
    }
}

pub fn check_phone(errors: &mut FieldErrors, phone: &str) {
    let p = phone.trim();
    if p.is_empty() {
        errors.add("phone", "请填写手机号码");
    } else if !(p.len() == 11 && p.starts_with('1') && p.bytes().all(|b| b.is_ascii_digit())) {
        errors.add("phone", "手机号码应为 11 位数字");
    }
}

pub fn check_email(errors: &mut FieldErrors, email: &str) {
    let e = email.trim();
    let valid = e.len() <= 100
        && e.split_once('@')
            .is_some_and(|(user, domain)| !user.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.'))
        && !e.contains(char::is_whitespace);
    if e.is_empty() {
        errors.add("email", "请填写电子邮箱");
    } else if !valid {
        errors.add("email", "电子邮箱格式不正确");
    }
}

pub fn check_name(errors: &mut FieldErrors, field: &str, name: &str) {
    let n = name.trim();
    let len = n.chars().count();
    if len == 0 {
        errors.add(field, "请填写姓名");
    } else if !(2..=30).contains(&len) || !is_personal_name(n) {
        errors.add(field, "姓名应为 2 到 30 个字，只能含文字、间隔号“·”和空格");
    }
}

/// A person's name as identity documents write it: letters of any script (Han, Tibetan, Uyghur, Latin…)
/// with middle dots, spaces, Tibetan syllable marks and inner hyphens or points (罗伯特·布朗, Jean-Luc). No digits, symbols or
/// formula text such as `=HYPERLINK(…)`.
fn is_personal_name(name: &str) -> bool {
    let inner = |c: char| matches!(c, '·' | '•' | '．' | '.' | ' ' | '-' | '\u{0F0B}');
    name.chars().next().is_some_and(char::is_alphabetic)
        && name.chars().all(|c| (c.is_alphabetic() && !c.is_ascii_digit()) || inner(c) || is_combining_mark(c))
}

/// Marks that some scripts (Tibetan, Uyghur, Mongolian) write on a letter: part of a name, not symbols.
fn is_combining_mark(c: char) -> bool {
    matches!(c as u32, 0x0300..=0x036F | 0x0610..=0x061A | 0x064B..=0x065F | 0x0670 | 0x06D6..=0x06ED | 0x0F71..=0x0F84 | 0x180B..=0x180D)
}

#[cfg(test)]
mod tests {
    use super::is_personal_name;

    #[test]
    fn names_are_letters_not_formulas() {
        for ok in ["张三", "欧阳娜娜", "罗伯特·布朗", "Jean-Luc Picard", "阿卜杜拉·艾买提", "བཀྲ་ཤིས"] {
            assert!(is_personal_name(ok), "{ok}");
        }
        for bad in ["=cmd|' /C calc'!A", "=HYPERLINK(\"http://x\",\"y\")", "+1", "@SUM(A1)", "-张三", "张三1", "张<三>"] {
            assert!(!is_personal_name(bad), "{bad}");
        }
    }
}
