//! Loading: files -> documents -> checked objects ([`crate::check`]) -> model,
//! with the cluster-wide checks (duplicates, implicit namespaces, DNS).
//!
//! Design. Model: every file is a stream of documents, and each document is
//! checked on its own into [`Step`]s (findings, objects); only the merge of the
//! steps into the cluster depends on order (a later duplicate wins, the first
//! use of a namespace is reported). Goals: the same diagnostics, in the same
//! order, as a one-document-at-a-time load, on every core. Implementation:
//! files are cut at their `---` lines into chunks of documents
//! ([`crate::parse::split`]); `std::thread::scope` workers take chunks in turn,
//! parse each on the fast path ([`crate::parse`]) and check its documents; then
//! the steps are merged in file and document order. Threads: at most one per
//! core, none for small inputs; nothing is shared but the chunk counter and the
//! result slots. A file the fast path refuses (a syntax error, YAML beyond what
//! manifests use) is parsed whole by serde-saphyr and checked in the merge, as
//! before.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use netpol_model::{Cluster, Origin};

use crate::check::{Category, Checker, Step, Upsert};
use crate::diagnostic::{self as d, Diagnostic};
use crate::dns;
use crate::node::parse_documents;
use crate::parse::{self, Chunk, Cost};
use crate::{LoadOptions, Loaded};

/// Below this many bytes per chunk, a thread costs more than it saves.
const MIN_CHUNK: usize = 64 * 1024;

/// Chunks per thread, so that a slow chunk does not leave a core idle.
const CHUNKS_PER_THREAD: usize = 4;

struct Seen {
    index: usize,
    origin: Origin,
    kind: &'static str,
}

/// What the workers made of one chunk: `None` when the fast path refused it.
type Checked = Option<(Vec<Step>, Cost)>;

pub(crate) fn load(sources: &[(&str, &str)], options: &LoadOptions) -> Loaded {
    let files: Vec<Arc<str>> = sources.iter().map(|(name, _)| Arc::from(*name)).collect();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let total: usize = sources.iter().map(|(_, text)| text.len()).sum();
    let target = (total / (threads * CHUNKS_PER_THREAD).max(1)).max(MIN_CHUNK);
    // (file index, chunk) in load order.
    let chunks: Vec<(usize, Chunk<'_>)> = sources
        .iter()
        .enumerate()
        .flat_map(|(i, (_, text))| parse::split(text, target).into_iter().map(move |c| (i, c)))
        .collect();
    let check = |(file, chunk): &(usize, Chunk<'_>)| -> Checked {
        let (docs, cost) = parse::parse_fast(*chunk)?;
        let mut checker = Checker::new(options, files[*file].clone(), false);
        for doc in &docs {
            checker.document(doc);
        }
        Some((checker.steps, cost))
    };
    let checked: Vec<Checked> = if threads <= 1 || chunks.len() <= 1 {
        chunks.iter().map(check).collect()
    } else {
        let slots: Vec<Mutex<Checked>> = chunks.iter().map(|_| Mutex::new(None)).collect();
        let next = AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for _ in 0..threads.min(chunks.len()) {
                scope.spawn(|| loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(chunk) = chunks.get(i) else { break };
                    let result = check(chunk);
                    *slots[i].lock().unwrap_or_else(|e| e.into_inner()) = result;
                });
            }
        });
        slots.into_iter().map(|m| m.into_inner().unwrap_or_else(|e| e.into_inner())).collect()
    };

    let mut loader = Loader::new(options);
    let mut results = chunks.iter().map(|(file, _)| *file).zip(checked).peekable();
    for (index, (_, text)) in sources.iter().enumerate() {
        let mut mine = Vec::new();
        while let Some((_, result)) = results.next_if(|(file, _)| *file == index) {
            mine.push(result);
        }
        let fast = mine.iter().try_fold(Cost::default(), |mut sum, result| {
            sum.add(result.as_ref()?.1);
            Some(sum)
        });
        match fast {
            Some(cost) if cost.within_budget(text.len()) => {
                for (steps, _) in mine.into_iter().flatten() {
                    loader.merge(steps);
                }
            }
            _ => loader.file(&files[index], text),
        }
        loader.file_index += 1;
    }
    loader.finish()
}

struct Loader<'o> {
    options: &'o LoadOptions,
    cluster: Cluster,
    diagnostics: Vec<(usize, Diagnostic)>,
    file_index: usize,
    seen: HashMap<(Category, String, String), Seen>,
    /// The first object (in load order) that put something in each namespace.
    first_use: HashMap<String, (usize, Origin)>,
}

impl<'o> Loader<'o> {
    fn new(options: &'o LoadOptions) -> Self {
        Loader {
            options,
            cluster: Cluster::default(),
            diagnostics: Vec::new(),
            file_index: 0,
            seen: HashMap::new(),
            first_use: HashMap::new(),
        }
    }

    /// A file the fast path refused: serde-saphyr parses it whole.
    fn file(&mut self, file: &Arc<str>, text: &str) {
        match parse_documents(text) {
            Ok(docs) => {
                let mut checker = Checker::new(self.options, file.clone(), false);
                for doc in &docs {
                    checker.document(doc);
                }
                self.merge(checker.steps);
            }
            Err(e) => {
                let help = e.message.contains("did not find expected").then(|| {
                    "check this line's indentation against the lines above it: a key must line up with the other keys of its mapping, a list entry with the other entries".to_string()
                });
                let diag = d::YAML_SYNTAX.at(
                    self.options.lenient,
                    file,
                    e.line,
                    e.column,
                    format!("invalid YAML: {}", e.message),
                    help,
                );
                self.push(diag);
                self.recover(file, text, e.line);
            }
        }
    }

    /// Re-reads the lines before a syntax error, to report the unknown fields
    /// there too: every mistake of a file in one pass. Nothing of it is loaded.
    fn recover(&mut self, file: &Arc<str>, text: &str, error_line: u32) {
        let keep = usize::try_from(error_line).unwrap_or(0).saturating_sub(1);
        if keep == 0 {
            return;
        }
        let prefix: String = text.split_inclusive('\n').take(keep).collect();
        if let Ok(docs) = parse_documents(&prefix) {
            let mut checker = Checker::new(self.options, file.clone(), true);
            for doc in &docs {
                checker.document(doc);
            }
            self.merge(checker.steps);
        }
    }

    fn merge(&mut self, steps: Vec<Step>) {
        for step in steps {
            match step {
                Step::Diagnostic(diag) => self.push(diag),
                Step::Upsert(upsert) => self.upsert(*upsert),
            }
        }
    }

    fn finish(mut self) -> Loaded {
        let created = self.cluster.add_implicit_namespaces();
        for ns in created {
            let Some((file_index, origin)) = self.first_use.get(&ns).cloned() else { continue };
            let message = format!(
                "namespace `{ns}` is not declared: netpol assumes it exists with only the label `kubernetes.io/metadata.name={ns}`"
            );
            let help = format!(
                "a namespaceSelector on any other label (such as `ns: {ns}`) will not match it; add a Namespace manifest with the labels `{ns}` really has"
            );
            let diag = d::IMPLICIT_NAMESPACE.at(
                self.options.lenient,
                &origin.file,
                origin.line,
                origin.column,
                message,
                Some(help),
            );
            self.diagnostics.push((file_index, diag));
        }
        for finding in dns::check(&self.cluster) {
            let o = finding.origin;
            let file_index = self.first_use.get(&finding.namespace).map_or(0, |(i, _)| *i);
            let diag = d::DNS_EGRESS_BLOCKED.at(
                self.options.lenient,
                &o.file,
                o.line,
                o.column,
                finding.message,
                Some(finding.help),
            );
            self.diagnostics.push((file_index, diag));
        }
        self.diagnostics.sort_by_key(|(file, d)| (*file, d.line, d.column));
        Loaded { cluster: self.cluster, diagnostics: self.diagnostics.into_iter().map(|(_, d)| d).collect() }
    }

    fn push(&mut self, diag: Diagnostic) {
        self.diagnostics.push((self.file_index, diag));
    }

    /// Adds or replaces (a later duplicate wins, with a warning) an object in the cluster.
    fn upsert(&mut self, upsert: Upsert) {
        let Upsert { category, kind, namespace, name, insert, origin, namespace_at } = upsert;
        if category != Category::Namespace && !self.first_use.contains_key(&namespace) {
            self.first_use.insert(namespace.clone(), (self.file_index, namespace_at));
        }
        let shown = if namespace.is_empty() { name.clone() } else { format!("{namespace}/{name}") };
        let key = (category, namespace, name);
        if let Some(prev) = self.seen.get(&key) {
            let message = if prev.kind == kind {
                format!(
                    "duplicate {kind} `{shown}` (also declared at {}): the later one wins, as with `kubectl apply`",
                    prev.origin
                )
            } else {
                format!(
                    "{kind} `{shown}` is the same endpoint as {} `{shown}` declared at {}: the later one wins",
                    prev.kind, prev.origin
                )
            };
            let index = prev.index;
            let diag =
                d::DUPLICATE_OBJECT.at(self.options.lenient, &origin.file, origin.line, origin.column, message, None);
            self.push(diag);
            insert.replace(&mut self.cluster, index);
            self.seen.insert(key, Seen { index, origin, kind });
        } else {
            let index = insert.push(&mut self.cluster);
            self.seen.insert(key, Seen { index, origin, kind });
        }
    }
}
