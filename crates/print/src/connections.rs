//! `netpol matrix` without `--port`: every allowed connection of each ordered
//! pair of pods, over the whole port space.
//!
//! Written row by row as it is computed: the output has N x (N - 1) lines, so
//! nothing of its size is held in memory. A class pair's connections are
//! computed once and kept as an index into the distinct texts (a few), the
//! cache cleared past [`CACHE_PAIRS`] pairs, so memory stays bounded.

use std::collections::HashMap;
use std::io::{self, Write};

use crate::matrix::{Format, MatrixView};

/// Class pairs whose connection text is kept at once (about 16 bytes each).
const CACHE_PAIRS: usize = 4_000_000;

/// The connections of every ordered pair of `view`'s pods in `format`, as one string.
pub fn connections(view: &MatrixView, format: Format) -> String {
    let mut out = Vec::new();
    write_connections(view, format, &mut out).expect("writing to memory");
    String::from_utf8(out).expect("the printers write UTF-8")
}

/// Writes the connections of every ordered pair of `view`'s pods in `format`
/// to `out`, row by row. JSON is `{"pods": [...], "connections": [["all",
/// "TCP 80"], ...]}` (row `i`, column `j`: from pod `i` to pod `j`).
pub fn write_connections(view: &MatrixView, format: Format, out: &mut dyn Write) -> io::Result<()> {
    let mut out = io::BufWriter::with_capacity(1 << 16, out);
    let names = &view.names;
    let n = names.len();
    let mut cells = Cells::new(view);
    match format {
        Format::Json => {
            out.write_all(b"{\n  \"pods\": [")?;
            for (i, name) in names.iter().enumerate() {
                write!(out, "{}\n    {}", if i == 0 { "" } else { "," }, json_string(name))?;
            }
            out.write_all(if n == 0 { b"],\n  \"connections\": [" } else { b"\n  ],\n  \"connections\": [" })?;
            for i in 0..n {
                write!(out, "{}\n    [", if i == 0 { "" } else { "," })?;
                for j in 0..n {
                    write!(out, "{}\n      {}", if j == 0 { "" } else { "," }, json_string(cells.text(i, j)))?;
                }
                out.write_all(b"\n    ]")?;
            }
            out.write_all(if n == 0 { b"]\n}\n" } else { b"\n  ]\n}\n" })?;
        }
        Format::Csv => {
            out.write_all(b"from,to,allowed\n")?;
            for (i, j) in distinct_pairs(n) {
                writeln!(out, "{},{},\"{}\"", names[i], names[j], cells.text(i, j))?;
            }
        }
        Format::Md => {
            out.write_all(b"| from | to | allowed |\n|---|---|---|\n")?;
            for (i, j) in distinct_pairs(n) {
                writeln!(out, "| {} | {} | {} |", names[i], names[j], cells.text(i, j))?;
            }
        }
        Format::Table => {
            let wf = names.iter().map(String::len).max().unwrap_or(4).max(4);
            writeln!(out, "{:<wf$}  {:<wf$}  ALLOWED", "FROM", "TO")?;
            for (i, j) in distinct_pairs(n) {
                writeln!(out, "{:<wf$}  {:<wf$}  {}", names[i], names[j], cells.text(i, j))?;
            }
            out.write_all(
                b"\nALLOWED is every (protocol, port) the source may open to the destination, over ports 1-65535.\n",
            )?;
        }
    }
    out.flush()
}

/// The text of each cell, from the class pair's connections (computed once
/// while cached) or the pod pair's own exception.
struct Cells<'v> {
    view: &'v MatrixView<'v>,
    classes: Vec<Option<usize>>,
    texts: Vec<String>,
    index: HashMap<String, u32>,
    cache: HashMap<(usize, usize), u32>,
    text: String,
}

impl<'v> Cells<'v> {
    fn new(view: &'v MatrixView<'v>) -> Self {
        let classes = view.ids.iter().map(|&p| view.compiled.class_of(p)).collect();
        Cells { view, classes, texts: Vec::new(), index: HashMap::new(), cache: HashMap::new(), text: String::new() }
    }

    fn text(&mut self, i: usize, j: usize) -> &str {
        let compiled = self.view.compiled;
        let (Some(s), Some(d)) = (self.classes[i], self.classes[j]) else { return "none" };
        let (a, b) = (self.view.ids[i], self.view.ids[j]);
        // The pod-level exceptions are not a property of the classes: never cached.
        if compiled.always_allowed(a, b) {
            self.text = compiled.connections(a, b).to_string();
            return &self.text;
        }
        if self.cache.len() >= CACHE_PAIRS {
            self.cache.clear();
        }
        let (texts, index) = (&mut self.texts, &mut self.index);
        let at = *self.cache.entry((s, d)).or_insert_with(|| {
            let text = compiled.class_connections(s, d).to_string();
            *index.entry(text).or_insert_with_key(|text| {
                texts.push(text.clone());
                u32::try_from(texts.len() - 1).expect("distinct connection texts fit u32")
            })
        });
        &self.texts[at as usize]
    }
}

fn json_string(s: &str) -> String {
    serde_json::to_string(s).expect("a string serialises")
}

/// Ordered pairs `(i, j)` of distinct indices below `n`, row by row.
fn distinct_pairs(n: usize) -> impl Iterator<Item = (usize, usize)> {
    (0..n).flat_map(move |i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
}
