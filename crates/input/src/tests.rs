use std::os::unix::fs::symlink;
use std::path::Path;
use std::time::{Duration, Instant};

use super::*;

#[test]
fn folders_are_walked_sorted_and_filtered() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::fs::write(dir.path().join("b.yaml"), "b").unwrap();
    std::fs::write(dir.path().join("a.json"), "a").unwrap();
    std::fs::write(dir.path().join("notes.txt"), "skip").unwrap();
    std::fs::write(dir.path().join(".hidden.yaml"), "skip").unwrap();
    std::fs::write(dir.path().join("sub/c.yml"), "c").unwrap();
    let sources = read_paths(&[dir.path().to_path_buf()]).unwrap();
    let texts: Vec<_> = sources.iter().map(|s| s.text.as_str()).collect();
    assert_eq!(texts, ["a", "b", "c"]);
}

#[test]
fn missing_file_names_the_path() {
    let err = read_paths(&["/nonexistent/x.yaml".into()]).unwrap_err();
    assert!(err.to_string().starts_with("/nonexistent/x.yaml: "), "{err}");
}

#[test]
fn empty_folder_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(read_paths(&[dir.path().to_path_buf()]), Err(InputError::EmptyFolder { .. })));
}

/// The error and its sources, as anyhow's `{:#}` prints them.
fn chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        out.push_str(&format!(": {s}"));
        source = s.source();
    }
    out
}

#[test]
fn issue14_os_error_is_printed_once() {
    let err = read_paths(&["/nonexistent/x.yaml".into()]).unwrap_err();
    let shown = chain(&err);
    assert_eq!(shown.matches("os error 2").count(), 1, "{shown}");
    assert!(shown.starts_with("/nonexistent/x.yaml: No such file or directory"), "{shown}");
}

/// Runs `f` on another thread and fails if it takes longer than `limit`.
fn within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(limit).expect("did not finish in time")
}

#[test]
fn issue14_two_self_links_terminate() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p.yaml"), "p").unwrap();
    symlink(".", dir.path().join("a")).unwrap();
    symlink(".", dir.path().join("b")).unwrap();
    let path = dir.path().to_path_buf();
    let input = within(Duration::from_secs(10), move || read_inputs(&[path], &ReadOptions::default())).unwrap();
    let texts: Vec<_> = input.sources.iter().map(|s| s.text.as_str()).collect();
    assert_eq!(texts, ["p"]);
    assert_eq!(input.notes.len(), 2, "{:?}", input.notes);
    for (note, link) in input.notes.iter().zip(["a", "b"]) {
        assert!(note.starts_with(&dir.path().join(link).display().to_string()), "{note}");
        assert!(note.contains("loops back to"), "{note}");
    }
}

#[test]
fn issue14_link_cycle_is_followed_once_with_one_note() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::fs::write(dir.path().join("sub/p.yaml"), "p").unwrap();
    symlink("..", dir.path().join("sub/up")).unwrap();
    let input = read_inputs(&[dir.path().to_path_buf()], &ReadOptions::default()).unwrap();
    assert_eq!(input.sources.len(), 1);
    assert_eq!(
        input.notes,
        [format!(
            "{}: a link that loops back to the folder {}, already read: not followed",
            dir.path().join("sub/up").display(),
            dir.path().display()
        )]
    );
}

#[test]
fn issue14_two_links_to_one_folder_read_it_once() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("real")).unwrap();
    std::fs::write(dir.path().join("real/p.yaml"), "p").unwrap();
    symlink("real", dir.path().join("x")).unwrap();
    let input = read_inputs(&[dir.path().to_path_buf()], &ReadOptions::default()).unwrap();
    assert_eq!(input.sources.len(), 1);
    assert!(input.notes[0].contains("leads to the folder"), "{:?}", input.notes);
}

fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo").arg(path).status().expect("mkfifo runs");
    assert!(status.success());
}

#[test]
fn issue14_fifo_in_a_folder_is_skipped_with_a_note() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.yaml"), "a").unwrap();
    mkfifo(&dir.path().join("pipe.yaml"));
    symlink("/dev/zero", dir.path().join("zero.yaml")).unwrap();
    let path = dir.path().to_path_buf();
    let input = within(Duration::from_secs(10), move || read_inputs(&[path], &ReadOptions::default())).unwrap();
    assert_eq!(input.sources.len(), 1);
    assert_eq!(
        input.notes,
        [
            format!("{}: a FIFO, not a regular file: skipped", dir.path().join("pipe.yaml").display()),
            format!("{}: a device, not a regular file: skipped", dir.path().join("zero.yaml").display()),
        ]
    );
}

#[test]
fn issue14_fifo_named_on_the_command_line_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe");
    mkfifo(&fifo);
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::write(fifo, "kind: Namespace\n").unwrap())
    };
    let input = within(Duration::from_secs(10), move || read_inputs(&[fifo], &ReadOptions::default())).unwrap();
    writer.join().unwrap();
    assert_eq!(input.sources[0].text, "kind: Namespace\n");
}

#[test]
fn issue14_dev_zero_is_refused_at_the_size_limit() {
    let started = Instant::now();
    let err = read_inputs(&["/dev/zero".into()], &ReadOptions::with_max_bytes(8 * 1024 * 1024)).unwrap_err();
    assert!(matches!(err, InputError::TooLarge { limit: 8388608, .. }), "{err}");
    assert_eq!(
        err.to_string(),
        "/dev/zero: more than 8388608 bytes, the input limit per file; raise it with --max-input-bytes"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn issue14_dev_zero_stops_at_the_default_limit() {
    let err =
        within(Duration::from_secs(60), || read_inputs(&["/dev/zero".into()], &ReadOptions::default())).unwrap_err();
    assert!(matches!(err, InputError::TooLarge { limit: DEFAULT_MAX_FILE_BYTES, .. }), "{err}");
}

#[test]
fn issue14_dev_urandom_is_refused_at_its_first_bad_byte() {
    let err =
        within(Duration::from_secs(5), || read_inputs(&["/dev/urandom".into()], &ReadOptions::default())).unwrap_err();
    assert!(matches!(err, InputError::NotUtf8 { .. }), "{err}");
}

#[test]
fn issue14_total_limit_counts_every_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.yaml"), "x".repeat(600)).unwrap();
    std::fs::write(dir.path().join("b.yaml"), "x".repeat(600)).unwrap();
    let options = ReadOptions { max_file_bytes: 1000, max_total_bytes: 1000 };
    let err = read_inputs(&[dir.path().to_path_buf()], &options).unwrap_err();
    assert!(matches!(err, InputError::TooLarge { which: "for all files together", .. }), "{err}");
    let input = read_inputs(&[dir.path().join("a.yaml")], &options).unwrap();
    assert_eq!(input.bytes, 600);
}

#[test]
fn issue14_utf8_split_across_reads_is_kept() {
    // A multi-byte character across the 64 KiB read boundary is not "not UTF-8".
    let text = format!("{}é{}", "a".repeat(64 * 1024 - 1), "b".repeat(10));
    let got = read_text(&mut text.as_bytes(), "t", 1 << 20, 0).unwrap();
    assert_eq!(got, text);
    assert!(matches!(read_text(&mut &b"ab\xffcd"[..], "t", 100, 4), Err(InputError::NotUtf8 { .. })));
}

#[test]
fn read_file_refuses_a_fifo_and_reads_a_file() {
    let dir = tempfile::tempdir().unwrap();
    mkfifo(&dir.path().join("p.yaml"));
    std::fs::write(dir.path().join("a.yaml"), "a").unwrap();
    let err = read_file(&dir.path().join("p.yaml"), 100).unwrap_err();
    assert!(err.to_string().ends_with("a FIFO, not a regular file"), "{err}");
    assert_eq!(read_file(&dir.path().join("a.yaml"), 100).unwrap().text, "a");
    assert!(matches!(read_file(&dir.path().join("a.yaml"), 0), Err(InputError::TooLarge { .. })));
}
