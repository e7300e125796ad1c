//! The accepted socket, able to end with a TCP reset instead of an orderly close.
//!
//! A scripted reset (`Reply::reset`, `StreamReply::cut_after`) must look like a network failure
//! to the client: `ECONNRESET`, not a clean end of file. `SO_LINGER` of zero on close does that;
//! it is set only when a reply asked for it, so ordinary closes stay FIN closes.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::state::ConnCtl;

/// A `TcpStream` for hyper that resets on drop when its connection was told to.
pub(crate) struct ConnIo {
    io: TokioIo<TcpStream>,
    ctl: Arc<ConnCtl>,
}

impl ConnIo {
    pub(crate) fn new(stream: TcpStream, ctl: Arc<ConnCtl>) -> ConnIo {
        ConnIo {
            io: TokioIo::new(stream),
            ctl,
        }
    }
}

impl Drop for ConnIo {
    fn drop(&mut self) {
        if self.ctl.wants_reset() {
            // A zero linger never blocks; failing to set it leaves a FIN close, which still
            // breaks the client's body, just less abruptly.
            let _ = self.io.inner().set_zero_linger();
        }
    }
}

impl Read for ConnIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl Write for ConnIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }
}
