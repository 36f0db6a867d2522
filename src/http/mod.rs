//! HTTP/1.1, parsed by hand on `httparse`: request heads, body framing,
//! response writing and the per-connection loop, over plain TCP or TLS.

pub mod aws_chunked;
pub mod chunked;
pub mod conn;
pub mod date;
pub mod head;
pub mod limits;
pub mod name;
pub mod ows;
pub mod response;
pub mod stream;

pub use aws_chunked::{AwsChunkedDecoder, AwsChunkedError, AwsChunkedMode};
pub use conn::{BodyError, ConnLimits, Exchange, Handler, serve_connection};
pub use head::{
    BodyFraming, HeadError, HeadStatus, HeaderStorage, Method, RequestHead, header_storage, parse_head,
};
pub use response::ResponseHead;
pub use stream::{BackendStream, ClientIdentity, ClientStream, MaybeTls};
