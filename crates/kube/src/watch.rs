//! The Kubernetes API as the agent's [`Source`]: kube-rs watchers on
//! Namespaces, Pods and NetworkPolicies, projected into the model as they
//! arrive.
//!
//! Design (model, goals, implementation, threads):
//! - Model: [`ApiSource`] owns a [`Projection`] (the converted objects and the
//!   cluster built from them) and the receiving end of a channel of converted
//!   watch events. The sync loop sees it as one more [`Source`] beside the
//!   folder: same [`netpol_agent::Agent`], same syncer, same dataplane.
//! - Goals: nothing is applied before every watcher delivered its first whole
//!   list (the snapshot names what is still `incomplete`, and the agent waits
//!   with the rules already in the kernel untouched); during an API outage the
//!   rules stay as they are (fail static) while the watchers back off and
//!   retry; a watch that expired (`410 Gone`) relists, and a relist replaces
//!   the kind's objects only once it is whole, so what changed while the
//!   agent was away is applied in one sync when it is back.
//! - Objects that cannot be decoded ([`Decoded`]: kube-rs's `DeserializeGuard`
//!   without its copies) are reported (a log line, the `skipped` count, and a
//!   Kubernetes Event on the object where RBAC allows) and never replace the
//!   last good version of the object; one never seen good is left out
//!   (docs/enforcement.md, "The agent on Kubernetes", says what that means for
//!   each kind).
//! - Threads: one thread runs a single-threaded tokio runtime driving the
//!   three watchers; it converts each object to the model at once (the API's
//!   JSON is dropped there) and sends it over a std channel. The agent's
//!   thread folds what arrived into the projection in [`Source::wait`] (no
//!   I/O) and renders from it. Dropping the source stops the watch thread.

use std::fmt::Debug;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use futures::stream::{BoxStream, StreamExt};
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::api::networking::v1 as net;
use kube::runtime::events::{Event as KubeEvent, EventType, Recorder, Reporter};
use kube::runtime::utils::Backoff;
use kube::runtime::watcher::{self, watcher, Event as WatchEvent};
use kube::runtime::WatchStreamExt;
use kube::{Api, Client, Resource};
use netpol_agent::{Metrics, Snapshot, Source, Wait};
use netpol_manifest::api;

use crate::decode::Decoded;
use crate::projection::{Change, Key, Kind, Object, Projection};
use crate::{chain, Connection, Error};

/// How the watchers behave.
#[derive(Clone, Debug)]
pub struct WatchOptions {
    /// Objects per page of a (re)list.
    pub page_size: u32,
    /// The first delay after a failed list or watch (doubling with each
    /// failure in a row)...
    pub backoff_min: Duration,
    /// ...up to this.
    pub backoff_max: Duration,
    /// Who reports Events about objects the agent skipped (`reportingController`
    /// and, usually the node name, `reportingInstance`).
    pub reporter: String,
    pub instance: Option<String>,
}

impl Default for WatchOptions {
    fn default() -> Self {
        WatchOptions {
            page_size: 500,
            backoff_min: Duration::from_millis(800),
            backoff_max: Duration::from_secs(30),
            reporter: "netpol-agent".into(),
            instance: None,
        }
    }
}

/// What the watch thread sends.
#[derive(Debug)]
enum Update {
    Change(Kind, Box<Change>, Instant),
    /// A list or watch failed; the watcher backs off and tries again.
    Failed(Kind, String),
    /// An object that could not be decoded (skipped; its last good version
    /// stays), and whether it came in a (re)list.
    Invalid(Kind, Key, String, bool),
}

/// Counts, for tests (shared with the watch thread); objects skipped
/// are counted by the metrics (`netpol_objects_skipped_total`).
#[derive(Debug, Default)]
pub struct Counters {
    /// Failed lists or watches, per kind (each is followed by a retry).
    pub restarts: [AtomicU64; 3],
    /// Lists started, per kind (the first list, then each relist).
    pub lists: [AtomicU64; 3],
}

impl Counters {
    pub fn restarts(&self, kind: Kind) -> u64 {
        self.restarts[kind as usize].load(Ordering::Relaxed)
    }

    pub fn lists(&self, kind: Kind) -> u64 {
        self.lists[kind as usize].load(Ordering::Relaxed)
    }
}

/// What the source logs (through `tracing`: the binary's subscriber prints it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Note {
    /// A watcher failed and will retry after backing off.
    WatchFailed { resource: &'static str, error: String },
    /// An object could not be decoded and was skipped.
    Invalid { resource: &'static str, object: String, error: String },
    /// A relist (after an expired or lost watch) completed.
    Relisted { resource: &'static str },
}

impl std::fmt::Display for Note {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Note::WatchFailed { resource, error } => {
                write!(f, "watching {resource} failed (rules in place stay; retrying with backoff): {error}")
            }
            Note::Invalid { resource, object, error } => {
                write!(f, "{resource} {object} cannot be decoded, skipped (its last good version stays): {error}")
            }
            Note::Relisted { resource } => write!(f, "relisted {resource}: the watch had expired or was lost"),
        }
    }
}

/// The Kubernetes API as the agent's desired state.
pub struct ApiSource {
    projection: Projection,
    updates: mpsc::Receiver<Update>,
    counters: Arc<Counters>,
    metrics: Option<Arc<Metrics>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    /// The API server's URL, for messages.
    pub server: String,
}

impl Debug for ApiSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiSource").field("server", &self.server).finish_non_exhaustive()
    }
}

impl ApiSource {
    /// Starts watching through `connection` (from [`crate::connect`]); returns
    /// at once: the first lists arrive in the background.
    pub fn start(connection: Connection, options: WatchOptions) -> Result<ApiSource, Error> {
        let Connection { client, runtime, server, .. } = connection;
        let (tx, updates) = mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let counters = Arc::new(Counters::default());
        let shared = Arc::clone(&counters);
        let thread = std::thread::Builder::new()
            .name("netpol-watch".into())
            .spawn(move || runtime.block_on(watch_all(client, tx, stopped, options, shared)))
            .map_err(|e| Error::Config(format!("cannot start the watch thread: {e}")))?;
        Ok(ApiSource {
            projection: Projection::new(),
            updates,
            counters,
            metrics: None,
            stop: Some(stop),
            thread: Some(thread),
            server,
        })
    }

    /// Reports objects by kind, watch restarts, skipped objects and
    /// readiness (every first list arrived) to `metrics`.
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        metrics.set_source_ready(self.projection.ready());
        self.metrics = Some(metrics);
        self
    }

    /// The counts so far (failed watches, lists).
    pub fn counters(&self) -> &Arc<Counters> {
        &self.counters
    }

    /// How many objects of `kind` the projection holds now.
    pub fn count(&self, kind: Kind) -> usize {
        self.projection.count(kind)
    }

    /// Every kind delivered its first whole list.
    pub fn ready(&self) -> bool {
        self.projection.ready()
    }

    /// Waits until every kind delivered its first whole list, at most
    /// `timeout`; false when it did not (or the watch thread ended).
    pub fn wait_ready(&mut self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while !self.projection.ready() {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.updates.recv_timeout(left.min(Duration::from_millis(100))) {
                Ok(update) => {
                    self.fold(update);
                    self.drain();
                }
                Err(mpsc::RecvTimeoutError::Timeout) if left.is_zero() => return false,
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => return false,
            }
        }
        true
    }

    fn fold(&mut self, update: Update) {
        match update {
            Update::Change(kind, change, at) => {
                let change = *change;
                // The first whole list of a kind is no relist.
                if matches!(change, Change::InitDone) && self.projection.known(kind) {
                    let note = Note::Relisted { resource: kind.resource() };
                    tracing::info!(event = "relisted", resource = kind.resource(), "{note}");
                }
                self.projection.apply(kind, change, at);
            }
            Update::Failed(kind, error) => {
                let note = Note::WatchFailed { resource: kind.resource(), error };
                tracing::warn!(event = "watch_failed", resource = kind.resource(), "{note}");
                if let Some(m) = &self.metrics {
                    m.watch_restart(kind.name());
                    m.error("watch");
                }
            }
            Update::Invalid(kind, key, error, in_list) => {
                if in_list {
                    self.projection.apply(kind, Change::InitKeep(key.clone()), Instant::now());
                }
                let (namespace, name) = key;
                let object = if namespace.is_empty() { name } else { format!("{namespace}/{name}") };
                let note = Note::Invalid { resource: kind.resource(), object, error };
                tracing::warn!(event = "skipped_object", resource = kind.resource(), "{note}");
                if let Some(m) = &self.metrics {
                    m.object_skipped(kind.name());
                }
            }
        }
    }

    /// Folds in everything that arrived; false when the watch thread is gone.
    /// Then the metrics get the objects by kind and readiness, once per batch.
    fn drain(&mut self) -> bool {
        let open = loop {
            match self.updates.try_recv() {
                Ok(update) => self.fold(update),
                Err(mpsc::TryRecvError::Empty) => break true,
                Err(mpsc::TryRecvError::Disconnected) => break false,
            }
        };
        if let Some(m) = &self.metrics {
            for kind in Kind::ALL {
                m.set_objects(kind.name(), u64::try_from(self.projection.count(kind)).unwrap_or(u64::MAX));
            }
            m.set_source_ready(self.projection.ready());
        }
        open
    }
}

impl Drop for ApiSource {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Source for ApiSource {
    type Error = Error;

    fn wait(&mut self, timeout: Duration) -> Wait {
        match self.updates.recv_timeout(timeout) {
            Ok(update) => self.fold(update),
            Err(mpsc::RecvTimeoutError::Timeout) => return Wait::Timeout,
            Err(mpsc::RecvTimeoutError::Disconnected) => return Wait::Closed,
        }
        if !self.drain() {
            return Wait::Closed;
        }
        match self.projection.ready().then(|| self.projection.take_change()).flatten() {
            Some(at) => Wait::Changed(at),
            None => Wait::Timeout,
        }
    }

    fn read(&mut self, _everything: bool) -> Result<Snapshot<'_>, Error> {
        // The projection always holds everything the watchers delivered:
        // `everything` reads nothing more.
        self.drain();
        let incomplete: Vec<String> =
            self.projection.waiting_for().into_iter().map(|k| k.resource().to_string()).collect();
        if incomplete.is_empty() {
            self.projection.take_change();
        }
        let pods_version = self.projection.pods_version();
        Ok(Snapshot {
            cluster: self.projection.cluster(),
            pods_version,
            diagnostics: Vec::new(),
            stale: Vec::new(),
            skipped: Vec::new(),
            unmodeled: Vec::new(),
            incomplete,
        })
    }
}

/// How long `netpol agent --kubernetes --once` waits for the first lists.
pub const FIRST_LISTS: Duration = Duration::from_secs(60);

/// `netpol agent --kubernetes`: the sync loop of [`netpol_agent::run_source`]
/// on the API of `cluster`, as `config` says (its render node also names the
/// Events' reporting instance); with `config.once`, after waiting at most
/// [`FIRST_LISTS`] for every first list. `config.metrics` gets the source's
/// counts too. Only connecting (and the first lists with `once`) fails;
/// everything after is reported through `on_event` and retried.
pub fn run_agent(
    config: &netpol_agent::Config,
    cluster: &crate::Source,
    stop: &std::sync::atomic::AtomicBool,
    on_event: &mut dyn FnMut(netpol_agent::Event),
) -> Result<(), Error> {
    let connection = crate::connect(cluster)?;
    let server = connection.server.clone();
    let options = WatchOptions { instance: config.render.node.clone(), ..WatchOptions::default() };
    let mut source = ApiSource::start(connection, options)?;
    if let Some(metrics) = &config.metrics {
        source = source.with_metrics(Arc::clone(metrics));
    }
    let node = config.render.node.as_deref().map(|n| format!(" for node {n}")).unwrap_or_default();
    tracing::info!(event = "watching", server = %server, "watching namespaces, pods and networkpolicies at {server}{node}");
    if config.once && !source.wait_ready(FIRST_LISTS) {
        return Err(Error::FirstLists { server, waited: FIRST_LISTS });
    }
    netpol_agent::run_source(source, config, stop, on_event);
    Ok(())
}

/// Doubling delays from `min` to `max` (no jitter: one agent per node, each
/// with its own timing, already spreads the retries), reset by the watcher
/// once a list or watch succeeds.
struct Doubling {
    min: Duration,
    max: Duration,
    next: Duration,
}

impl Iterator for Doubling {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let now = self.next;
        self.next = (self.next * 2).min(self.max);
        Some(now)
    }
}

impl Backoff for Doubling {
    fn reset(&mut self) {
        self.next = self.min;
    }
}

async fn watch_all(
    client: Client,
    tx: mpsc::Sender<Update>,
    mut stopped: tokio::sync::oneshot::Receiver<()>,
    options: WatchOptions,
    counters: Arc<Counters>,
) {
    let reporter = Reporter { controller: options.reporter.clone(), instance: options.instance.clone() };
    let recorder = Recorder::new(client.clone(), reporter);
    let streams: Vec<BoxStream<'static, Update>> = vec![
        kind_stream::<core::Namespace>(&client, Kind::Namespaces, &options, &counters, &recorder, |ns| {
            Some(Object::Namespace(api::namespace(ns)))
        }),
        kind_stream::<core::Pod>(&client, Kind::Pods, &options, &counters, &recorder, |p| api::pod(p).map(Object::Pod)),
        kind_stream::<net::NetworkPolicy>(&client, Kind::NetworkPolicies, &options, &counters, &recorder, |np| {
            Some(Object::Policy(api::network_policy(np)))
        }),
    ];
    let mut all = futures::stream::select_all(streams);
    loop {
        tokio::select! {
            _ = &mut stopped => return,
            next = all.next() => match next {
                Some(update) => {
                    if tx.send(update).is_err() {
                        return;
                    }
                }
                None => return,
            },
        }
    }
}

fn key_of(meta: &kube::core::ObjectMeta) -> Key {
    (meta.namespace.clone().unwrap_or_default(), meta.name.clone().unwrap_or_default())
}

/// One kind's watcher, its objects converted by `convert` as they arrive.
fn kind_stream<K>(
    client: &Client,
    kind: Kind,
    options: &WatchOptions,
    counters: &Arc<Counters>,
    recorder: &Recorder,
    convert: fn(&K) -> Option<Object>,
) -> BoxStream<'static, Update>
where
    K: Resource<DynamicType = ()> + Clone + serde::de::DeserializeOwned + Debug + Send + Sync + 'static,
{
    let api: Api<Decoded<K>> = Api::all(client.clone());
    let config = watcher::Config::default().page_size(options.page_size);
    let backoff = Doubling { min: options.backoff_min, max: options.backoff_max, next: options.backoff_min };
    let counters = Arc::clone(counters);
    let recorder = recorder.clone();
    watcher(api, config)
        .backoff(backoff)
        .map(move |event| {
            let object = |guarded: Decoded<K>| -> Result<(Key, Option<Object>), (Key, String)> {
                let key = key_of(guarded.meta());
                match &guarded.0 {
                    Ok(k) => Ok((key, convert(k))),
                    Err(invalid) => {
                        report_invalid(&recorder, &guarded, &invalid.error);
                        Err((key, invalid.error.clone()))
                    }
                }
            };
            let now = Instant::now();
            match event {
                Ok(WatchEvent::Apply(o)) => match object(o) {
                    Ok((key, object)) => Update::Change(kind, Box::new(Change::Apply(key, object)), now),
                    Err((key, error)) => Update::Invalid(kind, key, error, false),
                },
                Ok(WatchEvent::InitApply(o)) => match object(o) {
                    Ok((key, object)) => Update::Change(kind, Box::new(Change::InitApply(key, object)), now),
                    // Not decodable in a relist: its last good version stays (skipped).
                    Err((key, error)) => Update::Invalid(kind, key, error, true),
                },
                Ok(WatchEvent::Delete(o)) => Update::Change(kind, Box::new(Change::Delete(key_of(o.meta()))), now),
                Ok(WatchEvent::Init) => {
                    counters.lists[kind as usize].fetch_add(1, Ordering::Relaxed);
                    Update::Change(kind, Box::new(Change::Init), now)
                }
                Ok(WatchEvent::InitDone) => Update::Change(kind, Box::new(Change::InitDone), now),
                Err(e) => {
                    counters.restarts[kind as usize].fetch_add(1, Ordering::Relaxed);
                    Update::Failed(kind, chain(&e))
                }
            }
        })
        .boxed()
}

/// The Warning Event the agent publishes on an object it skipped.
pub fn skipped_event(error: &str) -> KubeEvent {
    let mut note = format!("netpol cannot decode this object and does not enforce it: {error}");
    // events.k8s.io refuses a note over 1 KiB; cut on a character boundary.
    while note.len() > 1024 {
        note.pop();
    }
    KubeEvent {
        type_: EventType::Warning,
        reason: "NetpolSkipped".into(),
        note: Some(note),
        action: "Decode".into(),
        secondary: None,
    }
}

/// A Warning Event on an object netpol could not decode, published in the
/// background; refused (no RBAC for events) or failed, it is only logged.
fn report_invalid<K>(recorder: &Recorder, object: &Decoded<K>, error: &str)
where
    K: Resource<DynamicType = ()>,
{
    let reference = object.object_ref(&());
    let recorder = recorder.clone();
    let event = skipped_event(error);
    tokio::spawn(async move {
        if let Err(e) = recorder.publish(&event, &reference).await {
            tracing::debug!("cannot publish an Event on {:?}: {}", reference.name, chain(&e));
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_its_ceiling_and_resets() {
        let mut b = Doubling {
            min: Duration::from_millis(100),
            max: Duration::from_millis(350),
            next: Duration::from_millis(100),
        };
        let first: Vec<u128> = b.by_ref().take(4).map(|d| d.as_millis()).collect();
        assert_eq!(first, [100, 200, 350, 350]);
        b.reset();
        assert_eq!(b.next(), Some(Duration::from_millis(100)));
    }

    #[test]
    fn notes_say_what_happened_and_that_rules_stay() {
        let failed = Note::WatchFailed { resource: "pods", error: "connection refused".into() };
        assert_eq!(
            failed.to_string(),
            "watching pods failed (rules in place stay; retrying with backoff): connection refused"
        );
        let invalid = Note::Invalid { resource: "networkpolicies", object: "a/b".into(), error: "bad".into() };
        assert!(invalid.to_string().contains("networkpolicies a/b cannot be decoded"), "{invalid}");
    }
}
