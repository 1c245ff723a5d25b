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
//! parse each on the fast path ([`crate::parse`]) and check its documents,
//! sending the steps to the loading thread, which merges them in file and
//! document order as soon as they arrive in order. Threads: at most one per
//! core, none for small inputs; nothing is shared but the chunk counter and the
//! channel; chunks are at most [`MAX_CHUNK`] bytes, so the trees in flight
//! stay small beside the text and the model. A chunk the fast path refuses (a
//! syntax error, YAML beyond what manifests use) is parsed by serde-saphyr in
//! the merge, one document at a time: a document that is not YAML, or that
//! goes beyond a parser limit, is one NP0001 diagnostic, and the documents
//! before and after it still load. Budgets (depth, aliases, scalar bytes) are
//! per document, as the API server's limits are per object.
//!
//! A document of a chunk's size or more is a chunk of its own, and a `List`
//! (what `kubectl get -o yaml` writes: one document, every object in its
//! `items`) is cut at its items ([`crate::list`]): its head and runs of items
//! are parsed and checked by the workers like chunks, and merged in order once
//! all of them are in and the document as a whole is within budget; otherwise
//! the document is parsed whole, as any other. So how input is split into
//! files and documents does not change the rate it loads at.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};

use netpol_model::{Cluster, Origin};

use crate::check::{Category, Checker, Source, Step, Upsert};
use crate::diagnostic::{self as d, Diagnostic};
use crate::dns;
use crate::list::{self, Cut, Run};
use crate::node::{parse_documents, Node, Value};
use crate::parse::{self, Chunk, Cost};
use crate::{LoadOptions, Loaded, Refused};

/// Below this many bytes per chunk, a thread costs more than it saves.
const MIN_CHUNK: usize = 64 * 1024;

/// Above this many bytes per chunk, a chunk's trees cost more memory than a
/// thread saves time: the trees of the chunks in flight are what the load
/// holds besides the text and the model.
const MAX_CHUNK: usize = 4 * 1024 * 1024;

/// Chunks per thread, so that a slow chunk does not leave a core idle.
const CHUNKS_PER_THREAD: usize = 4;

/// The stack of the threads that parse and check: the trees are walked
/// recursively, and [`crate::node::MAX_DEPTH`] levels must fit in debug builds too.
const STACK_BYTES: usize = 256 * 1024 * 1024;

struct Seen {
    index: usize,
    origin: Origin,
    kind: &'static str,
}

/// What the workers made of one piece of work: its steps, or `None` when the
/// fast path refused it (then serde-saphyr decides, document by document).
type Checked = Option<Done>;

struct Done {
    steps: Vec<Step>,
    /// Documents read (a List's head counts its document).
    documents: usize,
    cost: Cost,
}

/// A piece of the load's work, in load order.
enum Work<'a> {
    /// A run of whole documents.
    Docs(Chunk<'a>),
    /// A List cut at its items; the next `runs.len()` works are its runs.
    Head(Cut<'a>),
    /// A run of a List's items.
    Items(Run<'a>),
}

/// Input this small, and nested at most [`INLINE_DEPTH`] deep, loads on the
/// caller's thread: a thread with a big stack costs more than loading a small
/// file (the agent loads each file of a folder on its own).
const INLINE_BYTES: usize = MIN_CHUNK;

/// Nesting this shallow fits any thread's stack many times over (a std thread
/// has 2 MiB); built-in objects nest about 15 deep.
const INLINE_DEPTH: usize = 64;

pub(crate) fn load(sources: &[(&str, &str)], options: &LoadOptions) -> Loaded {
    let total: usize = sources.iter().map(|(_, text)| text.len()).sum();
    // Only what the fast path takes: serde-saphyr, which parses the rest,
    // recurses far deeper per level and overflows a 2 MiB stack at 64 levels in debug builds.
    let inline = |text: &str| {
        parse::shallow(text, INLINE_DEPTH)
            && parse::parse_fast(Chunk { text, line_offset: 0, followed: false }).is_some()
    };
    if total <= INLINE_BYTES && sources.iter().all(|(_, text)| inline(text)) {
        return load_here(sources, total, options);
    }
    // Parsing and checking recurse over the trees: on a thread whose stack fits
    // the deepest tree the parser accepts, whatever thread the caller is on.
    std::thread::scope(|scope| {
        let worker = std::thread::Builder::new().name("netpol-load".into()).stack_size(STACK_BYTES);
        match worker.spawn_scoped(scope, || load_here(sources, total, options)) {
            Ok(handle) => handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            Err(_) => load_here(sources, total, options),
        }
    })
}

fn load_here(sources: &[(&str, &str)], total: usize, options: &LoadOptions) -> Loaded {
    let files: Vec<Arc<str>> = sources.iter().map(|(name, _)| Arc::from(*name)).collect();
    static THREADS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    let threads = *THREADS.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let target = (total / (threads * CHUNKS_PER_THREAD).max(1)).clamp(MIN_CHUNK, MAX_CHUNK);
    // (file index, work) in load order.
    let mut work: Vec<(usize, Work<'_>)> = Vec::new();
    for (i, (_, text)) in sources.iter().enumerate() {
        for chunk in parse::split(text, target) {
            match (chunk.text.len() > target).then(|| list::cut(chunk, target)).flatten() {
                Some(cut) => {
                    let runs = cut.runs.clone();
                    work.push((i, Work::Head(cut)));
                    work.extend(runs.into_iter().map(|run| (i, Work::Items(run))));
                }
                None => work.push((i, Work::Docs(chunk))),
            }
        }
    }
    let check = |(file, work): &(usize, Work<'_>)| -> Checked {
        let source = Source { text: sources[*file].1, line_offset: 0 };
        let mut checker = Checker::new(options, files[*file].clone(), source, false);
        match work {
            Work::Docs(chunk) => {
                let (docs, cost) = parse::parse_fast(*chunk)?;
                if !cost.within_budget(chunk.text.len()) {
                    return None;
                }
                for doc in &docs {
                    checker.document(doc);
                }
                Some(Done { steps: checker.steps, documents: docs.len(), cost })
            }
            Work::Head(cut) => {
                let skeleton = cut.skeleton();
                let (doc, cost) = cut.head(&skeleton)?;
                // Not a List whose items are objects (another kind with
                // `items`, a `kind` that is not a string): checked whole.
                if !checker.list_head(&doc) {
                    return None;
                }
                Some(Done { steps: checker.steps, documents: 1, cost })
            }
            Work::Items(run) => {
                let text = Cut::run_text(run);
                let (seq, cost) = Cut::items(run, &text)?;
                for item in seq.as_seq().unwrap_or_default() {
                    checker.list_item(item);
                }
                Some(Done { steps: checker.steps, documents: 0, cost })
            }
        }
    };
    let check_at = |i: usize| check(&work[i]);

    let mut loader = Loader::new(options);
    loader.bytes = total;
    // Merges work after work in load order; `result(i)` is work i's.
    let mut merge = |result: &mut dyn FnMut(usize) -> Checked| {
        let mut i = 0;
        for (index, file) in files.iter().enumerate() {
            while work.get(i).is_some_and(|(at, _)| *at == index) {
                match &work[i].1 {
                    Work::Docs(chunk) => match result(i) {
                        Some(done) => {
                            loader.documents += done.documents;
                            loader.merge(done.steps);
                        }
                        None => loader.chunk(file, chunk),
                    },
                    Work::Head(cut) => {
                        let parts: Vec<Checked> = (i..=i + cut.runs.len()).map(&mut *result).collect();
                        i += cut.runs.len();
                        match whole_list(parts, cut) {
                            Listed::Steps(steps) => {
                                loader.documents += 1;
                                for steps in steps {
                                    loader.merge(steps);
                                }
                            }
                            // As large parsed whole: serde-saphyr's budget decides.
                            Listed::OverBudget => loader.chunk(file, &cut.doc),
                            // Parsed whole: on the fast path if it takes it.
                            Listed::Refused => match check(&(index, Work::Docs(cut.doc))) {
                                Some(done) => {
                                    loader.documents += done.documents;
                                    loader.merge(done.steps);
                                }
                                None => loader.chunk(file, &cut.doc),
                            },
                        }
                    }
                    // Merged with their List's head.
                    Work::Items(_) => {}
                }
                i += 1;
            }
            loader.file_index += 1;
        }
    };
    if threads <= 1 || work.len() <= 1 {
        merge(&mut |i| check_at(i));
    } else {
        // Workers check pieces of work in turn; this thread merges each as soon as it
        // and every piece before it are in, so the steps of a chunk are moved
        // into the model (and their memory reused) while later chunks are
        // still being parsed: peak memory is the text and the model, not the
        // text, the model and every chunk's steps at once.
        let (sender, receiver) = mpsc::channel::<(usize, Checked)>();
        let next = AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for _ in 0..threads.min(work.len()) {
                let sender = sender.clone();
                let (next, check_at, len) = (&next, &check_at, work.len());
                let run = move || loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= len || sender.send((i, check_at(i))).is_err() {
                        break;
                    }
                };
                let worker = std::thread::Builder::new().name("netpol-load".into()).stack_size(STACK_BYTES);
                if let Err(error) = worker.spawn_scoped(scope, run.clone()) {
                    drop(error);
                    run();
                }
            }
            drop(sender);
            let mut early: HashMap<usize, Checked> = HashMap::new();
            merge(&mut |i| loop {
                if let Some(result) = early.remove(&i) {
                    return result;
                }
                match receiver.recv() {
                    Ok((at, result)) if at == i => return result,
                    Ok((at, result)) => {
                        early.insert(at, result);
                    }
                    // Every worker is gone without sending work i (one
                    // panicked; the scope re-raises it): check it here.
                    Err(_) => return check_at(i),
                }
            });
        });
    }
    loader.finish()
}

/// What became of a List cut at its items.
enum Listed {
    /// The steps of its head and runs of items, in order.
    Steps(Vec<Vec<Step>>),
    /// Every part took the fast path, but the document is past a budget.
    OverBudget,
    /// A part did not take the fast path, or the document is not a List of objects.
    Refused,
}

fn whole_list(parts: Vec<Checked>, cut: &Cut<'_>) -> Listed {
    let Some(parts) = parts.into_iter().collect::<Option<Vec<Done>>>() else { return Listed::Refused };
    let cost = parts.iter().fold(Cost::default(), |sum, part| sum.add(part.cost));
    if !cost.within_budget(cut.doc.text.len()) {
        return Listed::OverBudget;
    }
    Listed::Steps(parts.into_iter().map(|part| part.steps).collect())
}

struct Loader<'o> {
    options: &'o LoadOptions,
    cluster: Cluster,
    diagnostics: Vec<(usize, Diagnostic)>,
    file_index: usize,
    /// The file of each ordered policy, by its index in the cluster.
    tiered_files: std::collections::HashMap<usize, usize>,
    seen: HashMap<(Category, String, String), Seen>,
    /// The first object (in load order) that put something in each namespace.
    first_use: HashMap<String, (usize, Origin)>,
    refused: Vec<Refused>,
    documents: usize,
    bytes: usize,
}

impl<'o> Loader<'o> {
    fn new(options: &'o LoadOptions) -> Self {
        Loader {
            options,
            cluster: Cluster::default(),
            diagnostics: Vec::new(),
            file_index: 0,
            tiered_files: std::collections::HashMap::new(),
            seen: HashMap::new(),
            first_use: HashMap::new(),
            refused: Vec::new(),
            documents: 0,
            bytes: 0,
        }
    }

    /// A chunk the fast path refused: serde-saphyr parses each of its
    /// documents on its own, so that one that is not YAML (or goes beyond a
    /// limit) is one diagnostic, and the documents around it still load.
    fn chunk(&mut self, file: &Arc<str>, chunk: &Chunk<'_>) {
        for doc in parse::split(chunk.text, 0) {
            let doc = Chunk { line_offset: doc.line_offset.saturating_add(chunk.line_offset), ..doc };
            self.documents(file, doc);
        }
    }

    fn documents(&mut self, file: &Arc<str>, chunk: Chunk<'_>) {
        match parse_documents(chunk.text) {
            Ok(mut docs) => {
                let source = Source { text: chunk.text, line_offset: chunk.line_offset };
                let mut checker = Checker::new(self.options, file.clone(), source, false);
                for doc in &mut docs {
                    shift(doc, chunk.line_offset);
                    checker.document(doc);
                }
                self.documents += docs.len();
                self.merge(checker.steps);
            }
            Err(e) => {
                let help = e.help.clone().or_else(|| e.message.contains("did not find expected").then(|| {
                    "check this line's indentation against the lines above it: a key must line up with the other keys of its mapping, a list entry with the other entries".to_string()
                }));
                let line = e.line.saturating_add(chunk.line_offset);
                let diag = d::YAML_SYNTAX.at(
                    self.options.lenient,
                    file,
                    line,
                    e.column,
                    format!("invalid YAML: {}", e.message),
                    help,
                );
                self.refused.push(Refused { kind: None, file: file.to_string(), line, column: e.column });
                self.push(diag);
                self.recover(file, chunk, e.line);
            }
        }
    }

    /// Re-reads the lines before a syntax error, to report the unknown fields
    /// there too: every mistake of a file in one pass. Nothing of it is loaded.
    fn recover(&mut self, file: &Arc<str>, chunk: Chunk<'_>, error_line: u32) {
        let keep = usize::try_from(error_line).unwrap_or(0).saturating_sub(1);
        if keep == 0 {
            return;
        }
        let prefix: String = chunk.text.split_inclusive('\n').take(keep).collect();
        if let Ok(mut docs) = parse_documents(&prefix) {
            let source = Source { text: &prefix, line_offset: chunk.line_offset };
            let mut checker = Checker::new(self.options, file.clone(), source, true);
            for doc in &mut docs {
                shift(doc, chunk.line_offset);
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
                Step::Refused(refused) => self.refused.push(refused),
            }
        }
    }

    fn finish(mut self) -> Loaded {
        let created = self.cluster.add_implicit_namespaces();
        self.cluster.link_service_accounts();
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
        self.same_priority();
        if !self.options.tiers_declared_elsewhere {
            self.unknown_tiers();
        }
        if !self.options.tiers_declared_elsewhere {
            for f in crate::service_accounts::check(&self.cluster) {
                let file_index = self.first_use.get(&f.namespace).map_or(0, |(i, _)| *i);
                let o = f.origin;
                let diag = d::UNDECLARED_SERVICE_ACCOUNT.at(
                    self.options.lenient,
                    &o.file,
                    o.line,
                    o.column,
                    f.message,
                    Some(f.help),
                );
                self.diagnostics.push((file_index, diag));
            }
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
        Loaded {
            cluster: self.cluster,
            diagnostics: self.diagnostics.into_iter().map(|(_, d)| d).collect(),
            refused: self.refused,
            documents: self.documents,
            bytes: self.bytes,
        }
    }

    /// NP0062: a Calico policy in a tier neither declared nor built in, which
    /// Calico refuses to create: refused here too (never evaluated as if absent).
    fn unknown_tiers(&mut self) {
        let known: Vec<String> = self.cluster.ordered_tiers().into_iter().map(|t| t.name).collect();
        let mut kept = Vec::with_capacity(self.cluster.tiered.len());
        for (i, p) in std::mem::take(&mut self.cluster.tiered).into_iter().enumerate() {
            if known.contains(&p.tier) {
                kept.push(p);
                continue;
            }
            let Some(o) = p.origin.clone() else { continue };
            let message = format!("{} is in tier `{}`, which no Tier declares", p.key(), p.tier);
            let help = format!(
                "declare it (`apiVersion: projectcalico.org/v3`, `kind: Tier`, `metadata.name: {}`) or use an existing tier; the tiers are: {}",
                p.tier,
                known.join(", ")
            );
            let diag = d::INVALID_ACTION.at(self.options.lenient, &o.file, o.line, o.column, message, Some(help));
            self.diagnostics.push((self.tiered_files.get(&i).copied().unwrap_or(0), diag));
            self.refused.push(Refused {
                kind: Some(p.kind.as_str()),
                file: o.file.to_string(),
                line: o.line,
                column: o.column,
            });
        }
        self.cluster.tiered = kept;
    }

    /// NP0067: admin-tier policies at the same priority, whose order upstream leaves undefined.
    fn same_priority(&mut self) {
        let mut admin: Vec<(usize, &netpol_model::TieredPolicy)> = self
            .cluster
            .tiered
            .iter()
            .enumerate()
            .filter(|(_, p)| p.tier == netpol_model::KUBE_ADMIN_TIER && !p.kind.is_calico())
            .collect();
        admin.sort_by(|a, b| netpol_model::compare_order((a.1.order, &a.1.name), (b.1.order, &b.1.name)));
        let mut found = Vec::new();
        for pair in admin.windows(2) {
            let ((_, a), (i, b)) = (pair[0], pair[1]);
            if a.order != b.order {
                continue;
            }
            let Some(o) = &b.origin else { continue };
            let message = format!(
                "{} has the same priority ({}) as {}: upstream leaves their order undefined; netpol evaluates {} first (by name)",
                b.key(),
                b.order.map(|o| o.to_string()).unwrap_or_default(),
                a.key(),
                a.key()
            );
            let diag = d::SAME_PRIORITY.at(
                self.options.lenient,
                &o.file,
                o.line,
                o.column,
                message,
                Some("give each admin policy whose rules may match the same traffic its own priority".to_string()),
            );
            found.push((self.tiered_files.get(&i).copied().unwrap_or(0), diag));
        }
        self.diagnostics.extend(found);
    }

    fn push(&mut self, diag: Diagnostic) {
        self.diagnostics.push((self.file_index, diag));
    }

    /// Adds or replaces (a later duplicate wins, with a warning) an object in the cluster.
    fn upsert(&mut self, upsert: Upsert) {
        let Upsert { category, kind, namespace, name, insert, origin, namespace_at } = upsert;
        if !namespace.is_empty() && !self.first_use.contains_key(&namespace) {
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
            if matches!(key.0, Category::Tiered(_)) {
                self.tiered_files.insert(index, self.file_index);
            }
            self.seen.insert(key, Seen { index, origin, kind });
        }
    }
}

/// Moves a tree parsed from a chunk to the chunk's place in its file.
fn shift(doc: &mut Node<'_>, lines: u32) {
    if lines == 0 {
        return;
    }
    let mut stack = vec![doc];
    while let Some(node) = stack.pop() {
        node.line = node.line.saturating_add(lines);
        match &mut node.value {
            Value::Seq(items) => stack.extend(items.iter_mut()),
            Value::Map(entries) => {
                for (k, v) in entries.iter_mut() {
                    stack.push(k);
                    stack.push(v);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The load of one file through serde-saphyr alone, all of it at once.
    fn slow(name: &str, text: &str, options: &LoadOptions) -> Loaded {
        let mut loader = Loader::new(options);
        loader.bytes = text.len();
        loader.documents(&Arc::from(name), Chunk { text, line_offset: 0, followed: false });
        loader.file_index += 1;
        loader.finish()
    }

    fn pod(i: usize, eol: &str) -> String {
        let ns = format!("ns-{}", i % 3);
        [
            format!("- apiVersion: v1  # pod {i}"),
            "  kind: Pod".to_string(),
            "  metadata:".to_string(),
            format!("    name: web-{i}"),
            format!("    namespace: {ns}"),
            format!("    labels: {{app: web, 'tier': \"t{}\"}}", i % 7),
            "    annotations:".to_string(),
            "      note: |".to_string(),
            "        ---".to_string(),
            "        - not an item".to_string(),
            "  spec:".to_string(),
            "    containers:".to_string(),
            "    - name: c".to_string(),
            "      image: nginx".to_string(),
            "      ports:".to_string(),
            "      - containerPort: 80".to_string(),
            "      - {containerPort: 53, protocol: UDP}".to_string(),
            format!("  status: {{podIP: 10.0.{}.{}}}", i / 250, i % 250),
            String::new(),
        ]
        .join(eol)
    }

    /// Comments, even a long run of them before an indented key: with
    /// comments emitted (kube-client turns serde-saphyr's `comments` on in
    /// netpol), 33 such lines were one NP0001 ("too many buffered comments").
    #[test]
    fn commented_manifests_load() {
        let text = format!(
            "# pods\n---\napiVersion: v1\nkind: Pod  # a pod\nmetadata:\n{}  name: a  # its name\n  namespace: ns-0\n",
            "# off\n".repeat(40)
        );
        for options in [LoadOptions::default(), LoadOptions { lenient: true, ..LoadOptions::default() }] {
            let loaded = load(&[("pod.yaml", &text)], &options);
            assert_eq!(loaded.errors().count(), 0, "{:?}", loaded.diagnostics);
            assert_eq!(loaded.cluster.pods.len(), 1);
            assert_eq!(loaded, slow("pod.yaml", &text, &options));
        }
    }

    /// Lists larger than a chunk (so they are cut at their items), with
    /// findings in their items: the same cluster and diagnostics as serde-saphyr
    /// gives for the whole document (issue 12).
    #[test]
    fn issue_12_lists_cut_at_their_items_load_as_whole_documents() {
        let policy = "- apiVersion: networking.k8s.io/v1\n  kind: NetworkPolicy\n  metadata: {name: p, namespace: ns-1}\n  spec:\n    podSelector: {}\n    ingress:\n    - ports:\n      - protoco: TCP\n        port: 80\n";
        let pods = |eol: &str| (0..400).map(|i| pod(i, eol)).collect::<String>();
        let body = pods("\n");
        assert!(body.len() > 2 * MIN_CHUNK);
        let cases = [
            // kubectl's layout, a bad port, an unknown field, a duplicate pod.
            format!("apiVersion: v1\nitems:\n{body}{}{policy}{}kind: List\nmetadata:\n  resourceVersion: \"\"\n", pod(7, "\n"), pod(9, "\n").replace("containerPort: 80", "containerPort: 70000")),
            // No apiVersion (reported before the items), items indented, CRLF.
            format!("kind: PodList\r\nitems:\r\n{}", pods("\r\n").lines().map(|l| format!("  {l}\r\n")).collect::<String>()),
            // A syntax error in one item: the document is one NP0001, as whole.
            format!("apiVersion: v1\nkind: List\nitems:\n{body}- a: [1\n{body}"),
            // A tab where an indentation should be.
            format!("apiVersion: v1\nkind: List\nitems:\n{body}-\tkind: Pod\n{body}"),
            // Not a List: `items` are not objects then.
            format!("apiVersion: v1\nkind: ConfigMap\nitems:\n{body}"),
            format!("apiVersion: v1\nkind: Pod\nmetadata: {{name: a, namespace: ns-0}}\nitems:\n{body}"),
            // A stream: the List between other documents.
            format!("apiVersion: v1\nkind: Namespace\nmetadata: {{name: ns-0}}\n---\napiVersion: v1\nkind: List\nitems:\n{body}---\napiVersion: v1\nkind: Namespace\nmetadata: {{name: ns-1}}\n"),
        ];
        for (i, text) in cases.iter().enumerate() {
            for options in [LoadOptions::default(), LoadOptions { lenient: true, ..LoadOptions::default() }] {
                let fast = load(&[("list.yaml", text)], &options);
                let want = slow("list.yaml", text, &options);
                assert_eq!(fast.diagnostics, want.diagnostics, "case {i}");
                assert_eq!(fast, want, "case {i}");
            }
        }
        // The first two are cut, into several runs, and every part takes the fast path.
        for text in &cases[..2] {
            let cut = list::cut(Chunk { text, line_offset: 0, followed: false }, MIN_CHUNK).unwrap();
            assert!(cut.runs.len() > 1);
            assert!(cut.head(&cut.skeleton()).is_some());
            assert!(cut.runs.iter().all(|run| Cut::items(run, &Cut::run_text(run)).is_some()));
        }
        let loaded = load(&[("list.yaml", &cases[0])], &LoadOptions::default());
        assert_eq!(loaded.cluster.pods.len(), 400);
        assert_eq!(loaded.documents, 1);
    }
}
