//! Writing S3's XML responses and reading its small XML request bodies
//! (`CompleteMultipartUpload`, `Delete`, `CORSConfiguration`, …).

use quick_xml::Reader;
use quick_xml::events::Event;

/// The namespace of every S3 response document.
const S3_NAMESPACE: &str = "http://s3.amazonaws.com/doc/2006-03-01/";

/// Builds an XML document element by element, escaping text.
#[derive(Debug, Default)]
pub struct XmlWriter {
    out: String,
}

impl XmlWriter {
    /// A document with the XML declaration.
    pub fn new() -> Self {
        Self { out: String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n") }
    }

    /// Opens the root element with S3's namespace.
    pub fn root(&mut self, name: &str) {
        self.out.push('<');
        self.out.push_str(name);
        self.out.push_str(" xmlns=\"");
        self.out.push_str(S3_NAMESPACE);
        self.out.push_str("\">");
    }

    /// Escaped text inside the current element.
    pub fn text(&mut self, text: &str) {
        escape_into(&mut self.out, text);
    }

    /// Opens an element.
    pub fn open(&mut self, name: &str) {
        self.out.push('<');
        self.out.push_str(name);
        self.out.push('>');
    }

    /// Closes an element.
    pub fn close(&mut self, name: &str) {
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
    }

    /// `<name>text</name>`.
    pub fn element(&mut self, name: &str, text: &str) {
        self.open(name);
        escape_into(&mut self.out, text);
        self.close(name);
    }

    /// `<element><ID>id</ID><DisplayName>id</DisplayName></element>`: an
    /// owner or initiator, named by access key.
    pub fn person(&mut self, element: &str, id: &str) {
        self.open(element);
        self.element("ID", id);
        self.element("DisplayName", id);
        self.close(element);
    }

    /// The document.
    pub fn finish(self) -> String {
        self.out
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
            // Characters XML 1.0 cannot carry at all are written as
            // character references that S3 clients decode.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {
                out.push_str(&format!("&#x{:X};", c as u32));
            }
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
}

/// One element of a parsed request body: its local name, its text, and
/// its child elements.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Element {
    /// The local name (namespace prefixes dropped).
    pub name: String,
    /// The concatenated text directly inside.
    pub text: String,
    /// Child elements, in order.
    pub children: Vec<Element>,
}

impl Element {
    /// The first child named `name`.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Every child named `name`.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The text of the first child named `name`.
    pub fn child_text(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.as_str())
    }
}

/// The deepest nesting accepted in a request body.
const MAX_DEPTH: usize = 16;

/// Parses a request body into its root element.
///
/// # Errors
/// A message saying what is wrong with the XML.
pub fn parse(body: &[u8]) -> Result<Element, String> {
    let mut reader = Reader::from_reader(body);
    // Text is kept exactly: a `Key` may begin or end with spaces, and
    // quick-xml trims each piece of text around an entity separately.
    // Only the indentation between child elements is dropped (at `End`).
    reader.config_mut().trim_text(false);
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut buf = Vec::new();
    loop {
        let event = reader.read_event_into(&mut buf).map_err(|e| format!("not well-formed XML: {e}"))?;
        match event {
            Event::Start(start) => {
                if stack.len() == MAX_DEPTH {
                    return Err(format!("elements are nested more than {MAX_DEPTH} deep"));
                }
                if root.is_some() && stack.is_empty() {
                    return Err("there is more than one root element".to_owned());
                }
                let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
                stack.push(Element { name, ..Element::default() });
            }
            Event::Empty(start) => {
                let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
                let element = Element { name, ..Element::default() };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None if root.is_some() => return Err("there is more than one root element".to_owned()),
                    None => root = Some(element),
                }
            }
            Event::Text(text) => {
                let decoded = text.decode().map_err(|e| format!("bad text: {e}"))?;
                let unescaped = quick_xml::escape::unescape(&decoded).map_err(|e| format!("bad text: {e}"))?;
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&unescaped);
                }
            }
            Event::CData(data) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&String::from_utf8_lossy(&data));
                }
            }
            Event::GeneralRef(reference) => {
                let name = String::from_utf8_lossy(&reference).into_owned();
                let entity = format!("&{name};");
                let resolved = quick_xml::escape::unescape(&entity).map_err(|e| format!("bad entity: {e}"))?;
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&resolved);
                }
            }
            Event::End(_) => {
                let mut element = stack.pop().ok_or("an end tag without a start tag")?;
                if !element.children.is_empty() && element.text.trim().is_empty() {
                    element.text.clear();
                }
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None => root = Some(element),
                }
            }
            Event::Eof => break,
            Event::DocType(_) => return Err("DOCTYPE is not allowed".to_owned()),
            _ => {}
        }
        buf.clear();
    }
    if !stack.is_empty() {
        return Err("the document ends inside an element".to_owned());
    }
    root.ok_or_else(|| "the body holds no XML element".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_escaped_elements() {
        let mut xml = XmlWriter::new();
        xml.root("R");
        xml.element("Key", "a<b>&\"c'\u{1}");
        xml.close("R");
        assert!(xml.finish().ends_with(
            "<R xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Key>a&lt;b&gt;&amp;&quot;c&apos;&#x1;</Key></R>"
        ));
    }

    #[test]
    fn parses_a_complete_multipart_body() {
        let root = parse(
            br#"<?xml version="1.0"?><CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
            <Part><PartNumber>1</PartNumber><ETag>"a&amp;b"</ETag></Part><Part><PartNumber>2</PartNumber><ETag>x</ETag></Part>
            </CompleteMultipartUpload>"#,
        )
        .unwrap();
        assert_eq!(root.name, "CompleteMultipartUpload");
        let parts: Vec<_> = root.children_named("Part").collect();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].child_text("ETag"), Some("\"a&b\""));
    }

    #[test]
    fn keeps_the_spaces_of_text() {
        let root = parse(b"<Delete>\n  <Object>\n    <Key> a &amp; b </Key>\n  </Object>\n</Delete>\n").unwrap();
        assert_eq!(root.text, "");
        let object = root.child("Object").unwrap();
        assert_eq!(object.text, "");
        assert_eq!(object.child_text("Key"), Some(" a & b "));
    }

    #[test]
    fn refuses_bad_documents() {
        for bad in [&b""[..], b"<a>", b"<a></b>", b"<a/><b/>", b"<!DOCTYPE x><a/>", b"not xml"] {
            assert!(parse(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
        let deep = "<a>".repeat(40) + &"</a>".repeat(40);
        assert!(parse(deep.as_bytes()).is_err());
    }
}
