//! XML for the query and rest-xml protocols: a small writer, and a reader that builds a
//! bounded element tree from a request body.

use quick_xml::events::Event;

/// Elements a request body may nest.
pub const MAX_DEPTH: usize = 64;
/// Elements a request body may hold.
pub const MAX_ELEMENTS: usize = 100_000;

/// Writes XML text, escaping what must be escaped.
#[derive(Default)]
pub struct XmlWriter {
    out: String,
}

impl XmlWriter {
    /// A document with the XML declaration.
    pub fn new() -> XmlWriter {
        XmlWriter { out: String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>") }
    }

    /// A fragment, without a declaration.
    pub fn empty() -> XmlWriter {
        XmlWriter { out: String::new() }
    }

    /// Whether nothing was written.
    pub fn is_empty(&self) -> bool {
        self.out.is_empty()
    }

    /// Another writer's text, here.
    pub fn append(&mut self, other: XmlWriter) {
        self.out.push_str(&other.out);
    }

    /// `<name/>`.
    pub fn empty_element(&mut self, name: &str) {
        self.out.push('<');
        self.out.push_str(name);
        self.out.push_str("/>");
    }

    /// `<name attr="value">`.
    pub fn open(&mut self, name: &str, attr: Option<(&str, &str)>) {
        self.open_with(name, attr.iter().map(|(k, v)| (*k, *v)));
    }

    /// `<name a="1" b="2">`.
    pub fn open_with<'a>(&mut self, name: &str, attrs: impl IntoIterator<Item = (&'a str, &'a str)>) {
        self.out.push('<');
        self.out.push_str(name);
        for (k, v) in attrs {
            self.out.push(' ');
            self.out.push_str(k);
            self.out.push_str("=\"");
            escape_into(&mut self.out, v);
            self.out.push('"');
        }
        self.out.push('>');
    }

    /// `</name>`.
    pub fn close(&mut self, name: &str) {
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
    }

    /// `<name>text</name>`.
    pub fn leaf(&mut self, name: &str, text: &str) {
        self.open(name, None);
        self.text(text);
        self.close(name);
    }

    /// Escaped text.
    pub fn text(&mut self, text: &str) {
        escape_into(&mut self.out, text);
    }

    /// The document.
    pub fn finish(self) -> Vec<u8> {
        self.out.into_bytes()
    }
}

fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
}

/// An element of a parsed body: its local name, attributes, text and children.
#[derive(Debug, Default, PartialEq)]
pub struct Element {
    /// The name without its namespace prefix.
    pub name: String,
    /// Attributes by local name.
    pub attributes: Vec<(String, String)>,
    /// The text directly inside.
    pub text: String,
    /// Child elements in order.
    pub children: Vec<Element>,
}

impl Element {
    /// The children with a name.
    pub fn named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }
}

fn local(name: &[u8]) -> String {
    let name = String::from_utf8_lossy(name);
    match name.rsplit_once(':') {
        Some((_, l)) => l.to_owned(),
        None => name.into_owned(),
    }
}

/// Reads a document's root element. Deeper than [`MAX_DEPTH`] or longer than
/// [`MAX_ELEMENTS`] is an error, as is anything that is not well formed.
pub fn parse(body: &[u8]) -> Result<Element, String> {
    let mut reader = quick_xml::Reader::from_reader(body);
    let mut stack: Vec<Element> = Vec::new();
    let mut count = 0usize;
    let mut buf = Vec::new();
    loop {
        let event = reader.read_event_into(&mut buf).map_err(|e| e.to_string())?;
        let done = match event {
            Event::Start(e) => {
                stack.push(element(&e, &mut count, stack.len())?);
                None
            }
            Event::Empty(e) => {
                stack.push(element(&e, &mut count, stack.len())?);
                pop(&mut stack)
            }
            Event::End(_) => pop(&mut stack),
            Event::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&t.unescape().map_err(|e| e.to_string())?);
                }
                None
            }
            Event::CData(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&String::from_utf8_lossy(&t));
                }
                None
            }
            Event::Eof => return Err("the document ends before its root element closes".into()),
            _ => None,
        };
        if let Some(root) = done {
            return Ok(root);
        }
        buf.clear();
    }
}

fn element(e: &quick_xml::events::BytesStart<'_>, count: &mut usize, depth: usize) -> Result<Element, String> {
    *count += 1;
    if *count > MAX_ELEMENTS || depth >= MAX_DEPTH {
        return Err("the document is too large or too deep".into());
    }
    let mut el = Element { name: local(e.name().as_ref()), ..Element::default() };
    for a in e.attributes() {
        let a = a.map_err(|e| e.to_string())?;
        let v = a.unescape_value().map_err(|e| e.to_string())?.into_owned();
        el.attributes.push((local(a.key.as_ref()), v));
    }
    Ok(el)
}

/// Closes the innermost open element: it becomes its parent's child, or, closing the
/// root, the document.
fn pop(stack: &mut Vec<Element>) -> Option<Element> {
    let el = stack.pop()?;
    match stack.last_mut() {
        Some(parent) => {
            parent.children.push(el);
            None
        }
        None => Some(el),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_elements_text_and_attributes_and_writes_escaped() {
        let doc = br#"<?xml version="1.0"?><Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Object><Key>a&amp;b</Key></Object><Quiet>true</Quiet><Grantee xsi:type="User"/></Delete>"#;
        let root = parse(doc).unwrap();
        assert_eq!(root.name, "Delete");
        assert_eq!(root.named("Object").next().unwrap().named("Key").next().unwrap().text, "a&b");
        assert_eq!(root.named("Grantee").next().unwrap().attributes, vec![("type".into(), "User".into())]);
        let mut w = XmlWriter::empty();
        w.leaf("K", "<a&'\">");
        assert_eq!(String::from_utf8(w.finish()).unwrap(), "<K>&lt;a&amp;&apos;&quot;&gt;</K>");
    }

    #[test]
    fn deep_long_and_broken_documents_are_refused() {
        let deep = "<a>".repeat(MAX_DEPTH + 1);
        assert!(parse(deep.as_bytes()).is_err());
        let long = format!("<a>{}</a>", "<b/>".repeat(MAX_ELEMENTS));
        assert!(parse(long.as_bytes()).is_err());
        assert!(parse(b"<a><b></a>").is_err());
        assert!(parse(b"<a>").is_err());
        assert!(parse(b"").is_err());
    }
}
