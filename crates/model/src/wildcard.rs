//! Wildcard matching, the one algorithm behind IAM's `*`/`?` patterns (ARNs, actions) and
//! CloudWatch Logs' `...` fields: a pattern of items, some of which stand for any run of
//! the text. Iterative, remembering only the last such item to fall back to, so no
//! pattern costs more than pattern × text steps, and none recurses.

/// Whether `pattern` matches the whole of `text`: an item for which `is_star` holds
/// matches any run of the text (empty included); any other item matches one element for
/// which `one` holds.
pub fn matches_by<P, T>(pattern: &[P], text: &[T], is_star: impl Fn(&P) -> bool, one: impl Fn(&P, &T) -> bool) -> bool {
    let (mut p, mut t) = (0, 0);
    // After the last star seen: the pattern position past it, and where the text resumes.
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(item) if is_star(item) => {
                p += 1;
                star = Some((p, t));
            }
            Some(item) if one(item, &text[t]) => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((after, from)) => {
                    star = Some((after, from + 1));
                    p = after;
                    t = from + 1;
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(is_star)
}

/// IAM's wildcard match on bytes: `*` matches any run, `?` any one character (ASCII case
/// folded when `fold_case`).
pub fn glob(pattern: &[u8], text: &[u8], fold_case: bool) -> bool {
    matches_by(
        pattern,
        text,
        |c| *c == b'*',
        |c, t| *c == b'?' || if fold_case { c.eq_ignore_ascii_case(t) } else { c == t },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stars_and_marks() {
        assert!(glob(b"arn:aws:sqs:*:1:q?", b"arn:aws:sqs:us-east-1:1:q1", false));
        assert!(!glob(b"arn:aws:sqs:*:1:q?", b"arn:aws:sqs:us-east-1:1:q", false));
        assert!(glob(b"SQS:Send*", b"sqs:SendMessage", true));
        assert!(!glob(b"SQS:Send*", b"sqs:SendMessage", false));
        assert!(glob(b"*", b"", false) && glob(b"", b"", false) && !glob(b"", b"x", false));
        assert!(glob(b"a*b*c", b"aXXbYYbZc", false));
        // Many stars against a long text that does not match: quick, not exponential.
        let text: Vec<u8> = [b"a".repeat(5000), b"b".to_vec()].concat();
        assert!(!glob(&b"*a".repeat(200), &text, false));
    }
}
