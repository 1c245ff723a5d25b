//! The API server as the judge of `netpol validate` (issue 9).
//!
//! For every seed YAML (examples/, crates/manifest/tests/seeds/) and every
//! diagnostic code's example (tests/data/diagnostics/, one file per case of
//! crates/manifest/tests/validation.rs), each document is sent to a real
//! kube-apiserver with `kubectl apply --dry-run=server --validate=strict`, and
//! the whole file goes through `netpol validate -o json`:
//! - the server rejects a document: netpol reports an error at the field the
//!   server names (on a line of that field's node, or of its nearest ancestor
//!   when the field is not in the text), or anywhere in the document when the
//!   server names no field;
//! - the server accepts a document: netpol reports no error in it (warnings
//!   and notes are fine).
//!
//! Every disagreement is collected and printed; the test passes only when the
//! disagreements are exactly [`KNOWN`], each with the reason it stands.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use netpol_testkit::spans::{self, Seg};
use netpol_testkit::{require_control_plane, ControlPlane};
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// What the server is allowed to disagree with netpol on: (file, first line
/// of the document, what happened, why it stands). Keep it short and true.
const KNOWN: &[(&str, usize, Kind, &str)] = &[
    // calicoctl resources are not Kubernetes API objects: kubectl has no such kind. netpol's
    // NP0007 is a documented warning (skipped, so a folder holding them still loads).
    (
        "crates/cli/tests/data/diagnostics/NP0007-calico-profile.yaml",
        1,
        Kind::ServerRejects,
        "NP0007 is a documented warning",
    ),
    // A calicoctl (Calico v1) `policy` is no Kubernetes object either; netpol reads it as
    // Calico's v1-to-v3 conversion did (NP0068, a note), because seed 001 is written so.
    (
        "crates/manifest/tests/seeds/001-06-calico-default-deny-egress.yaml",
        1,
        Kind::ServerRejects,
        "calicoctl v1 policy, read as Calico converts it (NP0068)",
    ),
    (
        "crates/manifest/tests/seeds/001-07-calico-trusted-namespace.yaml",
        1,
        Kind::ServerRejects,
        "calicoctl v1 policy, read as Calico converts it (NP0068)",
    ),
    (
        "examples/seed-001-calico/default-deny-egress.yaml",
        2,
        Kind::ServerRejects,
        "calicoctl v1 policy, read as Calico converts it (NP0068)",
    ),
    (
        "examples/seed-001-calico/trusted-namespace.yaml",
        2,
        Kind::ServerRejects,
        "calicoctl v1 policy, read as Calico converts it (NP0068)",
    ),
    ("examples/calico-service-accounts/policies.yaml", 4, Kind::ServerRejects, "CRD not installed"),
    ("examples/calico-service-accounts/policies.yaml", 28, Kind::ServerRejects, "CRD not installed"),
    (
        "crates/cli/tests/data/diagnostics/NP0068-calico-v1-policy.yaml",
        1,
        Kind::ServerRejects,
        "calicoctl v1 policy, read as Calico converts it (NP0068)",
    ),
    // The ordered-policy kinds are CRDs (network-policy-api, Calico), not installed in the
    // test API server, which so refuses every object of theirs; netpol accepts the valid ones.
    // (Installing the CRDs, to compare their schema validation too, is an issue 11 follow-up.)
    (
        "crates/cli/tests/data/diagnostics/NP0060-priority-out-of-range.yaml",
        1,
        Kind::ElsewhereThanTheServer,
        "CRD not installed: the server refuses the kind, netpol the field",
    ),
    (
        "crates/cli/tests/data/diagnostics/NP0061-subject-sets-nothing.yaml",
        1,
        Kind::ElsewhereThanTheServer,
        "CRD not installed: the server refuses the kind, netpol the field",
    ),
    (
        "crates/cli/tests/data/diagnostics/NP0062-accept-in-anp.yaml",
        1,
        Kind::ElsewhereThanTheServer,
        "CRD not installed: the server refuses the kind, netpol the field",
    ),
    (
        "crates/cli/tests/data/diagnostics/NP0063-unquoted-selector-value.yaml",
        1,
        Kind::ElsewhereThanTheServer,
        "CRD not installed: the server refuses the kind, netpol the field",
    ),
    (
        "crates/cli/tests/data/diagnostics/NP0064-http-match.yaml",
        1,
        Kind::ElsewhereThanTheServer,
        "CRD not installed: the server refuses the kind, netpol the field",
    ),
    ("crates/cli/tests/data/diagnostics/NP0065-no-order.yaml", 1, Kind::ServerRejects, "CRD not installed"),
    ("crates/cli/tests/data/diagnostics/NP0066-do-not-track.yaml", 1, Kind::ServerRejects, "CRD not installed"),
    ("crates/cli/tests/data/diagnostics/NP0067-same-priority.yaml", 1, Kind::ServerRejects, "CRD not installed"),
    ("crates/cli/tests/data/diagnostics/NP0067-same-priority.yaml", 10, Kind::ServerRejects, "CRD not installed"),
    (
        "crates/cli/tests/data/diagnostics/NP0070-undeclared-service-account.yaml",
        12,
        Kind::ServerRejects,
        "CRD not installed",
    ),
    (
        "crates/cli/tests/data/diagnostics/NP0069-empty-ports.yaml",
        1,
        Kind::ElsewhereThanTheServer,
        "CRD not installed: the server refuses the kind, netpol the field",
    ),
    // kubectl turns YAML into JSON before sending it and keeps the last of two equal keys, so the
    // server never sees the duplicate; sent as YAML, the API server itself refuses it at netpol's
    // line ("strict decoding error: yaml: unmarshal errors: line 9: key \"policyTypes\" already set in map").
    (
        "crates/cli/tests/data/diagnostics/NP0011-duplicate-field.yaml",
        1,
        Kind::ServerAccepts,
        "kubectl drops the duplicate key; the API server refuses it",
    ),
    // `kubectl apply` refuses generateName ("cannot use generate name with apply"); `kubectl create`
    // accepts it and names the object web-xxxxx. NP0022 is a documented warning.
    (
        "crates/cli/tests/data/diagnostics/NP0022-generatename-only.yaml",
        1,
        Kind::ServerRejects,
        "NP0022 is a documented warning; apply refuses generateName",
    ),
    // The server ignores `status` on create (a Pod's status is written through its status
    // subresource, which refuses the same value: "status.podIPs[0]: Invalid value: \"10.0.0.256\"").
    // netpol reads status.podIP as input, so an invalid one is an error.
    (
        "crates/cli/tests/data/diagnostics/NP0043-pod-ip.yaml",
        1,
        Kind::ServerAccepts,
        "apply ignores status; the status subresource refuses it",
    ),
    // Both refuse the YAML; go-yaml names line 35 (the last line it read), netpol the
    // offending token, `ports:` at 36:9.
    (
        "crates/manifest/tests/seeds/002-06-db-policy-misindented.yaml",
        1,
        Kind::ElsewhereThanTheServer,
        "go-yaml's line is one before the token",
    ),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    /// The server rejects the document; netpol reports no error in it.
    ServerRejects,
    /// The server rejects a field; netpol's errors in the document are elsewhere.
    ElsewhereThanTheServer,
    /// The server accepts the document; netpol reports an error in it.
    ServerAccepts,
}

#[derive(Clone, Debug)]
struct Finding {
    code: String,
    severity: String,
    line: usize,
    column: usize,
    message: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}[{}]: {}", self.line, self.column, self.severity, self.code, self.message)
    }
}

/// Where the server says a document is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Place {
    /// One of these field paths (`spec.ingress[0].from[0]`).
    Field(Vec<String>),
    /// A line of the file (kubectl's YAML errors).
    Line(usize),
}

#[derive(Clone, Debug)]
struct Disagreement {
    file: String,
    first_line: usize,
    last_line: usize,
    kind: Kind,
    server: String,
    netpol: Vec<String>,
}

/// The corpus: seed YAML and code examples, each text once (the walkthrough's steps repeat files).
fn corpus() -> Vec<(String, String)> {
    let mut files = Vec::new();
    for dir in ["examples", "crates/manifest/tests/seeds", "crates/cli/tests/data/diagnostics"] {
        collect_yaml(&root().join(dir), &mut files);
    }
    files.sort();
    let mut seen = BTreeSet::new();
    files
        .into_iter()
        .filter_map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            let name = path.strip_prefix(root()).unwrap().to_string_lossy().into_owned();
            seen.insert(text.clone()).then_some((name, text))
        })
        .collect()
}

fn collect_yaml(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect_yaml(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml" || e == "json") {
            out.push(path);
        }
    }
}

/// `netpol validate -f FILE -o json`, run from the repository root.
fn netpol_findings(file: &str) -> Vec<Finding> {
    let out = Command::new(env!("CARGO_BIN_EXE_netpol"))
        .current_dir(root())
        .args(["validate", "-f", file, "-o", "json"])
        .output()
        .expect("run netpol");
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "netpol validate {file}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list: Vec<Value> = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("netpol validate {file} -o json: {e}: {}", String::from_utf8_lossy(&out.stdout)));
    list.iter()
        .map(|d| Finding {
            code: d["code"].as_str().unwrap().into(),
            severity: d["severity"].as_str().unwrap().into(),
            line: d["line"].as_u64().unwrap() as usize,
            column: d["column"].as_u64().unwrap() as usize,
            message: d["message"].as_str().unwrap().into(),
        })
        .collect()
}

/// The namespaces a text names (`namespace: x`, block or flow), valid as names.
fn namespaces_named(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for (i, _) in text.match_indices("namespace:") {
        let before = text[..i].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '/' || c == '.') {
            continue; // `metadata.namespace:`-like label keys, `kubernetes.io/namespace:`
        }
        let value: String = text[i + "namespace:".len()..]
            .trim_start_matches([' ', '\t'])
            .chars()
            .take_while(|c| !matches!(c, ',' | '}' | ' ' | '\n' | '#'))
            .collect();
        let value = value.trim_matches(['"', '\'']);
        let dns_label = !value.is_empty()
            && value.len() <= 63
            && value.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !value.starts_with('-')
            && !value.ends_with('-');
        if dns_label {
            names.insert(value.to_string());
        }
    }
    names
}

/// The server's answer for one document: `None` when it accepts it, else
/// the message and the places it names.
fn server_verdict(cp: &ControlPlane, piece: &Path) -> Option<(String, Vec<Place>)> {
    let out = cp
        .kubectl()
        .args(["apply", "--dry-run=server", "--validate=strict", "-f"])
        .arg(piece)
        .output()
        .expect("run kubectl");
    if out.status.success() {
        return None;
    }
    let message = String::from_utf8_lossy(&out.stderr).replace(&piece.display().to_string(), "FILE");
    let places = places(&message);
    Some((message.trim().to_string(), places))
}

/// The places a kubectl/API server error message names.
fn places(message: &str) -> Vec<Place> {
    const FIELD_ERRORS: &[&str] = &[
        "Invalid value",
        "Required value",
        "Unsupported value",
        "Forbidden",
        "Duplicate value",
        "Too many",
        "Too long",
        "Not found",
        "Internal error",
    ];
    let mut places = Vec::new();
    for kind in FIELD_ERRORS {
        for (i, _) in message.match_indices(&format!(": {kind}")) {
            let start = message[..i].rfind([' ', '\n']).map_or(0, |s| s + 1);
            let path = message[start..i].trim_start_matches(['[', '*']);
            if !path.is_empty() && !path.contains('"') {
                places.push(Place::Field(vec![path.to_string()]));
            }
        }
    }
    for marker in ["unknown field \"", "duplicate field \""] {
        for (i, _) in message.match_indices(marker) {
            let rest = &message[i + marker.len()..];
            places.push(Place::Field(vec![rest[..rest.find('"').unwrap_or(rest.len())].to_string()]));
        }
    }
    if message.contains("namespaces \"") && message.contains("\" not found") {
        places.push(Place::Field(vec!["metadata.namespace".into()]));
    }
    // `json: cannot unmarshal bool into Go struct field ObjectMeta.metadata.labels of type string`
    for (i, _) in message.match_indices("Go struct field ") {
        let rest = &message[i + "Go struct field ".len()..];
        let field = &rest[..rest.find(' ').unwrap_or(rest.len())];
        let path =
            field
                .split_once('.')
                .map_or(field, |(go_type, path)| if go_type.starts_with(char::is_uppercase) { path } else { field });
        places.push(Place::Field(vec![path.to_string()]));
    }
    if message.contains("no matches for kind") || (message.contains("no kind \"") && message.contains("is registered"))
    {
        places.push(Place::Field(vec!["apiVersion".into(), "kind".into()]));
    }
    if message.contains("resource name may not be empty") {
        places.push(Place::Field(vec!["metadata.name".into()]));
    }
    for marker in ["apiVersion not set", "kind not set"] {
        if message.contains(marker) {
            places.push(Place::Field(vec![marker.split(' ').next().unwrap().into()]));
        }
    }
    for (i, _) in message.match_indices("yaml: line ") {
        let digits: String = message[i + "yaml: line ".len()..].chars().take_while(char::is_ascii_digit).collect();
        if let Ok(line) = digits.parse() {
            places.push(Place::Line(line));
        }
    }
    places
}

/// The documents of a file as (first line, last line, the document's spans);
/// a file the YAML parser refuses is one document.
fn documents_of(text: &str) -> Vec<(usize, usize, Option<spans::Document>)> {
    match spans::documents(text) {
        Ok(docs) => docs.into_iter().map(|d| (d.first_line, d.last_line, Some(d))).collect(),
        Err(_) => vec![(1, text.lines().count().max(1), None)],
    }
}

/// The text of lines `first..=last` at the same line numbers (blank lines before).
fn piece(text: &str, first: usize, last: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = "\n".repeat(first - 1);
    for line in &lines[first - 1..last.min(lines.len())] {
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// What the judge found for one document.
#[derive(Clone, Debug)]
enum Outcome {
    BothAccept,
    /// Both reject; the places the server named (empty: it named none) and netpol's error codes.
    BothReject {
        places: Vec<String>,
        codes: Vec<String>,
    },
    Disagree(Disagreement),
}

/// Judges every document of one file.
fn judge(cp: &ControlPlane, scratch: &Path, file: &str, text: &str) -> Vec<(String, Outcome)> {
    let findings = netpol_findings(file);
    let docs = documents_of(text);
    let mut out = Vec::new();
    for (n, (first, last, doc)) in docs.iter().enumerate() {
        let piece_path = scratch.join(format!("{}-{n}.yaml", file.replace('/', "_")));
        std::fs::write(&piece_path, piece(text, *first, *last)).unwrap();
        // netpol's findings in this document (one before the first document belongs to it).
        let lines = if n == 0 { 1 } else { *first }..docs.get(n + 1).map_or(usize::MAX, |d| d.0);
        let errors: Vec<&Finding> =
            findings.iter().filter(|f| f.severity == "error" && lines.contains(&f.line)).collect();
        let disagree = |kind, server: &str| {
            Outcome::Disagree(Disagreement {
                file: file.to_string(),
                first_line: *first,
                last_line: *last,
                kind,
                server: server.to_string(),
                netpol: findings.iter().filter(|f| lines.contains(&f.line)).map(|f| f.to_string()).collect(),
            })
        };
        let outcome = match server_verdict(cp, &piece_path) {
            None if !errors.is_empty() => disagree(Kind::ServerAccepts, "accepted"),
            None => Outcome::BothAccept,
            Some((message, _)) if errors.is_empty() => disagree(Kind::ServerRejects, &message),
            Some((message, places)) => {
                let at = |range: (usize, usize)| errors.iter().any(|f| (range.0..=range.1).contains(&f.line));
                let all_found = places.iter().all(|place| match (place, doc) {
                    (Place::Line(line), _) => at((*line, *line)),
                    (Place::Field(paths), Some(doc)) => paths.iter().any(|path| {
                        doc.locate(&Seg::parse_path(path)).is_none_or(|(first, last, _)| at((first, last)))
                    }),
                    (Place::Field(_), None) => true,
                });
                if all_found {
                    let places = places
                        .iter()
                        .map(|p| match p {
                            Place::Field(paths) => paths.join("|"),
                            Place::Line(line) => format!("line {line}"),
                        })
                        .collect();
                    let codes = errors.iter().map(|f| format!("{}@{}", f.code, f.line)).collect();
                    Outcome::BothReject { places, codes }
                } else {
                    disagree(Kind::ElsewhereThanTheServer, &message)
                }
            }
        };
        out.push((format!("{file}:{first}-{last}"), outcome));
    }
    out
}

fn render(disagreements: &[Disagreement]) -> String {
    let mut out = String::new();
    for d in disagreements {
        out.push_str(&format!(
            "--- {}:{}-{} {:?}\n  server: {}\n",
            d.file,
            d.first_line,
            d.last_line,
            d.kind,
            d.server.replace('\n', "\n          ")
        ));
        if d.netpol.is_empty() {
            out.push_str("  netpol: (no finding)\n");
        }
        for f in &d.netpol {
            out.push_str(&format!("  netpol: {f}\n"));
        }
    }
    out
}

#[test]
fn the_api_server_and_netpol_validate_agree() {
    let cp = require_control_plane!().start().unwrap_or_else(|e| panic!("{e}"));
    let corpus = corpus();
    assert!(corpus.len() > 60, "{} files", corpus.len());
    let namespaces: BTreeSet<String> = corpus.iter().flat_map(|(_, text)| namespaces_named(text)).collect();
    cp.ensure_namespaces(namespaces.iter().map(String::as_str)).unwrap_or_else(|e| panic!("{e}"));

    let scratch = tempfile::tempdir().unwrap();
    // Two workers: the API server needs the rest of the machine.
    let judged: Vec<(String, Outcome)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..2)
            .map(|w| {
                let (cp, corpus, scratch) = (&cp, &corpus, scratch.path());
                s.spawn(move || {
                    corpus
                        .iter()
                        .skip(w)
                        .step_by(2)
                        .flat_map(|(file, text)| judge(cp, scratch, file, text))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers.into_iter().flat_map(|w| w.join().unwrap()).collect()
    });
    let (mut accepted, mut rejected, mut at_fields) = (0, 0, 0);
    let mut found: Vec<Disagreement> = Vec::new();
    let mut audit = String::new();
    for (at, outcome) in &judged {
        match outcome {
            Outcome::BothAccept => accepted += 1,
            Outcome::BothReject { places, codes } => {
                rejected += 1;
                at_fields += usize::from(!places.is_empty());
                audit.push_str(&format!("  {at}: server [{}], netpol [{}]\n", places.join(", "), codes.join(", ")));
            }
            Outcome::Disagree(d) => found.push(d.clone()),
        }
    }
    found.sort_by(|a, b| (&a.file, a.first_line).cmp(&(&b.file, b.first_line)));
    eprintln!(
        "{} files, {} documents: {accepted} accepted by both, {rejected} rejected by both ({at_fields} at the fields the server names):\n{audit}{} disagreements:\n{}",
        corpus.len(),
        judged.len(),
        found.len(),
        render(&found)
    );
    // The judge itself must have judged: both verdicts, and fields, in numbers.
    assert!(
        accepted >= 40 && rejected >= 40 && at_fields >= 35,
        "{accepted} accepted, {rejected} rejected, {at_fields} at fields"
    );

    let known: BTreeMap<(&str, usize), Kind> = KNOWN.iter().map(|(f, l, k, _)| ((*f, *l), *k)).collect();
    let unexpected: Vec<Disagreement> =
        found.iter().filter(|d| known.get(&(d.file.as_str(), d.first_line)) != Some(&d.kind)).cloned().collect();
    let gone: Vec<String> = KNOWN
        .iter()
        .filter(|(f, l, k, _)| !found.iter().any(|d| d.file == *f && d.first_line == *l && d.kind == *k))
        .map(|(f, l, k, why)| format!("{f}:{l} {k:?} ({why})"))
        .collect();
    assert!(
        unexpected.is_empty() && gone.is_empty(),
        "disagreements not in KNOWN:\n{}\nKNOWN entries that no longer disagree (remove them):\n{}",
        render(&unexpected),
        gone.join("\n")
    );
}

#[test]
fn every_code_has_an_example_that_reports_it() {
    let dir = root().join("crates/cli/tests/data/diagnostics");
    let mut covered = BTreeSet::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let code = name.split('-').next().unwrap().to_string();
        let file = path.strip_prefix(root()).unwrap().to_string_lossy().into_owned();
        let findings = netpol_findings(&file);
        assert!(findings.iter().any(|f| f.code == code), "{file} should report {code}: {findings:?}");
        covered.insert(code);
    }
    let missing: Vec<&str> =
        netpol_manifest::codes().iter().map(|c| c.code).filter(|c| !covered.contains(*c)).collect();
    assert!(missing.is_empty(), "codes without an example in {}: {missing:?}", dir.display());
}

#[test]
fn server_messages_name_their_places() {
    let invalid = r#"Error from server (Invalid): error when creating "FILE": NetworkPolicy.networking.k8s.io "p" is invalid: [spec.ingress[0].from[0]: Required value: must specify a peer, spec.ingress[0].ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive]"#;
    assert_eq!(
        places(invalid),
        [
            Place::Field(vec!["spec.ingress[0].ports[0].port".into()]),
            Place::Field(vec!["spec.ingress[0].from[0]".into()]),
        ]
    );
    let strict = r#"Error from server (BadRequest): error when creating "FILE": NetworkPolicy in version "v1" cannot be handled as a NetworkPolicy: strict decoding error: unknown field "spec.podselector""#;
    assert_eq!(places(strict), [Place::Field(vec!["spec.podselector".into()])]);
    assert_eq!(
        places("error: error parsing FILE: error converting YAML to JSON: yaml: line 3: did not find expected key"),
        [Place::Line(3)]
    );
    assert_eq!(
        places(r#"Error from server (NotFound): error when creating "FILE": namespaces "a.b" not found"#),
        [Place::Field(vec!["metadata.namespace".into()])]
    );
    assert_eq!(
        namespaces_named("metadata: {name: a, namespace: prod}\n  namespace: \"x-1\"\nnamespace: a.b\n"),
        BTreeSet::from(["prod".to_string(), "x-1".to_string()])
    );
    assert_eq!(piece("a\nb\nc\n", 2, 3), "\nb\nc\n");
}
