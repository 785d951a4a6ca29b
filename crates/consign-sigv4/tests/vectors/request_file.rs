//! Reading the raw HTTP requests of the suites (`.req`, `request.txt`).

/// How a header line that starts with whitespace (an obsolete fold) is read.
#[derive(Clone, Copy)]
pub enum Folding {
    /// As another value of the same header (the 2015 suite: joined with `,`).
    SeparateValue,
    /// As a continuation of the value (aws-c-auth): the fold becomes a
    /// space, as an HTTP parser unfolds it (RFC 9112, section 5.2).
    Continuation,
}

/// A parsed request.
pub struct RequestFile {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RequestFile {
    pub fn parse(text: &str, folding: Folding) -> Self {
        let (head, body) = match text.split_once("\n\n") {
            Some((head, body)) => (head, body.as_bytes().to_vec()),
            None => (text.trim_end_matches('\n'), Vec::new()),
        };
        let mut lines = head.split('\n');
        let request_line = lines.next().expect("a request line");
        let (method, rest) = request_line.split_once(' ').expect("method and target");
        let target = rest.rsplit_once(" HTTP/").map_or(rest, |(t, _)| t);
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let mut headers: Vec<(String, String)> = Vec::new();
        for line in lines {
            if line.starts_with([' ', '\t']) {
                let last = headers.last_mut().expect("a folded line follows a header");
                match folding {
                    Folding::SeparateValue => {
                        let name = last.0.clone();
                        headers.push((name, line.trim().to_owned()));
                    }
                    Folding::Continuation => {
                        last.1.push(' ');
                        last.1.push_str(line);
                    }
                }
            } else if let Some((name, value)) = line.split_once(':') {
                headers.push((name.to_owned(), value.to_owned()));
            }
        }
        Self { method: method.to_owned(), path: path.to_owned(), query: query.to_owned(), headers, body }
    }

    pub fn header_pairs(&self) -> Vec<(&str, &str)> {
        self.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}
