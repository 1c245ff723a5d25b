//! The lint codes, NP0101 and up: one table, the same [`CodeInfo`] as the
//! loader's (NP0001-NP0099), from which `docs/lint.md`'s table is generated.

use netpol_manifest::{CodeInfo, Severity};

macro_rules! code_table {
    ($($name:ident = $code:literal, $sev:ident, $summary:literal;)*) => {
        $(pub(crate) const $name: CodeInfo = CodeInfo { code: $code, severity: Severity::$sev, summary: $summary };)*
        static CODES: &[CodeInfo] = &[$($name),*];
    };
}

code_table! {
    UNSELECTED_POLICY = "NP0101", Warning, "a policy whose podSelector selects no pod of the input";
    DANGLING_POD_SELECTOR = "NP0102", Warning, "a peer `podSelector` that matches no pod (in the namespaces it looks in)";
    DANGLING_NAMESPACE_SELECTOR = "NP0103", Warning, "a peer `namespaceSelector` that matches no namespace (e.g. `ns: default` on a namespace without that label)";
    REDUNDANT_POLICY = "NP0104", Warning, "a policy whose removal changes no connection (computed exactly on the compiled matrix)";
    REDUNDANT_RULE = "NP0105", Warning, "a rule whose removal changes no connection (computed exactly on the compiled matrix)";
    SHADOWED_RULE = "NP0106", Warning, "a rule that changes nothing because another rule allows everything it allows (named)";
    IGNORED_RULES = "NP0107", Error, "ingress or egress rules of a direction `policyTypes` does not list: they are ignored";
    UNDECLARED_NAMED_PORT = "NP0108", Warning, "a named port that none of the pods it resolves on declares";
    WIDE_END_PORT = "NP0109", Warning, "an `endPort` range wider than the ports its destination pods declare in it";
    NOT_ISOLATED = "NP0110", Note, "pods (or every pod of a namespace) that no policy isolates, per direction";
    OPEN_TO_CLUSTER = "NP0111", Warning, "an ingress rule that admits every pod of every namespace";
    OPEN_TO_EVERYONE = "NP0112", Warning, "an ingress rule that admits any address: `from` missing or empty, or an ipBlock of `0.0.0.0/0` or `::/0`";
    EGRESS_TO_EVERYONE = "NP0113", Note, "an egress rule to every pod of the cluster or to any address";
    IPBLOCK_COVERS_PODS = "NP0114", Warning, "an ipBlock that contains pod or node addresses: its effect depends on the network plugin";
    POLICY_IN_UNDECLARED_NAMESPACE = "NP0115", Warning, "a policy in a namespace that no manifest declares";
}

/// The lint code table, in code order.
pub fn codes() -> &'static [CodeInfo] {
    CODES
}

/// The loader's codes that `netpol lint` reports too (they are about the
/// cluster, not the syntax): null podSelector, policy without namespace,
/// undeclared namespace, duplicate objects, the DNS trap.
pub const LOADER_CODES: [&str; 5] = ["NP0050", "NP0051", "NP0052", "NP0053", "NP0054"];

/// The table of `docs/lint.md`: the loader codes lint reports, then its own.
pub fn render_code_table() -> String {
    let mut out = String::from("| code | severity | meaning |\n| --- | --- | --- |\n");
    let loader = netpol_manifest::codes().iter().filter(|c| LOADER_CODES.contains(&c.code));
    for c in loader.chain(codes()) {
        out.push_str(&format!("| {} | {} | {} |\n", c.code, c.severity, c.summary));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_sorted_in_their_own_range() {
        for pair in codes().windows(2) {
            assert!(pair[0].code < pair[1].code, "{} then {}", pair[0].code, pair[1].code);
        }
        for c in codes() {
            assert!(c.code.len() == 6 && c.code.starts_with("NP01"), "{}", c.code);
            assert!(!netpol_manifest::codes().iter().any(|m| m.code == c.code), "{} is the loader's", c.code);
        }
        for code in LOADER_CODES {
            assert!(netpol_manifest::codes().iter().any(|m| m.code == code), "{code}");
        }
    }
}
