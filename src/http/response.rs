//! Writing HTTP/1.1 response heads into a reusable buffer.
//!
//! [`ResponseHead`] appends the status line and headers to the connection's
//! output buffer; the caller sends the buffer. Every response carries `Date`,
//! `Server` and the request id, and closes the connection with
//! `Connection: close` when keep-alive ends.

use super::date::http_date_now;

/// `Server` header value.
pub const SERVER_NAME: &str = "sluice";

/// The reason phrase of a status code.
pub fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        204 => "No Content",
        206 => "Partial Content",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        411 => "Length Required",
        412 => "Precondition Failed",
        416 => "Range Not Satisfiable",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

/// Builder of one response head in `out`.
pub struct ResponseHead<'o> {
    out: &'o mut Vec<u8>,
}

impl<'o> ResponseHead<'o> {
    /// Clears `out` and writes the status line plus `Date`, `Server` and
    /// `x-amz-request-id`.
    pub fn start(out: &'o mut Vec<u8>, status: u16, request_id: &str) -> Self {
        out.clear();
        out.extend_from_slice(b"HTTP/1.1 ");
        let mut num = itoa::Buffer::new();
        out.extend_from_slice(num.format(status).as_bytes());
        out.push(b' ');
        out.extend_from_slice(reason(status).as_bytes());
        out.extend_from_slice(b"\r\nServer: ");
        out.extend_from_slice(SERVER_NAME.as_bytes());
        out.extend_from_slice(b"\r\nDate: ");
        out.extend_from_slice(&http_date_now());
        out.extend_from_slice(b"\r\n");
        let mut head = ResponseHead { out };
        if !request_id.is_empty() {
            head.header("x-amz-request-id", request_id.as_bytes());
        }
        head
    }

    /// Appends `name: value`. Values with CR or LF are dropped, never sent.
    pub fn header(&mut self, name: &str, value: &[u8]) -> &mut Self {
        if value.iter().any(|&b| b == b'\r' || b == b'\n') {
            return self;
        }
        self.out.extend_from_slice(name.as_bytes());
        self.out.extend_from_slice(b": ");
        self.out.extend_from_slice(value);
        self.out.extend_from_slice(b"\r\n");
        self
    }

    pub fn header_u64(&mut self, name: &str, value: u64) -> &mut Self {
        let mut num = itoa::Buffer::new();
        let s = num.format(value);
        self.out.extend_from_slice(name.as_bytes());
        self.out.extend_from_slice(b": ");
        self.out.extend_from_slice(s.as_bytes());
        self.out.extend_from_slice(b"\r\n");
        self
    }

    /// Appends already-formatted `Name: value\r\n` lines.
    pub fn raw_lines(&mut self, lines: &[u8]) -> &mut Self {
        self.out.extend_from_slice(lines);
        self
    }

    /// Ends the head. `keep_alive == false` adds `Connection: close`.
    pub fn finish(self, keep_alive: bool) {
        if !keep_alive {
            self.out.extend_from_slice(b"Connection: close\r\n");
        }
        self.out.extend_from_slice(b"\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_is_well_formed() {
        let mut out = Vec::new();
        let mut h = ResponseHead::start(&mut out, 404, "ABC");
        h.header("Content-Type", b"application/xml").header_u64("Content-Length", 12);
        h.header("X-Evil", b"a\r\nInjected: 1");
        h.finish(false);
        let s = String::from_utf8(out).unwrap();
        assert!(s.starts_with("HTTP/1.1 404 Not Found\r\nServer: sluice\r\nDate: "));
        assert!(s.contains("\r\nx-amz-request-id: ABC\r\n"));
        assert!(s.contains("\r\nContent-Length: 12\r\n"));
        assert!(!s.contains("Injected"));
        assert!(s.ends_with("Connection: close\r\n\r\n"));
    }
}
