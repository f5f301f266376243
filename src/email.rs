//! E-mail addresses as accounts and commenters give them.

/// `Ada@Example.COM ` → `ada@example.com`: e-mails are unique regardless of case.
pub fn normalize(email: &str) -> String {
    email.trim().to_lowercase()
}

/// A plausibility check, not RFC 5322: one `@`, something on each side, a dot in the domain.
pub fn is_plausible(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && email.chars().count() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
}
