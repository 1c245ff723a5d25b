//! A plain HTTP/1.0 client over `std::net::TcpStream`, for what tests ask of
//! plain-HTTP servers on 127.0.0.1 (the agent's endpoints, etcd's JSON
//! gateway): one request per connection, the whole answer read. Here rather
//! than in netpol-testkit so that the control plane's faults use it too
//! (testkit re-exports it as `netpol_testkit::http`).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// An answer: status, headers (names in lower case) and body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    /// The first header called `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// `GET path` on `addr`.
pub fn get(addr: SocketAddr, path: &str) -> std::io::Result<Response> {
    request(addr, "GET", path)
}

/// One request with no body; the server closes the connection after its
/// answer (HTTP/1.0). Waits at most 10 s for it.
pub fn request(addr: SocketAddr, method: &str, path: &str) -> std::io::Result<Response> {
    send(addr, method, path, None)
}

/// `POST path` on `addr` with a JSON `body`.
pub fn post_json(addr: SocketAddr, path: &str, body: &str) -> std::io::Result<Response> {
    send(addr, "POST", path, Some(("application/json", body)))
}

/// One request, with a body of a content type when given.
fn send(addr: SocketAddr, method: &str, path: &str, body: Option<(&str, &str)>) -> std::io::Result<Response> {
    let invalid = |what: String| std::io::Error::new(std::io::ErrorKind::InvalidData, what);
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(stream, "{method} {path} HTTP/1.0\r\nHost: {addr}\r\n")?;
    match body {
        Some((content_type, body)) => {
            write!(stream, "Content-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{body}", body.len())?
        }
        None => write!(stream, "\r\n")?,
    }
    let mut raw = String::new();
    stream.read_to_string(&mut raw)?;
    let (head, body) = raw.split_once("\r\n\r\n").ok_or_else(|| invalid(format!("no end of headers in {raw:?}")))?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| invalid(format!("no status in {status_line:?}")))?;
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_string()))
        .collect();
    Ok(Response { status, headers, body: body.to_string() })
}

/// The value of one sample (`name{labels}`, exactly as written) in OpenMetrics text.
pub fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().filter_map(|line| line.strip_prefix(series)?.strip_prefix(' ')).find_map(|value| value.parse().ok())
}
