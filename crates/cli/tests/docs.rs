//! Every example command in the README and docs/ runs, and prints what the page shows.
//!
//! A page shows a run as a ```` ```console ```` block: lines starting with `$ netpol `
//! are commands (run from the repository root, with the binary under test), the lines
//! after one, up to the next `$ ` or the end of the block, are what it prints (standard
//! output and standard error interleaved, as a terminal shows them), and an optional last line `[exit N]` is its exit code
//! (0 when absent). Commands that need root (`agent`, `lab`) are shown in `sh` blocks
//! instead, which this test does not run; their output is covered by the privileged
//! tests. To refresh a page after a deliberate change, run the command and paste.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// One documented run: where it is, what to run, what it must print.
#[derive(Debug)]
struct Example {
    page: String,
    line: usize,
    args: Vec<String>,
    output: String,
    exit: i32,
}

/// The console examples of one page.
fn examples(page: &str, text: &str) -> Vec<Example> {
    let mut found = Vec::new();
    let mut in_console = false;
    let mut current: Option<Example> = None;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") {
            if in_console {
                found.extend(current.take());
                in_console = false;
            } else {
                in_console = trimmed == "```console";
            }
            continue;
        }
        if !in_console {
            continue;
        }
        if let Some(command) = line.strip_prefix("$ ") {
            found.extend(current.take());
            let args: Vec<String> = command.split_whitespace().map(str::to_owned).collect();
            assert_eq!(
                args.first().map(String::as_str),
                Some("netpol"),
                "{page}:{}: a console example runs netpol",
                i + 1
            );
            current = Some(Example {
                page: page.into(),
                line: i + 1,
                args: args[1..].to_vec(),
                output: String::new(),
                exit: 0,
            });
        } else if let Some(example) = current.as_mut() {
            match line.strip_prefix("[exit ").and_then(|rest| rest.strip_suffix(']')) {
                Some(code) => example.exit = code.parse().expect("[exit N] takes a number"),
                None => {
                    example.output.push_str(line);
                    example.output.push('\n');
                }
            }
        } else {
            panic!("{page}:{}: output before any `$ netpol` line in a console block", i + 1);
        }
    }
    found
}

fn pages() -> Vec<PathBuf> {
    let mut pages = vec![root().join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .expect("docs/")
        .map(|e| e.expect("docs entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    pages.extend(docs);
    pages
}

fn run(example: &Example) -> (String, i32) {
    // Standard output and standard error share one pipe, so lines keep the order a
    // terminal shows them in.
    let out = Command::new("sh")
        .current_dir(root())
        .arg("-c")
        .arg("exec \"$0\" \"$@\" 2>&1")
        .arg(env!("CARGO_BIN_EXE_netpol"))
        .args(&example.args)
        .output()
        .expect("run netpol");
    (String::from_utf8_lossy(&out.stdout).into_owned(), out.status.code().unwrap_or(-1))
}

#[test]
fn documented_commands_print_what_the_docs_show() {
    let mut all = Vec::new();
    for page in pages() {
        let text = std::fs::read_to_string(&page).expect("read page");
        let name = page.strip_prefix(root()).unwrap_or(Path::new("?")).display().to_string();
        all.extend(examples(&name, &text));
    }
    assert!(all.len() >= 3, "expected console examples in README.md and docs/, found {}", all.len());
    let mut failures = Vec::new();
    for example in &all {
        let (printed, exit) = run(example);
        if printed != example.output || exit != example.exit {
            failures.push(format!(
                "{}:{}: `netpol {}`\n--- the page shows (exit {}):\n{}--- netpol printed (exit {exit}):\n{printed}",
                example.page,
                example.line,
                example.args.join(" "),
                example.exit,
                example.output,
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} documented example(s) differ from the real output:\n\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn console_blocks_are_parsed_with_their_exit_codes() {
    let page = "text\n```console\n$ netpol validate -f x\nline one\n[exit 1]\n$ netpol check\n```\n```sh\n$ netpol lab up\n```\n";
    let found = examples("page.md", page);
    assert_eq!(found.len(), 2);
    assert_eq!(found[0].args, ["validate", "-f", "x"]);
    assert_eq!(found[0].output, "line one\n");
    assert_eq!(found[0].exit, 1);
    assert_eq!((found[1].line, found[1].output.as_str(), found[1].exit), (6, "", 0));
}
