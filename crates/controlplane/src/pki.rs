//! The keys and certificates one control plane needs, made with the
//! `openssl` command line (OpenSSL 3): a throwaway CA, a serving certificate
//! for 127.0.0.1 signed by it, and the ServiceAccount token signing key pair.
//!
//! Why openssl and not a Rust crate: it is on every Debian machine, it keeps
//! testkit's dependencies at std + serde_json + tempfile, and what it writes
//! is exactly what kube-apiserver reads (PEM files).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::Error;

/// The files [`generate`] writes into a control plane's directory.
#[derive(Clone, Debug)]
pub(crate) struct Pki {
    /// The CA that signed the serving certificate: what a kubeconfig trusts.
    pub ca_cert: PathBuf,
    pub serving_cert: PathBuf,
    pub serving_key: PathBuf,
    /// ServiceAccount tokens are signed with this key and verified with `sa_public`.
    pub sa_key: PathBuf,
    pub sa_public: PathBuf,
}

/// Writes a CA, a serving certificate for `127.0.0.1`/`localhost` and a
/// ServiceAccount key pair into `dir` (ECDSA P-256, valid one day).
pub(crate) fn generate(dir: &Path) -> Result<Pki, Error> {
    let file = |name: &str| dir.join(name);
    let pki = Pki {
        ca_cert: file("ca.crt"),
        serving_cert: file("apiserver.crt"),
        serving_key: file("apiserver.key"),
        sa_key: file("sa.key"),
        sa_public: file("sa.pub"),
    };
    let ca_key = file("ca.key");
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1"];
    openssl(
        &[
            &["req", "-x509"][..],
            &ec,
            &["-subj", "/CN=netpol-test-ca", "-keyout"],
            &[path(&ca_key), "-out", path(&pki.ca_cert)],
            &["-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
        ]
        .concat(),
    )?;
    openssl(
        &[
            &["req", "-x509"][..],
            &ec,
            &["-subj", "/CN=kube-apiserver", "-CA", path(&pki.ca_cert), "-CAkey", path(&ca_key)],
            &["-keyout", path(&pki.serving_key), "-out", path(&pki.serving_cert)],
            &["-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc"],
            &["-addext", "basicConstraints=critical,CA:FALSE"],
            &["-addext", "keyUsage=critical,digitalSignature,keyEncipherment"],
            &["-addext", "extendedKeyUsage=serverAuth"],
        ]
        .concat(),
    )?;
    openssl(&["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-out", path(&pki.sa_key)])?;
    openssl(&["pkey", "-in", path(&pki.sa_key), "-pubout", "-out", path(&pki.sa_public)])?;
    Ok(pki)
}

fn path(p: &Path) -> &str {
    p.to_str().expect("temp dir paths are UTF-8")
}

fn openssl(args: &[&str]) -> Result<(), Error> {
    let out = Command::new("openssl")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|source| Error::Io { what: "run `openssl` (apt-get install -y openssl)".into(), source })?;
    if out.status.success() {
        Ok(())
    } else {
        Err(Error::Command {
            command: format!("openssl {}", args.join(" ")),
            status: out.status.to_string(),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        })
    }
}
