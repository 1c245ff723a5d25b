//! The agent's HTTP endpoints: `GET /metrics` (OpenMetrics text), `GET
//! /healthz` (liveness) and `GET /readyz` (readiness), from a [`Metrics`].
//!
//! Design: tiny_http, a small synchronous HTTP/1.1 server (its own accept
//! thread and a thread per connection; no async runtime), because the agent's
//! loop is synchronous too and these endpoints answer a scrape every few
//! seconds: hyper or axum would bring a tokio runtime and a tower stack to
//! serve three fixed pages. One thread of ours answers the requests in turn
//! (each answer is a string built from atomics and one short lock); dropping
//! the [`Server`] unblocks and joins it, and tiny_http closes the listening
//! socket. The server binds wherever it is told; the agent's `--netns` does
//! not apply to it.

use std::io;
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use tiny_http::{Header, Method, Request, Response};

use crate::metrics::Metrics;

/// The content type of `/metrics`.
pub const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
const TEXT: &str = "text/plain; charset=utf-8";

/// A running server; dropping it stops it.
pub struct Server {
    http: Arc<tiny_http::Server>,
    addr: SocketAddr,
    stopping: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// The address it listens on (the port chosen when asked for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server").field("addr", &self.addr).finish_non_exhaustive()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        self.http.unblock();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Listens on `addr` and answers on a background thread until the returned
/// [`Server`] is dropped. Fails only when `addr` cannot be bound.
pub fn serve(addr: SocketAddr, metrics: Arc<Metrics>) -> io::Result<Server> {
    let listener = TcpListener::bind(addr)?;
    let addr = listener.local_addr()?;
    let http = Arc::new(tiny_http::Server::from_listener(listener, None).map_err(io::Error::other)?);
    let stopping = Arc::new(AtomicBool::new(false));
    let thread = {
        let (http, stopping) = (Arc::clone(&http), Arc::clone(&stopping));
        std::thread::Builder::new().name("netpol-http".into()).spawn(move || loop {
            match http.recv() {
                Ok(request) => answer(request, &metrics),
                Err(_) if stopping.load(Ordering::SeqCst) => return,
                Err(e) => {
                    // tiny_http's accept thread has ended: nothing more will come.
                    metrics.error("serve");
                    tracing::error!(error = %e, "the metrics server stopped");
                    return;
                }
            }
        })?
    };
    Ok(Server { http, addr, stopping, thread: Some(thread) })
}

fn answer(request: Request, metrics: &Metrics) {
    let (status, content_type, body) = route(request.method(), request.url(), metrics);
    let mut response =
        Response::from_string(body).with_status_code(status).with_header(header("Content-Type", content_type));
    if status == 405 {
        response.add_header(header("Allow", "GET, HEAD"));
    }
    // A client gone before its answer is its business.
    let _ = request.respond(response);
}

fn header(name: &str, value: &str) -> Header {
    Header::from_bytes(name, value).expect("a valid header")
}

/// Status, content type and body for a request.
fn route(method: &Method, url: &str, metrics: &Metrics) -> (u16, &'static str, String) {
    let path = url.split_once('?').map_or(url, |(path, _)| path);
    if !matches!(path, "/metrics" | "/healthz" | "/readyz") {
        return (404, TEXT, format!("not found: {path} (try /metrics, /healthz or /readyz)\n"));
    }
    if !matches!(method, Method::Get | Method::Head) {
        return (405, TEXT, format!("method not allowed: {method} (GET or HEAD)\n"));
    }
    let check = |result: Result<(), String>| match result {
        Ok(()) => (200, TEXT, "ok\n".to_string()),
        Err(why) => (503, TEXT, format!("{why}\n")),
    };
    match path {
        "/metrics" => (200, OPENMETRICS, metrics.encode()),
        "/healthz" => check(metrics.live()),
        _ => check(metrics.ready()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        let metrics = Metrics::new();
        let get = |url: &str| route(&Method::Get, url, &metrics);
        assert_eq!(get("/healthz"), (200, TEXT, "ok\n".into()));
        assert_eq!(get("/readyz"), (503, TEXT, "waiting for the initial lists\n".into()));
        let (status, content_type, body) = get("/metrics?x=1");
        assert_eq!((status, content_type), (200, OPENMETRICS));
        assert!(body.ends_with("# EOF\n"), "{body}");
        assert_eq!(get("/metrics/x").0, 404);
        assert_eq!(get("/").0, 404);
        assert_eq!(route(&Method::Post, "/metrics", &metrics).0, 405);
        assert_eq!(route(&Method::Post, "/nope", &metrics).0, 404);
        assert_eq!(route(&Method::Head, "/readyz", &metrics).0, 503);
    }
}
