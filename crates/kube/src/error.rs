//! What can go wrong talking to the API server, in the words a user needs.

use std::error::Error as _;

use crate::chain;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No usable kubeconfig or in-cluster configuration.
    #[error("cannot load the cluster configuration: {0}")]
    Config(String),
    /// No connection: the address and the OS error.
    #[error("cannot reach the API server at {server}: {reason}")]
    Unreachable { server: String, reason: String },
    /// The connection was made, but TLS failed (certificate, CA, protocol).
    #[error("TLS with the API server at {server} failed: {reason}")]
    Tls { server: String, reason: String },
    /// 401: the credentials were not accepted.
    #[error("the API server at {server} refused the credentials (401 Unauthorized): {message}")]
    Unauthorized { server: String, message: String },
    /// 403: RBAC refused a verb on a resource.
    #[error("cannot {verb} {resource} {scope}: {message}")]
    Forbidden { verb: String, resource: String, scope: String, message: String },
    /// 404 on a list: this server does not serve the resource.
    #[error("the API server does not serve {resource} ({message})")]
    NotServed { resource: String, message: String },
    /// Any other answer of the server.
    #[error("cannot {verb} {resource}: {message} ({code} {reason})")]
    Api { verb: String, resource: String, code: u16, reason: String, message: String },
    /// `netpol agent --kubernetes --once`: the first lists did not all arrive in time.
    #[error("the first lists from {server} did not all arrive within {}s", waited.as_secs())]
    FirstLists { server: String, waited: std::time::Duration },
    /// Anything else on the way (a response that does not decode, ...).
    #[error("cannot {verb} {resource}: {message}")]
    Other { verb: String, resource: String, message: String },
}

impl Error {
    /// Sorts a kube-rs error into what the user must fix.
    pub(crate) fn classify(e: &kube::Error, server: &str, verb: &str, resource: &str) -> Error {
        let (verb, resource, server) = (verb.to_string(), resource.to_string(), server.to_string());
        if let kube::Error::Api(status) = e {
            let message = status.message.clone();
            return match status.code {
                401 => Error::Unauthorized { server, message },
                403 => Error::Forbidden { verb, resource, scope: "at cluster scope".to_string(), message },
                404 if verb == "list" => Error::NotServed { resource, message },
                code => Error::Api { verb, resource, code, reason: status.reason.clone(), message },
            };
        }
        let text = chain(e);
        let lower = text.to_lowercase();
        if matches!(e, kube::Error::RustlsTls(_))
            || ["certificate", "tls", "handshake", "unknownissuer"].iter().any(|w| lower.contains(w))
        {
            return Error::Tls { server, reason: text };
        }
        if matches!(e, kube::Error::Auth(_)) {
            return Error::Unauthorized { server, message: text };
        }
        // The OS error under hyper's "client error (Connect)".
        let mut next: Option<&dyn std::error::Error> = e.source();
        while let Some(cause) = next {
            if let Some(io) = cause.downcast_ref::<std::io::Error>() {
                return Error::Unreachable { server, reason: io.to_string() };
            }
            next = cause.source();
        }
        if lower.contains("connect") || lower.contains("timed out") || lower.contains("elapsed") {
            return Error::Unreachable { server, reason: text };
        }
        Error::Other { verb, resource, message: text }
    }

    /// A namespaced request: RBAC refused it in `namespace`, not at cluster scope.
    pub(crate) fn in_namespace(self, namespace: &str) -> Error {
        match self {
            Error::Forbidden { verb, resource, message, .. } => {
                Error::Forbidden { verb, resource, scope: format!("in namespace {namespace}"), message }
            }
            other => other,
        }
    }
}
