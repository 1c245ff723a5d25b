//! Findings (`netpol lint`): text as `netpol validate` prints diagnostics, a
//! JSON list of the same objects, and SARIF 2.1.0 for code-scanning tools.

use netpol_manifest::{CodeInfo, Diagnostic, Severity};
use serde_json::{json, Value};

/// How `netpol lint` prints its findings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FindingsFormat {
    /// `file:line:col: severity[CODE]: message` and `  = help: ...`, then a count.
    Text,
    /// A list of `{code, severity, file, line, column, message, help}`.
    Json,
    /// SARIF 2.1.0: one run, the code table as `tool.driver.rules`.
    Sarif,
}

/// The tool SARIF names.
pub struct Tool<'a> {
    pub name: &'a str,
    pub version: &'a str,
    /// Where the codes are documented, named in each rule's help (a path in the repository).
    pub docs: &'a str,
}

/// Prints `findings` in `format`; `rules` is every code they may carry.
pub fn findings(findings: &[Diagnostic], rules: &[CodeInfo], tool: &Tool<'_>, format: FindingsFormat) -> String {
    match format {
        FindingsFormat::Text => text(findings),
        FindingsFormat::Json => serde_json::to_string_pretty(findings).expect("diagnostics serialize") + "\n",
        FindingsFormat::Sarif => serde_json::to_string_pretty(&sarif(findings, rules, tool)).expect("JSON") + "\n",
    }
}

fn text(findings: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in findings {
        out.push_str(&d.to_string());
        out.push('\n');
    }
    let count = |s: Severity| findings.iter().filter(|d| d.severity == s).count();
    let n = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    out.push_str(&format!(
        "{}, {}, {}\n",
        n(count(Severity::Error), "error"),
        n(count(Severity::Warning), "warning"),
        n(count(Severity::Note), "note")
    ));
    out
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

/// The SARIF 2.1.0 log (<https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html>).
pub fn sarif(findings: &[Diagnostic], rules: &[CodeInfo], tool: &Tool<'_>) -> Value {
    let rules_json: Vec<Value> = rules
        .iter()
        .map(|c| {
            json!({
                "id": c.code,
                "shortDescription": {"text": c.summary},
                "help": {"text": format!("{} (see {}, {})", c.summary, tool.docs, c.code)},
                "defaultConfiguration": {"level": level(c.severity)},
            })
        })
        .collect();
    let results: Vec<Value> = findings
        .iter()
        .map(|d| {
            let mut physical = json!({"artifactLocation": {"uri": d.file}});
            if d.line > 0 {
                physical["region"] = json!({"startLine": d.line, "startColumn": d.column.max(1)});
            }
            let text = match &d.help {
                Some(help) => format!("{}\nhelp: {help}", d.message),
                None => d.message.clone(),
            };
            let mut result = json!({
                "ruleId": d.code,
                "level": level(d.severity),
                "message": {"text": text},
                "locations": [{"physicalLocation": physical}],
            });
            if let Some(index) = rules.iter().position(|c| c.code == d.code) {
                result["ruleIndex"] = json!(index);
            }
            result
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": tool.name,
                "version": tool.version,
                "rules": rules_json,
            }},
            "results": results,
        }],
    })
}
