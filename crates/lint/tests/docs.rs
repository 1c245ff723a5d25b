//! docs/lint.md's code table is generated from the code table; this test keeps it in sync.

use std::path::Path;

#[test]
fn lint_doc_table_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/lint.md");
    let have = std::fs::read_to_string(&path).expect("docs/lint.md");
    let (start, end) = ("<!-- codes -->\n", "<!-- /codes -->");
    let (before, rest) = have.split_once(start).expect("the codes marker");
    let (_, after) = rest.split_once(end).expect("the end marker");
    let want = format!("{before}{start}{}{end}{after}", netpol_lint::render_code_table());
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, &want).unwrap();
        return;
    }
    assert!(
        have == want,
        "docs/lint.md's table is out of date with netpol_lint::codes(); regenerate it with `UPDATE_DOCS=1 cargo test -p netpol-lint --test docs`"
    );
}
