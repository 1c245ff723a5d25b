//! Findings as data: [`Diagnostic`], its [`Severity`], and the single code table
//! ([`codes`]) that `docs/diagnostics.md` is generated from.

use std::fmt;

use serde::Serialize;

/// How bad a finding is. Only errors make `netpol validate` fail and other
/// commands refuse their input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Note,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One finding at a 1-based position of a file.
///
/// Its JSON form is exactly `{code, severity, file, line, column, message, help}`
/// (`help` is `null` when absent).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub code: &'static str,
    pub severity: Severity,
    pub file: String,
    pub line: u32,
    pub column: u32,
    pub message: String,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// `file:line:col: error[NP0012]: message`, then `  = help: ...` when there is help.
/// Control characters (and the bidirectional overrides) in the file name, message
/// and help are escaped as JSON escapes them, so that input can neither break the
/// one-line form nor send escape sequences to a terminal.
impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Line 0: an object with no text position (read from the API).
        if self.line == 0 {
            write!(f, "{}: ", Escaped(&self.file))?;
        } else {
            write!(f, "{}:{}:{}: ", Escaped(&self.file), self.line, self.column)?;
        }
        write!(f, "{}[{}]: {}", self.severity, self.code, Escaped(&self.message))?;
        if let Some(help) = &self.help {
            write!(f, "\n  = help: {}", Escaped(help))?;
        }
        Ok(())
    }
}

/// Text from the input, printed with its control characters escaped: `\n`,
/// `\t`, `\r`, and `\u001b` for the others, as in JSON; the bidirectional
/// embedding, override and isolate characters as `\u202e`.
pub struct Escaped<'a>(pub &'a str);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(at) = rest.find(needs_escape) {
            f.write_str(&rest[..at])?;
            let c = rest[at..].chars().next().unwrap_or_default();
            match c {
                '\n' => f.write_str("\\n")?,
                '\t' => f.write_str("\\t")?,
                '\r' => f.write_str("\\r")?,
                _ => write!(f, "\\u{:04x}", u32::from(c))?,
            }
            rest = &rest[at + c.len_utf8()..];
        }
        f.write_str(rest)
    }
}

fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// One entry of the code table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct CodeInfo {
    pub code: &'static str,
    /// The severity in strict mode (see [`CodeInfo::lenient_severity`] for `--lenient`).
    pub severity: Severity,
    pub summary: &'static str,
}

impl CodeInfo {
    /// Unknown and duplicate fields are warnings under `--lenient` (the API
    /// server drops them when validation is off); every other code keeps its severity.
    pub fn lenient_severity(&self) -> Severity {
        if self.code == UNKNOWN_FIELD.code || self.code == DUPLICATE_FIELD.code {
            Severity::Warning
        } else {
            self.severity
        }
    }

    /// The severity in the given mode.
    pub fn severity_in(&self, lenient: bool) -> Severity {
        if lenient {
            self.lenient_severity()
        } else {
            self.severity
        }
    }

    /// A finding of this code at `file:line:column`, with the severity of the mode.
    pub(crate) fn at(
        &self,
        lenient: bool,
        file: &str,
        line: u32,
        column: u32,
        message: String,
        help: Option<String>,
    ) -> Diagnostic {
        let severity = self.severity_in(lenient);
        Diagnostic { code: self.code, severity, file: file.to_string(), line, column, message, help }
    }
}

macro_rules! code_table {
    ($($name:ident = $code:literal, $sev:ident, $summary:literal;)*) => {
        $(pub(crate) const $name: CodeInfo = CodeInfo { code: $code, severity: Severity::$sev, summary: $summary };)*
        static CODES: &[CodeInfo] = &[$($name),*];
    };
}

code_table! {
    YAML_SYNTAX = "NP0001", Error, "the file is not valid YAML or JSON; other files still load";
    NOT_AN_OBJECT = "NP0002", Error, "a document (or list item) is not a mapping with apiVersion, kind and metadata";
    MISSING_API_VERSION = "NP0003", Error, "`apiVersion` is missing: the API server rejects the object";
    MISSING_KIND = "NP0004", Error, "`kind` is missing: the API server rejects the object";
    WRONG_API_VERSION = "NP0005", Error, "a known kind under an apiVersion that does not serve it (e.g. `extensions/v1beta1` NetworkPolicy)";
    KIND_CASE = "NP0006", Error, "a kind spelled with the wrong case (kinds are case-sensitive)";
    NOT_A_KUBERNETES_KIND = "NP0007", Warning, "a kind the core `v1` API does not have (e.g. Calico's calicoctl `kind: policy`): skipped";
    SKIPPED_KIND = "NP0008", Note, "a Kubernetes kind netpol does not model (ConfigMap, Ingress, ...): skipped";
    UNKNOWN_FIELD = "NP0010", Error, "unknown or misplaced field (a warning under --lenient, where it is dropped)";
    DUPLICATE_FIELD = "NP0011", Error, "the same field twice in one mapping (a warning under --lenient, where the last wins)";
    INVALID_TYPE = "NP0012", Error, "a value of the wrong type (e.g. a list where a mapping belongs, an unquoted `true` label value)";
    MISSING_NAME = "NP0020", Error, "`metadata.name` is missing";
    INVALID_NAME = "NP0021", Error, "an object or namespace name that is not a valid DNS name";
    GENERATE_NAME = "NP0022", Warning, "only `metadata.generateName`: netpol uses it as the name";
    INVALID_LABEL_KEY = "NP0023", Error, "a label key (or selector key) that is not a qualified name";
    INVALID_LABEL_VALUE = "NP0024", Error, "a label value (or selector value) that is not a valid label value";
    INVALID_OPERATOR = "NP0025", Error, "a selector operator other than In, NotIn, Exists, DoesNotExist";
    SELECTOR_VALUES_REQUIRED = "NP0026", Error, "`In`/`NotIn` without values";
    SELECTOR_VALUES_FORBIDDEN = "NP0027", Error, "`Exists`/`DoesNotExist` with values";
    EMPTY_PEER = "NP0030", Error, "a `from`/`to` entry that sets no peer";
    IPBLOCK_WITH_SELECTOR = "NP0031", Error, "a peer that sets `ipBlock` together with a selector";
    INVALID_CIDR = "NP0032", Error, "an `ipBlock` `cidr` or `except` that is not a CIDR (or is empty)";
    EXCEPT_NOT_INSIDE = "NP0033", Error, "an `except` block that is not strictly inside its `cidr`";
    CIDR_HOST_BITS = "NP0034", Warning, "a CIDR with host bits set (`10.0.0.5/24` means `10.0.0.0/24`)";
    PORT_OUT_OF_RANGE = "NP0035", Error, "a port number outside 1..=65535";
    INVALID_PORT_NAME = "NP0036", Error, "a named port that is not an IANA service name";
    END_PORT_WITHOUT_PORT = "NP0037", Error, "`endPort` without a numeric `port`";
    END_PORT_BELOW_PORT = "NP0038", Error, "`endPort` below `port`";
    INVALID_PROTOCOL = "NP0039", Error, "a protocol other than TCP, UDP, SCTP";
    INVALID_POLICY_TYPE = "NP0040", Error, "a policyTypes value other than Ingress or Egress, or more than two values";
    DUPLICATE_POLICY_TYPE = "NP0041", Warning, "a policyTypes value listed twice (accepted, and redundant)";
    DUPLICATE_PORT_NAME = "NP0042", Error, "two ports of one container with the same name";
    INVALID_IP = "NP0043", Error, "a pod or service IP that is not an IP address";
    IPV4_MAPPED_CIDR = "NP0044", Warning, "an `ipBlock` CIDR of IPv4-mapped IPv6 addresses (`::ffff:10.0.0.0/104`): it matches no IPv4 pod or address";
    INVALID_IMAGE = "NP0045", Error, "a container without `image` or with `image: \"\"` (in a Pod or a pod template), or a Pod's container image with leading or trailing whitespace: the API server rejects the object";
    NULL_POD_SELECTOR = "NP0050", Warning, "`podSelector` null or missing: it selects every pod of the namespace, like `{}`";
    POLICY_WITHOUT_NAMESPACE = "NP0051", Warning, "a NetworkPolicy without `metadata.namespace` lands in `default`";
    IMPLICIT_NAMESPACE = "NP0052", Warning, "a namespace that objects use but no manifest declares (only its name label exists)";
    DUPLICATE_OBJECT = "NP0053", Warning, "the same object twice: the later one wins, as with `kubectl apply`";
    DNS_EGRESS_BLOCKED = "NP0054", Warning, "egress isolated and no egress rule of the namespace allows DNS (port 53)";
    INVALID_PRIORITY = "NP0060", Error, "an AdminNetworkPolicy or ClusterNetworkPolicy priority outside 0..=1000, or a built-in Calico tier redefined";
    EXACTLY_ONE = "NP0061", Error, "a subject, peer or port of an ordered policy that sets none, or more than one, of its alternatives";
    INVALID_ACTION = "NP0062", Error, "an unknown rule action, tier or tier default action (e.g. `Accept` in an AdminNetworkPolicy)";
    INVALID_SELECTOR = "NP0063", Error, "a Calico selector expression that does not parse (the column points inside it)";
    UNSUPPORTED = "NP0064", Error, "a Calico field netpol does not model (source ports, services, HTTP, ipVersion): the policy is refused";
    NO_ORDER = "NP0065", Warning, "a Calico policy without `order`: it is applied last in its tier";
    HOST_ENDPOINT_ONLY = "NP0066", Warning, "a doNotTrack or preDNAT Calico policy: it applies to host endpoints only, so to no pod; skipped";
    SAME_PRIORITY = "NP0067", Warning, "two admin-tier policies at the same priority: upstream leaves their order undefined, netpol evaluates them by name";
    CALICO_V1 = "NP0068", Note, "a Calico v1 (`calicoctl`) policy, read as Calico's v1-to-v3 conversion reads it (`netpol convert` prints the v3 form)";
    EMPTY_LIST = "NP0069", Error, "an empty list where an ordered policy's schema requires an item (`ports: []`, `protocols: []`, `networks: []`, `domainNames: []`): the API server rejects it";
    UNDECLARED_SERVICE_ACCOUNT = "NP0070", Warning, "pods run as a ServiceAccount the input does not declare, and a Calico selector reads ServiceAccount labels";
}

/// The single code table, in code order.
pub fn codes() -> &'static [CodeInfo] {
    CODES
}

/// The Markdown page `docs/diagnostics.md`, rendered from [`codes`].
pub fn render_code_table() -> String {
    let mut out = String::from(
        "# netpol diagnostics\n\n\
         Generated from `netpol_manifest::codes()` (crates/manifest/src/diagnostic.rs); do not edit by hand.\n\
         Regenerate with `UPDATE_DOCS=1 cargo test -p netpol-manifest`.\n\n\
         Every finding prints as `file:line:col: severity[CODE]: message`, with an optional\n\
         `  = help: ...` line; `-o json` gives `{code, severity, file, line, column, message, help}`.\n\
         Errors reject the object (the API server would not store it); warnings and notes do not.\n\
         Codes NP0101 and up are `netpol lint`'s: see [lint.md](lint.md).\n\n\
         | code | severity | under --lenient | meaning |\n| --- | --- | --- | --- |\n",
    );
    for c in codes() {
        out.push_str(&format!("| {} | {} | {} | {} |\n", c.code, c.severity, c.lenient_severity(), c.summary));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_sorted() {
        for pair in codes().windows(2) {
            assert!(pair[0].code < pair[1].code, "{} then {}", pair[0].code, pair[1].code);
        }
        for c in codes() {
            assert!(c.code.len() == 6 && c.code.starts_with("NP"), "{}", c.code);
        }
    }

    #[test]
    fn display_and_json_forms() {
        let d = Diagnostic {
            code: "NP0010",
            severity: Severity::Error,
            file: "a.yaml".into(),
            line: 3,
            column: 7,
            message: "unknown field `spec.x`".into(),
            help: Some("did you mean `y`?".into()),
        };
        assert_eq!(d.to_string(), "a.yaml:3:7: error[NP0010]: unknown field `spec.x`\n  = help: did you mean `y`?");
        let json = serde_json::to_string(&Diagnostic { help: None, ..d.clone() }).unwrap();
        assert_eq!(
            json,
            r#"{"code":"NP0010","severity":"error","file":"a.yaml","line":3,"column":7,"message":"unknown field `spec.x`","help":null}"#
        );
    }

    #[test]
    fn issue14_control_characters_are_escaped_in_text() {
        let d = Diagnostic {
            code: "NP0020",
            severity: Severity::Error,
            file: "a\nb.yaml".into(),
            line: 1,
            column: 1,
            message: "label value `x\u{1b}[31mred\u{7}\tz\r` \u{202e}txt".into(),
            help: Some("fix `\u{9b}`\nhere".into()),
        };
        let text = d.to_string();
        assert_eq!(
            text,
            "a\\nb.yaml:1:1: error[NP0020]: label value `x\\u001b[31mred\\u0007\\tz\\r` \\u202etxt\n  = help: fix `\\u009b`\\nhere"
        );
        assert!(!text.chars().any(|c| c.is_control() && c != '\n'), "{text:?}");
        assert_eq!(text.lines().count(), 2);
        assert_eq!(Escaped("plain `text` é ✓").to_string(), "plain `text` é ✓");
    }
}
