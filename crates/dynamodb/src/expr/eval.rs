//! Expressions evaluated on items: conditions (true or false, never an error: a
//! comparison of different types is false), projections, and updates (applied to a copy
//! of the item, every value read from the item as it was).

use std::cmp::Ordering;
use std::collections::BTreeMap;

use super::{Cmp, Cond, Operand, Path, Step, Update};
use crate::value::{Item, Value};

/// Why an update cannot apply to an item, in DynamoDB's words.
pub type UpdateError = String;

/// The order of two values of one scalar type (`S` and `B` bytewise, `N` numerically);
/// `None` when they are not comparable.
pub fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::S(x), Value::S(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
        (Value::N(x), Value::N(y)) => Some(x.cmp(y)),
        (Value::B(x), Value::B(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

/// Whether two values are equal, sets without regard to order.
pub fn equal(a: &Value, b: &Value) -> bool {
    fn same_set<T: PartialEq>(x: &[T], y: &[T]) -> bool {
        x.len() == y.len() && x.iter().all(|v| y.contains(v))
    }
    match (a, b) {
        (Value::Ss(x), Value::Ss(y)) => same_set(x, y),
        (Value::Ns(x), Value::Ns(y)) => same_set(x, y),
        (Value::Bs(x), Value::Bs(y)) => same_set(x, y),
        (Value::M(x), Value::M(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| equal(v, w)))
        }
        (Value::L(x), Value::L(y)) => x.len() == y.len() && x.iter().zip(y).all(|(v, w)| equal(v, w)),
        _ => a == b,
    }
}

/// The value at a path of an item.
pub fn resolve<'a>(item: &'a Item, path: &Path) -> Option<&'a Value> {
    let mut steps = path.0.iter();
    let mut cur = match steps.next()? {
        Step::Name(n) => item.get(n)?,
        Step::Index(_) => return None,
    };
    for s in steps {
        cur = match (s, cur) {
            (Step::Name(n), Value::M(m)) => m.get(n)?,
            (Step::Index(i), Value::L(l)) => l.get(*i)?,
            _ => return None,
        };
    }
    Some(cur)
}

fn size_of(v: &Value) -> Option<usize> {
    match v {
        Value::S(s) => Some(s.chars().count()),
        Value::B(b) => Some(b.len()),
        Value::Ss(s) => Some(s.len()),
        Value::Ns(s) => Some(s.len()),
        Value::Bs(s) => Some(s.len()),
        Value::M(m) => Some(m.len()),
        Value::L(l) => Some(l.len()),
        _ => None,
    }
}

fn operand<'a>(item: &'a Item, o: &'a Operand) -> Option<std::borrow::Cow<'a, Value>> {
    use std::borrow::Cow;
    match o {
        Operand::Path(p) => resolve(item, p).map(Cow::Borrowed),
        Operand::Value(v) => Some(Cow::Borrowed(v)),
        Operand::Size(p) => {
            let n = size_of(resolve(item, p)?)?;
            crate::number::Number::parse(&n.to_string()).ok().map(|n| Cow::Owned(Value::N(n)))
        }
        // Update-only forms never reach a condition.
        Operand::IfNotExists(..) | Operand::ListAppend(..) | Operand::Plus(..) | Operand::Minus(..) => None,
    }
}

/// Whether a condition holds for an item (an absent item is an empty one).
pub fn evaluate(cond: &Cond, item: &Item) -> bool {
    match cond {
        Cond::And(a, b) => evaluate(a, item) && evaluate(b, item),
        Cond::Or(a, b) => evaluate(a, item) || evaluate(b, item),
        Cond::Not(a) => !evaluate(a, item),
        Cond::Exists(p) => resolve(item, p).is_some(),
        Cond::NotExists(p) => resolve(item, p).is_none(),
        Cond::Type(p, t) => match (resolve(item, p), operand(item, t)) {
            (Some(v), Some(t)) => matches!(&*t, Value::S(name) if name == v.type_name()),
            _ => false,
        },
        Cond::BeginsWith(a, b) => match (operand(item, a), operand(item, b)) {
            (Some(a), Some(b)) => match (&*a, &*b) {
                (Value::S(s), Value::S(p)) => s.starts_with(p.as_str()),
                (Value::B(s), Value::B(p)) => s.starts_with(p),
                _ => false,
            },
            _ => false,
        },
        Cond::Contains(a, b) => match (operand(item, a), operand(item, b)) {
            (Some(a), Some(b)) => match (&*a, &*b) {
                (Value::S(s), Value::S(p)) => s.contains(p.as_str()),
                (Value::B(s), Value::B(p)) => p.is_empty() || s.windows(p.len()).any(|w| w == p.as_slice()),
                (set @ (Value::Ss(_) | Value::Ns(_) | Value::Bs(_)), m) => set.set_contains(m),
                (Value::L(l), m) => l.iter().any(|v| equal(v, m)),
                _ => false,
            },
            _ => false,
        },
        Cond::Compare(a, cmp, b) => {
            let (a, b) = (operand(item, a), operand(item, b));
            match (a, b) {
                (Some(a), Some(b)) => match cmp {
                    Cmp::Eq => equal(&a, &b),
                    Cmp::Ne => !equal(&a, &b),
                    _ => match compare(&a, &b) {
                        Some(o) => match cmp {
                            Cmp::Lt => o == Ordering::Less,
                            Cmp::Le => o != Ordering::Greater,
                            Cmp::Gt => o == Ordering::Greater,
                            _ => o != Ordering::Less,
                        },
                        None => false,
                    },
                },
                // An absent attribute differs from every value.
                (None, Some(_)) | (Some(_), None) => *cmp == Cmp::Ne,
                (None, None) => false,
            }
        }
        Cond::Between(x, lo, hi) => match (operand(item, x), operand(item, lo), operand(item, hi)) {
            (Some(x), Some(lo), Some(hi)) => {
                compare(&lo, &x).is_some_and(|o| o != Ordering::Greater)
                    && compare(&x, &hi).is_some_and(|o| o != Ordering::Greater)
            }
            _ => false,
        },
        Cond::In(x, list) => match operand(item, x) {
            Some(x) => list.iter().any(|o| operand(item, o).is_some_and(|v| equal(&x, &v))),
            None => false,
        },
    }
}

/// The item with only the attributes at `paths` (list elements kept in their order).
pub fn project(item: &Item, paths: &[Path]) -> Item {
    let mut out = Item::new();
    for p in paths {
        let Some(v) = resolve(item, p) else { continue };
        let Step::Name(head) = &p.0[0] else { continue };
        if p.0.len() == 1 {
            out.insert(head.clone(), v.clone());
            continue;
        }
        // Build the skeleton along the path; lists keep the chosen indexes, in order.
        let src = &item[head];
        let dst = out.entry(head.clone()).or_insert_with(|| empty_like(src));
        graft(dst, src, &p.0[1..]);
    }
    // Lists built from indexes hold placeholders for the unchosen: drop them.
    for v in out.values_mut() {
        compact(v);
    }
    out
}

fn empty_like(v: &Value) -> Value {
    match v {
        Value::M(_) => Value::M(BTreeMap::new()),
        Value::L(l) => Value::L(l.iter().map(|_| hole()).collect()),
        other => other.clone(),
    }
}

/// A list slot no projection chose (removed by `compact`).
fn hole() -> Value {
    Value::Ss(Vec::new())
}

fn graft(dst: &mut Value, src: &Value, rest: &[Step]) {
    let Some((first, rest)) = rest.split_first() else {
        *dst = src.clone();
        return;
    };
    match (first, src, dst) {
        (Step::Name(n), Value::M(sm), Value::M(dm)) => {
            let Some(sv) = sm.get(n) else { return };
            let d = dm.entry(n.clone()).or_insert_with(|| empty_like(sv));
            graft(d, sv, rest);
        }
        (Step::Index(i), Value::L(sl), Value::L(dl)) => {
            let Some(sv) = sl.get(*i) else { return };
            if let Some(d) = dl.get_mut(*i) {
                if *d == hole() {
                    *d = empty_like(sv);
                }
                graft(d, sv, rest);
            }
        }
        _ => {}
    }
}

fn compact(v: &mut Value) {
    match v {
        Value::L(l) => {
            l.retain(|x| *x != hole());
            l.iter_mut().for_each(compact);
        }
        Value::M(m) => m.values_mut().for_each(compact),
        _ => {}
    }
}

const MISSING: &str = "The provided expression refers to an attribute that does not exist in the item";
const WRONG_TYPE: &str = "An operand in the update expression has an incorrect data type";
const BAD_PATH: &str = "The document path provided in the update expression is invalid for update";

fn set_value(item: &Item, o: &Operand) -> Result<Value, UpdateError> {
    match o {
        Operand::Path(p) => resolve(item, p).cloned().ok_or_else(|| MISSING.to_owned()),
        Operand::Value(v) => Ok(v.clone()),
        Operand::Size(_) => Err(WRONG_TYPE.to_owned()),
        Operand::IfNotExists(p, other) => match resolve(item, p) {
            Some(v) => Ok(v.clone()),
            None => set_value(item, other),
        },
        Operand::ListAppend(a, b) => match (set_value(item, a)?, set_value(item, b)?) {
            (Value::L(mut x), Value::L(y)) => {
                x.extend(y);
                Ok(Value::L(x))
            }
            _ => Err(WRONG_TYPE.to_owned()),
        },
        Operand::Plus(a, b) | Operand::Minus(a, b) => match (set_value(item, a)?, set_value(item, b)?) {
            (Value::N(x), Value::N(y)) => {
                let r = if matches!(o, Operand::Plus(..)) { x.add(&y) } else { x.sub(&y) };
                r.map(Value::N).map_err(|e| e.to_string())
            }
            _ => Err(WRONG_TYPE.to_owned()),
        },
    }
}

/// The parent container of a path's last step, and that step; an error when the parent
/// is not there or not a container of the step's kind.
fn slot<'a>(item: &'a mut Item, path: &'a Path) -> Result<(Container<'a>, &'a Step), UpdateError> {
    let (last, parents) = path.0.split_last().ok_or_else(|| BAD_PATH.to_owned())?;
    if parents.is_empty() {
        return Ok((Container::Top(item), last));
    }
    let Step::Name(head) = &parents[0] else { return Err(BAD_PATH.to_owned()) };
    let mut cur = item.get_mut(head).ok_or_else(|| BAD_PATH.to_owned())?;
    for s in &parents[1..] {
        cur = match (s, cur) {
            (Step::Name(n), Value::M(m)) => m.get_mut(n).ok_or_else(|| BAD_PATH.to_owned())?,
            (Step::Index(i), Value::L(l)) => l.get_mut(*i).ok_or_else(|| BAD_PATH.to_owned())?,
            _ => return Err(BAD_PATH.to_owned()),
        };
    }
    match (last, cur) {
        (Step::Name(_), Value::M(m)) => Ok((Container::Map(m), last)),
        (Step::Index(_), Value::L(l)) => Ok((Container::List(l), last)),
        _ => Err(BAD_PATH.to_owned()),
    }
}

enum Container<'a> {
    Top(&'a mut Item),
    Map(&'a mut BTreeMap<String, Value>),
    List(&'a mut Vec<Value>),
}

fn put(item: &mut Item, path: &Path, v: Value) -> Result<(), UpdateError> {
    let (c, step) = slot(item, path)?;
    match (c, step) {
        (Container::Top(m) | Container::Map(m), Step::Name(n)) => {
            m.insert(n.clone(), v);
        }
        (Container::List(l), Step::Index(i)) => {
            if *i < l.len() {
                l[*i] = v;
            } else {
                // Past the end: appended, as DynamoDB does.
                l.push(v);
            }
        }
        _ => return Err(BAD_PATH.to_owned()),
    }
    Ok(())
}

fn take(item: &mut Item, path: &Path) -> Result<(), UpdateError> {
    let Ok((c, step)) = slot(item, path) else {
        // Removing what is not there changes nothing.
        return Ok(());
    };
    match (c, step) {
        (Container::Top(m) | Container::Map(m), Step::Name(n)) => {
            m.remove(n);
        }
        (Container::List(l), Step::Index(i)) if *i < l.len() => {
            l.remove(*i);
        }
        _ => {}
    }
    Ok(())
}

/// Applies an update to an item (a copy: on an error the caller keeps the original).
pub fn apply_update(u: &Update, item: &mut Item) -> Result<(), UpdateError> {
    let before = item.clone();
    // Every value is read from the item as it was.
    let mut sets = Vec::with_capacity(u.set.len());
    for (p, o) in &u.set {
        sets.push((p, set_value(&before, o)?));
    }
    let mut adds = Vec::with_capacity(u.add.len());
    for (p, o) in &u.add {
        let v = set_value(&before, o)?;
        let new = match (resolve(&before, p), v) {
            (None, v @ (Value::N(_) | Value::Ss(_) | Value::Ns(_) | Value::Bs(_))) => v,
            (Some(Value::N(x)), Value::N(y)) => Value::N(x.add(&y).map_err(|e| e.to_string())?),
            (Some(Value::Ss(x)), Value::Ss(y)) => Value::Ss(union(x, y)),
            (Some(Value::Ns(x)), Value::Ns(y)) => Value::Ns(union(x, y)),
            (Some(Value::Bs(x)), Value::Bs(y)) => Value::Bs(union(x, y)),
            _ => return Err(WRONG_TYPE.to_owned()),
        };
        adds.push((p, new));
    }
    let mut deletes = Vec::with_capacity(u.delete.len());
    for (p, o) in &u.delete {
        let v = set_value(&before, o)?;
        let new = match (resolve(&before, p), v) {
            (None, Value::Ss(_) | Value::Ns(_) | Value::Bs(_)) => None,
            (Some(Value::Ss(x)), Value::Ss(y)) => Some(Value::Ss(minus(x, &y))),
            (Some(Value::Ns(x)), Value::Ns(y)) => Some(Value::Ns(minus(x, &y))),
            (Some(Value::Bs(x)), Value::Bs(y)) => Some(Value::Bs(minus(x, &y))),
            _ => return Err(WRONG_TYPE.to_owned()),
        };
        deletes.push((p, new));
    }
    for (p, v) in sets.into_iter().chain(adds) {
        put(item, p, v)?;
    }
    for (p, v) in deletes {
        match v {
            Some(v) if !is_empty_set(&v) => put(item, p, v)?,
            Some(_) => take(item, p)?,
            None => {}
        }
    }
    // Indexes of one list are removed from the highest down, so each names the element
    // it named before.
    let mut removes: Vec<&Path> = u.remove.iter().collect();
    removes.sort_by(|a, b| b.cmp(a));
    for p in removes {
        take(item, p)?;
    }
    Ok(())
}

fn union<T: PartialEq + Clone>(x: &[T], y: Vec<T>) -> Vec<T> {
    let mut out = x.to_vec();
    for v in y {
        if !out.contains(&v) {
            out.push(v);
        }
    }
    out
}

fn minus<T: PartialEq + Clone>(x: &[T], y: &[T]) -> Vec<T> {
    x.iter().filter(|v| !y.contains(v)).cloned().collect()
}

fn is_empty_set(v: &Value) -> bool {
    matches!(v, Value::Ss(s) if s.is_empty())
        || matches!(v, Value::Ns(s) if s.is_empty())
        || matches!(v, Value::Bs(s) if s.is_empty())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::expr::{parse_condition, parse_projection, parse_update, Kind, Placeholders};
    use crate::number::Number;

    fn n(s: &str) -> Value {
        Value::N(Number::parse(s).unwrap())
    }

    fn item() -> Item {
        let mut m = BTreeMap::new();
        m.insert("city".to_owned(), Value::S("Paris".into()));
        m.insert("zips".to_owned(), Value::L(vec![n("1"), n("2"), n("3")]));
        Item::from([
            ("id".to_owned(), Value::S("a1".into())),
            ("price".to_owned(), n("10")),
            ("tags".to_owned(), Value::Ss(vec!["x".into(), "y".into()])),
            ("addr".to_owned(), Value::M(m)),
            ("things".to_owned(), Value::L(vec![Value::S("p".into()), Value::S("q".into()), Value::S("r".into())])),
        ])
    }

    fn values() -> HashMap<String, Value> {
        HashMap::from([
            (":five".to_owned(), n("5")),
            (":ten".to_owned(), n("10")),
            (":s".to_owned(), Value::S("Par".into())),
            (":x".to_owned(), Value::S("x".into())),
            (":l".to_owned(), Value::L(vec![Value::S("z".into())])),
            (":ss".to_owned(), Value::Ss(vec!["y".into(), "w".into()])),
            (":t".to_owned(), Value::S("SS".into())),
        ])
    }

    fn holds(text: &str) -> bool {
        let v = values();
        let mut ph = Placeholders::new(None, Some(&v)).unwrap();
        evaluate(&parse_condition(text, Kind::Condition, &mut ph).unwrap(), &item())
    }

    fn updated(text: &str) -> Result<Item, UpdateError> {
        let v = values();
        let mut ph = Placeholders::new(None, Some(&v)).unwrap();
        let u = parse_update(text, &mut ph).unwrap();
        let mut it = item();
        apply_update(&u, &mut it).map(|()| it)
    }

    #[test]
    fn conditions_as_dynamodb_evaluates_them() {
        assert!(holds("price = :ten"));
        assert!(holds("price > :five AND price <= :ten"));
        assert!(holds("price BETWEEN :five AND :ten"));
        assert!(holds("price IN (:five, :ten)"));
        assert!(holds("begins_with(addr.city, :s)"));
        assert!(holds("contains(tags, :x)"));
        assert!(holds("attribute_type(tags, :t)"));
        assert!(holds("size(things) > :five OR size(addr.zips) < :five"));
        assert!(holds("attribute_exists(addr.zips[2]) AND attribute_not_exists(addr.zips[3])"));
        assert!(!holds("price < :s"), "different types are never ordered");
        assert!(holds("nothing <> :x"), "an absent attribute differs from a value");
        assert!(!holds("nothing = :x"));
        assert!(holds("NOT (price = :five)"));
    }

    #[test]
    fn updates_read_the_item_as_it_was() {
        let it = updated("SET price = price - :five, prev = price").unwrap();
        assert_eq!(it["price"], n("5"));
        assert_eq!(it["prev"], n("10"));
        let it = updated("SET things = list_append(things, :l), c = if_not_exists(c, :five) ADD tags :ss").unwrap();
        assert_eq!(it["things"], Value::L(["p", "q", "r", "z"].map(|s| Value::S(s.into())).to_vec()));
        assert_eq!(it["c"], n("5"));
        assert_eq!(it["tags"], Value::Ss(vec!["x".into(), "y".into(), "w".into()]));
        let it = updated("REMOVE things[0], things[2] DELETE tags :ss").unwrap();
        assert_eq!(it["things"], Value::L(vec![Value::S("q".into())]));
        assert_eq!(it["tags"], Value::Ss(vec!["x".into()]));
        let it = updated("SET addr.zips[9] = :five").unwrap();
        assert_eq!(
            resolve(&it, &Path(vec![Step::Name("addr".into()), Step::Name("zips".into()), Step::Index(3)])),
            Some(&n("5"))
        );
        assert_eq!(updated("SET a = nothing").unwrap_err(), MISSING);
        assert_eq!(updated("SET a = id + :five").unwrap_err(), WRONG_TYPE);
        assert_eq!(updated("SET nothing.x = :five").unwrap_err(), BAD_PATH);
    }

    #[test]
    fn projections_keep_the_paths_asked_for() {
        let mut ph = Placeholders::new(None, None).unwrap();
        let paths = parse_projection("id, addr.city, things[2], things[0]", &mut ph).unwrap();
        let p = project(&item(), &paths);
        assert_eq!(p["id"], Value::S("a1".into()));
        assert_eq!(p["addr"], Value::M(BTreeMap::from([("city".to_owned(), Value::S("Paris".into()))])));
        assert_eq!(p["things"], Value::L(vec![Value::S("p".into()), Value::S("r".into())]));
        assert!(!p.contains_key("price"));
    }
}
