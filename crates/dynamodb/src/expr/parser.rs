//! Reads expressions into trees, as DynamoDB's grammar has them: `OR` below `AND` below
//! `NOT` below comparisons, `BETWEEN`, `IN` and functions; update expressions of `SET`,
//! `REMOVE`, `ADD` and `DELETE` sections, each once. Placeholders are replaced as they
//! are read; refusals are whole messages, in DynamoDB's words.

use super::lexer::{tokens, Tok, Token};
use super::{is_reserved, Cmp, Cond, Kind, Operand, Path, Placeholders, Step, Update, MAX_EXPRESSION};
use crate::value::Value;

/// The functions DynamoDB's expressions have.
const FUNCTIONS: &[&str] = &[
    "attribute_exists",
    "attribute_not_exists",
    "attribute_type",
    "begins_with",
    "contains",
    "size",
    "if_not_exists",
    "list_append",
];
/// The types `attribute_type` names, in the order DynamoDB lists them.
const TYPE_NAMES: &str = "{B,NULL,SS,BOOL,L,BS,N,NS,S,M}";

struct Parser<'t, 'p, 'a> {
    text: &'t str,
    toks: Vec<Token>,
    at: usize,
    kind: Kind,
    ph: &'p mut Placeholders<'a>,
}

type Res<T> = Result<T, String>;

/// A function call as read, before it is known to be a condition or an operand.
struct Call {
    name: String,
    args: Vec<Operand>,
}

impl<'t, 'p, 'a> Parser<'t, 'p, 'a> {
    fn new(text: &'t str, kind: Kind, ph: &'p mut Placeholders<'a>) -> Res<Parser<'t, 'p, 'a>> {
        let p = Parser { text, toks: tokens(text), at: 0, kind, ph };
        if text.len() > MAX_EXPRESSION {
            return Err(p.invalid(&format!(
                "Expression size has exceeded the maximum allowed size; expression size: {}",
                text.len()
            )));
        }
        if p.toks.len() == 1 {
            return Err(p.invalid("The expression can not be empty;"));
        }
        Ok(p)
    }

    fn invalid(&self, what: &str) -> String {
        format!("Invalid {}: {what}", self.kind.name())
    }

    fn peek(&self) -> &Tok {
        &self.toks[self.at].tok
    }

    fn peek2(&self) -> &Tok {
        &self.toks[(self.at + 1).min(self.toks.len() - 1)].tok
    }

    fn next(&mut self) -> Tok {
        let t = self.toks[self.at].tok.clone();
        if self.at + 1 < self.toks.len() {
            self.at += 1;
        }
        t
    }

    fn is_word(&self, w: &str) -> bool {
        matches!(self.peek(), Tok::Word(x) if x.eq_ignore_ascii_case(w))
    }

    fn is_punct(&self, p: &str) -> bool {
        matches!(self.peek(), Tok::Punct(x) if *x == p)
    }

    /// `Syntax error; token: "…", near: "…"` at the current token.
    fn syntax(&self) -> String {
        let i = self.at;
        let t = &self.toks[i];
        let token = match t.tok {
            Tok::Eof => "<EOF>".to_owned(),
            _ => self.text[t.start..t.end].to_owned(),
        };
        let from = if i > 0 { self.toks[i - 1].start } else { t.start };
        let to = match self.toks.get(i + 1) {
            Some(n) if n.tok != Tok::Eof => n.end,
            _ => t.end,
        };
        self.invalid(&format!("Syntax error; token: \"{token}\", near: \"{}\"", &self.text[from..to]))
    }

    fn expect_punct(&mut self, p: &str) -> Res<()> {
        if self.is_punct(p) {
            self.next();
            Ok(())
        } else {
            Err(self.syntax())
        }
    }

    fn end(&self) -> Res<()> {
        if *self.peek() == Tok::Eof {
            Ok(())
        } else {
            Err(self.syntax())
        }
    }

    // ---- paths and operands ----

    fn path_name(&mut self) -> Res<String> {
        match self.peek().clone() {
            Tok::Word(w) => {
                if ["AND", "OR", "NOT", "BETWEEN", "IN"].iter().any(|k| k.eq_ignore_ascii_case(&w)) {
                    return Err(self.syntax());
                }
                if is_reserved(&w) {
                    return Err(self.invalid(&format!("Attribute name is a reserved keyword; reserved keyword: {w}")));
                }
                self.next();
                Ok(w)
            }
            Tok::Name(n) => {
                let Some(real) = self.ph.name(&n) else {
                    return Err(self.invalid(&format!(
                        "An expression attribute name used in the document path is not defined; attribute name: {n}"
                    )));
                };
                self.next();
                Ok(real)
            }
            _ => Err(self.syntax()),
        }
    }

    fn path(&mut self) -> Res<Path> {
        let mut steps = vec![Step::Name(self.path_name()?)];
        loop {
            if self.is_punct(".") {
                self.next();
                steps.push(Step::Name(self.path_name()?));
            } else if self.is_punct("[") {
                self.next();
                let Tok::Int(digits) = self.peek().clone() else {
                    return Err(self.syntax());
                };
                let Ok(i) = digits.parse::<usize>() else {
                    return Err(self.syntax());
                };
                self.next();
                self.expect_punct("]")?;
                steps.push(Step::Index(i));
            } else {
                break;
            }
        }
        if steps.len() > 32 {
            return Err(self.invalid("The document path has too many nesting levels; nesting levels: 33"));
        }
        Ok(Path(steps))
    }

    fn value(&mut self, key: &str) -> Res<Value> {
        match self.ph.value(key) {
            Some(v) => {
                self.next();
                Ok(v)
            }
            None => Err(self.invalid(&format!(
                "An expression attribute value used in expression is not defined; attribute value: {key}"
            ))),
        }
    }

    /// A path, a value, or a function call as an operand.
    fn operand(&mut self) -> Res<Operand> {
        match self.peek().clone() {
            Tok::Value(v) => Ok(Operand::Value(self.value(&v)?)),
            Tok::Word(w) if *self.peek2() == Tok::Punct("(") => {
                let call = self.call(&w)?;
                self.call_operand(call)
            }
            Tok::Word(_) | Tok::Name(_) => Ok(Operand::Path(self.path()?)),
            _ => Err(self.syntax()),
        }
    }

    fn call(&mut self, name: &str) -> Res<Call> {
        if !FUNCTIONS.contains(&name) {
            return Err(self.invalid(&format!("Invalid function name; function: {name}")));
        }
        self.next();
        self.expect_punct("(")?;
        let mut args = Vec::new();
        if !self.is_punct(")") {
            loop {
                args.push(self.call_arg()?);
                if self.is_punct(",") {
                    self.next();
                } else {
                    break;
                }
            }
        }
        self.expect_punct(")")?;
        Ok(Call { name: name.to_owned(), args })
    }

    fn call_arg(&mut self) -> Res<Operand> {
        match self.peek().clone() {
            Tok::Word(w) if *self.peek2() == Tok::Punct("(") => {
                let call = self.call(&w)?;
                self.call_operand(call)
            }
            _ => self.operand_plain(),
        }
    }

    fn operand_plain(&mut self) -> Res<Operand> {
        match self.peek().clone() {
            Tok::Value(v) => Ok(Operand::Value(self.value(&v)?)),
            Tok::Word(_) | Tok::Name(_) => Ok(Operand::Path(self.path()?)),
            _ => Err(self.syntax()),
        }
    }

    fn arity(&self, c: &Call, n: usize) -> Res<()> {
        if c.args.len() == n {
            Ok(())
        } else {
            Err(self.invalid(&format!(
                "Incorrect number of operands for operator or function; operator or function: {}, number of operands: {}",
                c.name,
                c.args.len()
            )))
        }
    }

    fn path_arg(&self, c: &Call, i: usize) -> Res<Path> {
        match &c.args[i] {
            Operand::Path(p) => Ok(p.clone()),
            _ => Err(self
                .invalid(&format!("Operator or function requires a document path; operator or function: {}", c.name))),
        }
    }

    fn not_this_way(&self, name: &str) -> String {
        self.invalid(&format!("The function is not allowed to be used this way in an expression; function: {name}"))
    }

    /// A call used where a value stands.
    fn call_operand(&self, c: Call) -> Res<Operand> {
        match c.name.as_str() {
            "size" if self.kind != Kind::Update => {
                self.arity(&c, 1)?;
                Ok(Operand::Size(self.path_arg(&c, 0)?))
            }
            "if_not_exists" if self.kind == Kind::Update => {
                self.arity(&c, 2)?;
                let p = self.path_arg(&c, 0)?;
                let mut args = c.args;
                Ok(Operand::IfNotExists(p, Box::new(args.remove(1))))
            }
            "list_append" if self.kind == Kind::Update => {
                self.arity(&c, 2)?;
                let mut args = c.args;
                let b = args.remove(1);
                let a = args.remove(0);
                Ok(Operand::ListAppend(Box::new(a), Box::new(b)))
            }
            _ => Err(self.not_this_way(&c.name)),
        }
    }

    /// A call used as a condition.
    fn call_condition(&self, c: Call) -> Res<Cond> {
        match c.name.as_str() {
            "attribute_exists" => {
                self.arity(&c, 1)?;
                Ok(Cond::Exists(self.path_arg(&c, 0)?))
            }
            "attribute_not_exists" => {
                self.arity(&c, 1)?;
                Ok(Cond::NotExists(self.path_arg(&c, 0)?))
            }
            "attribute_type" => {
                self.arity(&c, 2)?;
                let p = self.path_arg(&c, 0)?;
                if let Operand::Value(v) = &c.args[1] {
                    let ok = matches!(v, Value::S(t) if ["B", "NULL", "SS", "BOOL", "L", "BS", "N", "NS", "S", "M"].contains(&t.as_str()));
                    if !ok {
                        let shown = match v {
                            Value::S(t) => t.clone(),
                            other => other.type_name().to_owned(),
                        };
                        return Err(self.invalid(&format!(
                            "Invalid attribute type name found; type: {shown}, valid types: {TYPE_NAMES}"
                        )));
                    }
                }
                let mut args = c.args;
                Ok(Cond::Type(p, args.remove(1)))
            }
            "begins_with" => {
                self.arity(&c, 2)?;
                for a in &c.args {
                    if let Operand::Value(v) = a {
                        if !matches!(v, Value::S(_) | Value::B(_)) {
                            return Err(self.invalid(&format!(
                                "Incorrect operand type for operator or function; operator or function: begins_with, operand type: {}",
                                v.type_name()
                            )));
                        }
                    }
                }
                let mut args = c.args;
                let b = args.remove(1);
                Ok(Cond::BeginsWith(args.remove(0), b))
            }
            "contains" => {
                self.arity(&c, 2)?;
                let mut args = c.args;
                let b = args.remove(1);
                Ok(Cond::Contains(args.remove(0), b))
            }
            other => Err(self.not_this_way(other)),
        }
    }

    // ---- conditions ----

    fn or(&mut self) -> Res<Cond> {
        let mut left = self.and()?;
        while self.is_word("OR") {
            self.next();
            let right = self.and()?;
            left = Cond::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Res<Cond> {
        let mut left = self.not()?;
        while self.is_word("AND") {
            self.next();
            let right = self.not()?;
            left = Cond::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn not(&mut self) -> Res<Cond> {
        if self.is_word("NOT") {
            self.next();
            return Ok(Cond::Not(Box::new(self.not()?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Res<Cond> {
        if self.is_punct("(") {
            self.next();
            let c = self.or()?;
            self.expect_punct(")")?;
            return Ok(c);
        }
        let left = match self.peek().clone() {
            Tok::Word(w) if *self.peek2() == Tok::Punct("(") => {
                let call = self.call(&w)?;
                if call.name == "size" || call.name == "if_not_exists" || call.name == "list_append" {
                    if call.name != "size" {
                        return Err(self.not_this_way(&call.name));
                    }
                    // `size(a)` stands for a value: a comparison must follow.
                    if !matches!(self.peek(), Tok::Punct("=" | "<>" | "<" | "<=" | ">" | ">="))
                        && !self.is_word("BETWEEN")
                        && !self.is_word("IN")
                    {
                        return Err(self.not_this_way("size"));
                    }
                    self.call_operand(call)?
                } else {
                    return self.call_condition(call);
                }
            }
            _ => self.operand()?,
        };
        let cmp = match self.peek() {
            Tok::Punct("=") => Some(Cmp::Eq),
            Tok::Punct("<>") => Some(Cmp::Ne),
            Tok::Punct("<") => Some(Cmp::Lt),
            Tok::Punct("<=") => Some(Cmp::Le),
            Tok::Punct(">") => Some(Cmp::Gt),
            Tok::Punct(">=") => Some(Cmp::Ge),
            _ => None,
        };
        if let Some(cmp) = cmp {
            self.next();
            let right = self.operand()?;
            return Ok(Cond::Compare(left, cmp, right));
        }
        if self.is_word("BETWEEN") {
            self.next();
            let lo = self.operand()?;
            if !self.is_word("AND") {
                return Err(self.syntax());
            }
            self.next();
            let hi = self.operand()?;
            if let (Operand::Value(a), Operand::Value(b)) = (&lo, &hi) {
                if super::eval::compare(a, b).is_some_and(|o| o == std::cmp::Ordering::Greater) {
                    return Err(self.invalid(&format!(
                        "The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {}, upper bound operand: AttributeValue: {}",
                        shown(a),
                        shown(b)
                    )));
                }
            }
            return Ok(Cond::Between(left, lo, hi));
        }
        if self.is_word("IN") {
            self.next();
            self.expect_punct("(")?;
            let mut list = vec![self.operand()?];
            while self.is_punct(",") {
                self.next();
                list.push(self.operand()?);
            }
            self.expect_punct(")")?;
            if list.len() > 100 {
                return Err(self.invalid(&format!(
                    "The IN operator is provided with too many operands; number of operands: {}",
                    list.len()
                )));
            }
            return Ok(Cond::In(left, list));
        }
        Err(self.syntax())
    }

    // ---- updates ----

    fn set_value(&mut self) -> Res<Operand> {
        let left = self.set_operand()?;
        if self.is_punct("+") || self.is_punct("-") {
            let plus = self.is_punct("+");
            self.next();
            let right = self.set_operand()?;
            return Ok(if plus {
                Operand::Plus(Box::new(left), Box::new(right))
            } else {
                Operand::Minus(Box::new(left), Box::new(right))
            });
        }
        Ok(left)
    }

    fn set_operand(&mut self) -> Res<Operand> {
        match self.peek().clone() {
            Tok::Word(w) if *self.peek2() == Tok::Punct("(") => {
                if !FUNCTIONS.contains(&w.as_str()) {
                    return Err(self.invalid(&format!("Invalid function name; function: {w}")));
                }
                self.next();
                self.expect_punct("(")?;
                let mut args = Vec::new();
                if !self.is_punct(")") {
                    loop {
                        args.push(self.set_value()?);
                        if self.is_punct(",") {
                            self.next();
                        } else {
                            break;
                        }
                    }
                }
                self.expect_punct(")")?;
                self.call_operand(Call { name: w, args })
            }
            _ => self.operand_plain(),
        }
    }

    fn update(&mut self) -> Res<Update> {
        let mut u = Update::default();
        let mut seen: Vec<&'static str> = Vec::new();
        while *self.peek() != Tok::Eof {
            let section = ["SET", "REMOVE", "ADD", "DELETE"].into_iter().find(|s| self.is_word(s));
            let Some(section) = section else {
                return Err(self.syntax());
            };
            if seen.contains(&section) {
                return Err(
                    self.invalid(&format!("The \"{section}\" section can only be used once in an update expression;"))
                );
            }
            seen.push(section);
            self.next();
            loop {
                let path = self.path()?;
                match section {
                    "SET" => {
                        self.expect_punct("=")?;
                        let v = self.set_value()?;
                        u.set.push((path, v));
                    }
                    "REMOVE" => u.remove.push(path),
                    _ => {
                        let v = self.operand_plain()?;
                        if let Operand::Value(val) = &v {
                            let allowed = if section == "ADD" {
                                matches!(val, Value::N(_) | Value::Ss(_) | Value::Ns(_) | Value::Bs(_))
                            } else {
                                matches!(val, Value::Ss(_) | Value::Ns(_) | Value::Bs(_))
                            };
                            if !allowed {
                                return Err(self.invalid(&format!(
                                    "Incorrect operand type for operator or function; operator: {section}, operand type: {}, typeSet: ALLOWED_FOR_{section}_OPERAND",
                                    long_type(val)
                                )));
                            }
                        }
                        if section == "ADD" {
                            u.add.push((path, v));
                        } else {
                            u.delete.push((path, v));
                        }
                    }
                }
                if self.is_punct(",") {
                    self.next();
                } else {
                    break;
                }
            }
        }
        let paths: Vec<&Path> = u.paths().collect();
        self.check_paths(&paths)?;
        Ok(u)
    }

    /// No two paths the same, one inside the other, or one a list where the other is a map.
    fn check_paths(&self, paths: &[&Path]) -> Res<()> {
        for (i, a) in paths.iter().enumerate() {
            for b in &paths[..i] {
                let common = a.0.iter().zip(b.0.iter()).take_while(|(x, y)| x == y).count();
                if common == a.0.len().min(b.0.len()) {
                    return Err(self.invalid(&format!(
                        "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: {}, path two: {}",
                        b.display(),
                        a.display()
                    )));
                }
                let kinds = (&a.0[common], &b.0[common]);
                if matches!(kinds, (Step::Name(_), Step::Index(_)) | (Step::Index(_), Step::Name(_))) {
                    return Err(self.invalid(&format!(
                        "Two document paths conflict with each other; must remove or rewrite one of these paths; path one: {}, path two: {}",
                        b.display(),
                        a.display()
                    )));
                }
            }
        }
        Ok(())
    }
}

/// A value as DynamoDB shows one in a message: `{N:10}`.
fn shown(v: &Value) -> String {
    let inner = match v {
        Value::S(s) => s.clone(),
        Value::N(n) => n.to_string(),
        other => format!("{other:?}"),
    };
    format!("{{{}:{inner}}}", v.type_name())
}

/// The type names of ADD's and DELETE's refusals.
fn long_type(v: &Value) -> &'static str {
    match v {
        Value::S(_) => "STRING",
        Value::N(_) => "NUMBER",
        Value::B(_) => "BINARY",
        Value::Ss(_) => "STRING_SET",
        Value::Ns(_) => "NUMBER_SET",
        Value::Bs(_) => "BINARY_SET",
        Value::M(_) => "MAP",
        Value::L(_) => "LIST",
        Value::Null => "NULL",
        Value::Bool(_) => "BOOLEAN",
    }
}

/// Reads a condition (or filter, or key condition) expression.
pub fn parse_condition(text: &str, kind: Kind, ph: &mut Placeholders<'_>) -> Res<Cond> {
    let mut p = Parser::new(text, kind, ph)?;
    let c = p.or()?;
    p.end()?;
    Ok(c)
}

/// Reads a projection expression: paths, none inside another.
pub fn parse_projection(text: &str, ph: &mut Placeholders<'_>) -> Res<Vec<Path>> {
    let mut p = Parser::new(text, Kind::Projection, ph)?;
    let mut paths = vec![p.path()?];
    while p.is_punct(",") {
        p.next();
        paths.push(p.path()?);
    }
    p.end()?;
    let refs: Vec<&Path> = paths.iter().collect();
    p.check_paths(&refs)?;
    Ok(paths)
}

/// Reads an update expression.
pub fn parse_update(text: &str, ph: &mut Placeholders<'_>) -> Res<Update> {
    let mut p = Parser::new(text, Kind::Update, ph)?;
    p.update()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::number::Number;

    fn values() -> HashMap<String, Value> {
        HashMap::from([
            (":v".to_owned(), Value::S("x".into())),
            (":n".to_owned(), Value::N(Number::parse("1").unwrap())),
            (":ten".to_owned(), Value::N(Number::parse("10").unwrap())),
            (":ss".to_owned(), Value::Ss(vec!["a".into()])),
        ])
    }

    fn names() -> HashMap<String, String> {
        HashMap::from([("#s".to_owned(), "status".to_owned()), ("#d".to_owned(), "a.b".to_owned())])
    }

    fn cond(text: &str) -> Res<Cond> {
        let (n, v) = (names(), values());
        let mut ph = Placeholders::new(Some(&n), Some(&v)).unwrap();
        parse_condition(text, Kind::Condition, &mut ph)
    }

    fn update(text: &str) -> Res<Update> {
        let (n, v) = (names(), values());
        let mut ph = Placeholders::new(Some(&n), Some(&v)).unwrap();
        parse_update(text, &mut ph)
    }

    #[test]
    fn precedence_is_not_and_or() {
        let c = cond("a = :v OR b = :v AND NOT c = :v").unwrap();
        let Cond::Or(_, right) = c else { panic!("OR binds loosest: {c:?}") };
        let Cond::And(_, not) = *right else { panic!("AND next") };
        assert!(matches!(*not, Cond::Not(_)));
    }

    #[test]
    fn paths_and_placeholders() {
        let c = cond("#s.x[2].#d = :v").unwrap();
        let Cond::Compare(Operand::Path(p), Cmp::Eq, Operand::Value(_)) = c else { panic!("{c:?}") };
        assert_eq!(
            p.0,
            vec![Step::Name("status".into()), Step::Name("x".into()), Step::Index(2), Step::Name("a.b".into())]
        );
    }

    #[test]
    fn refusals_in_dynamodbs_words() {
        assert_eq!(
            cond("status = :v").unwrap_err(),
            "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: status"
        );
        assert_eq!(
            cond("a = :nope").unwrap_err(),
            "Invalid ConditionExpression: An expression attribute value used in expression is not defined; attribute value: :nope"
        );
        assert_eq!(
            cond("#nope = :v").unwrap_err(),
            "Invalid ConditionExpression: An expression attribute name used in the document path is not defined; attribute name: #nope"
        );
        assert_eq!(
            cond("a = = :v").unwrap_err(),
            "Invalid ConditionExpression: Syntax error; token: \"=\", near: \"= = :v\""
        );
        assert_eq!(
            cond("a =").unwrap_err(),
            "Invalid ConditionExpression: Syntax error; token: \"<EOF>\", near: \"=\""
        );
        assert_eq!(cond("foo(a)").unwrap_err(), "Invalid ConditionExpression: Invalid function name; function: foo");
        assert_eq!(
            cond("size(a)").unwrap_err(),
            "Invalid ConditionExpression: The function is not allowed to be used this way in an expression; function: size"
        );
        assert_eq!(
            cond("a BETWEEN :ten AND :n").unwrap_err(),
            "Invalid ConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {N:10}, upper bound operand: AttributeValue: {N:1}"
        );
        assert_eq!(
            cond("begins_with(a, :n)").unwrap_err(),
            "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N"
        );
        assert_eq!(cond("").unwrap_err(), "Invalid ConditionExpression: The expression can not be empty;");
    }

    #[test]
    fn updates_have_four_sections() {
        let u = update("SET a = a + :n, b = list_append(if_not_exists(b, :v), :v) REMOVE c[1] ADD d :n DELETE e :ss")
            .unwrap();
        assert_eq!(u.set.len(), 2);
        assert_eq!(u.remove, vec![Path(vec![Step::Name("c".into()), Step::Index(1)])]);
        assert_eq!((u.add.len(), u.delete.len()), (1, 1));
        assert_eq!(
            update("SET a = :v SET b = :v").unwrap_err(),
            "Invalid UpdateExpression: The \"SET\" section can only be used once in an update expression;"
        );
        assert_eq!(
            update("SET a = :v REMOVE a.b").unwrap_err(),
            "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a, b]"
        );
        assert_eq!(
            update("SET a[0] = :v REMOVE a.b").unwrap_err(),
            "Invalid UpdateExpression: Two document paths conflict with each other; must remove or rewrite one of these paths; path one: [a, [0]], path two: [a, b]"
        );
        assert_eq!(
            update("ADD a :v").unwrap_err(),
            "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: STRING, typeSet: ALLOWED_FOR_ADD_OPERAND"
        );
        assert_eq!(
            update("SET").unwrap_err(),
            "Invalid UpdateExpression: Syntax error; token: \"<EOF>\", near: \"SET\""
        );
    }

    #[test]
    fn unused_placeholders_are_refused() {
        let (n, v) = (names(), values());
        let mut ph = Placeholders::new(Some(&n), Some(&v)).unwrap();
        parse_condition("#s = :v", Kind::Condition, &mut ph).unwrap();
        assert_eq!(
            ph.check_unused().unwrap_err(),
            "Value provided in ExpressionAttributeNames unused in expressions: keys: {#d}"
        );
    }
}
