//! An expression's tokens, each with where it stands in the text (for the `near: "…"` of
//! a syntax error).

/// What a token is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tok {
    /// A word: an attribute name, a keyword or a function's name.
    Word(String),
    /// `#name`.
    Name(String),
    /// `:value`.
    Value(String),
    /// Digits (a list index).
    Int(String),
    /// Punctuation: `( ) [ ] , . = <> < <= > >= + -`.
    Punct(&'static str),
    /// A character no expression has.
    Bad(char),
    /// The end.
    Eof,
}

/// A token and its span of bytes.
#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub tok: Tok,
    pub start: usize,
    pub end: usize,
}

/// The tokens of a text, ending with `Eof`.
pub(crate) fn tokens(text: &str) -> Vec<Token> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        let word = |i: &mut usize| {
            while *i < b.len() && (b[*i].is_ascii_alphanumeric() || b[*i] == b'_') {
                *i += 1;
            }
        };
        let tok = match c {
            b'#' | b':' => {
                i += 1;
                word(&mut i);
                let t = text[start..i].to_owned();
                if c == b'#' {
                    Tok::Name(t)
                } else {
                    Tok::Value(t)
                }
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                word(&mut i);
                Tok::Word(text[start..i].to_owned())
            }
            c if c.is_ascii_digit() => {
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
                Tok::Int(text[start..i].to_owned())
            }
            _ => {
                let two = text.get(i..i + 2);
                let p: Option<&'static str> = match two {
                    Some("<>") => Some("<>"),
                    Some("<=") => Some("<="),
                    Some(">=") => Some(">="),
                    _ => None,
                };
                if let Some(p) = p {
                    i += 2;
                    Tok::Punct(p)
                } else {
                    i += 1;
                    match c {
                        b'(' => Tok::Punct("("),
                        b')' => Tok::Punct(")"),
                        b'[' => Tok::Punct("["),
                        b']' => Tok::Punct("]"),
                        b',' => Tok::Punct(","),
                        b'.' => Tok::Punct("."),
                        b'=' => Tok::Punct("="),
                        b'<' => Tok::Punct("<"),
                        b'>' => Tok::Punct(">"),
                        b'+' => Tok::Punct("+"),
                        b'-' => Tok::Punct("-"),
                        _ => {
                            let ch = text[start..].chars().next().unwrap_or('?');
                            i = start + ch.len_utf8();
                            Tok::Bad(ch)
                        }
                    }
                }
            }
        };
        out.push(Token { tok, start, end: i });
    }
    out.push(Token { tok: Tok::Eof, start: text.len(), end: text.len() });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_kind() {
        let t: Vec<Tok> = tokens("#a.b[10] <> :v AND size(x)>=:y - é").into_iter().map(|t| t.tok).collect();
        assert_eq!(
            t,
            vec![
                Tok::Name("#a".into()),
                Tok::Punct("."),
                Tok::Word("b".into()),
                Tok::Punct("["),
                Tok::Int("10".into()),
                Tok::Punct("]"),
                Tok::Punct("<>"),
                Tok::Value(":v".into()),
                Tok::Word("AND".into()),
                Tok::Word("size".into()),
                Tok::Punct("("),
                Tok::Word("x".into()),
                Tok::Punct(")"),
                Tok::Punct(">="),
                Tok::Value(":y".into()),
                Tok::Punct("-"),
                Tok::Bad('é'),
                Tok::Eof,
            ]
        );
    }
}
