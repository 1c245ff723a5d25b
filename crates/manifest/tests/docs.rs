//! docs/diagnostics.md is generated from the code table; this test keeps it in sync.

use std::path::Path;

#[test]
fn diagnostics_doc_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/diagnostics.md");
    let want = netpol_manifest::render_code_table();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &want).unwrap();
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "docs/diagnostics.md is out of date with netpol_manifest::codes(); regenerate it with `UPDATE_DOCS=1 cargo test -p netpol-manifest --test docs`"
    );
}
