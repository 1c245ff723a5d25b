//! The Kubernetes API as the agent's [`Source`]: kube-rs watchers on
//! Namespaces, Pods and NetworkPolicies (required), Nodes, ServiceAccounts
//! and the ordered-policy kinds (optional: [`Kind`]), projected into the
//! model as they arrive.
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
//!   each kind). An ordered-policy object is converted by the manifest
//!   loader's strict path ([`api::ordered`]); one it refuses is skipped the
//!   same way.
//! - An optional kind the server does not serve (its CRD is not installed)
//!   or RBAC refuses counts as known and empty, with one log line
//!   ([`Note::Absent`], saying what that means where it is more than none of
//!   them: without ServiceAccounts, pods carry no ServiceAccount labels) and
//!   no `netpol_watch_restarts_total` (the test
//!   [`Counters`] count it); its watcher keeps
//!   retrying with backoff, and the first whole list after a CRD is
//!   installed (or a grant given) replaces the empty set. A kind refused
//!   after it was listed keeps what was listed (fail static); one no longer
//!   served is emptied (its objects went with its CRD). Any other failure of
//!   an optional kind (a 503 from an aggregated API server that is down, a
//!   500 from a broken conversion webhook) is an outage like any other: the
//!   kind stays unknown and, before its first list, nothing is applied, since
//!   its Deny rules would otherwise be silently missing (fail closed).
//! - Threads: one thread runs a single-threaded tokio runtime driving the
//!   watchers; it converts each object to the model at once (the API's
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
use kube::core::{DynamicObject, TypeMeta};
use kube::runtime::events::{Event as KubeEvent, EventType, Recorder, Reporter};
use kube::runtime::utils::Backoff;
use kube::runtime::watcher::{self, watcher, Event as WatchEvent};
use kube::runtime::WatchStreamExt;
use kube::{Api, Client, Resource};
use netpol_agent::{Metrics, Snapshot, Source, Wait};
use netpol_manifest::api;

use crate::decode::Decoded;
use crate::kind::KINDS;
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
    /// An optional kind is not served or refused; the watcher backs off and
    /// tries again.
    Absent(Kind, Absence),
}

/// Why an optional kind has nothing to give.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Absence {
    /// 404: the server does not serve the resource (its CRD is not installed).
    NotServed,
    /// 403: RBAC refuses `verb` on the resource.
    Forbidden { verb: &'static str },
}

impl Absence {
    /// The absence a failed list or watch means, if it means one.
    fn of(e: &watcher::Error) -> Option<Absence> {
        let (verb, code) = match e {
            watcher::Error::InitialListFailed(kube::Error::Api(s)) => ("list", s.code),
            watcher::Error::WatchStartFailed(kube::Error::Api(s))
            | watcher::Error::WatchFailed(kube::Error::Api(s)) => ("watch", s.code),
            watcher::Error::WatchError(s) => ("watch", s.code),
            _ => return None,
        };
        match code {
            404 => Some(Absence::NotServed),
            403 => Some(Absence::Forbidden { verb }),
            _ => None,
        }
    }
}

/// Counts, for tests (shared with the watch thread); objects skipped
/// are counted by the metrics (`netpol_objects_skipped_total`).
#[derive(Debug, Default)]
pub struct Counters {
    /// Failed lists or watches, per kind (each is followed by a retry; an
    /// optional kind not served or refused counts too).
    pub restarts: [AtomicU64; KINDS],
    /// Lists started, per kind (the first list, then each relist).
    pub lists: [AtomicU64; KINDS],
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
    /// An optional kind is not served or RBAC refuses it (once, until that
    /// changes); `means`: what going without it means ([`Kind::absent_means`]).
    Absent { resource: &'static str, group_version: String, absence: Absence, kept: bool, means: Option<&'static str> },
    /// An optional kind not served or refused before was listed whole.
    Present { resource: &'static str },
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
            Note::Absent { resource, group_version, absence, kept, means } => {
                match absence {
                    Absence::NotServed => write!(f, "{resource} ({group_version}) not served; treating as none")?,
                    Absence::Forbidden { verb } => write!(
                        f,
                        "cannot {verb} {resource} ({group_version}) at cluster scope: forbidden by RBAC; {}",
                        if *kept { "keeping what was listed before" } else { "treating as none" }
                    )?,
                }
                if let Some(means) = means.filter(|_| !*kept) {
                    write!(f, "; {means}")?;
                }
                write!(f, " (retrying with backoff: listed once it is served and allowed)")
            }
            Note::Present { resource } => write!(f, "listed {resource}: served and allowed now"),
        }
    }
}

/// The Kubernetes API as the agent's desired state.
pub struct ApiSource {
    projection: Projection,
    /// Per kind: the absence last noted (so that a retry logs nothing).
    absent: [Option<Absence>; KINDS],
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
            absent: Default::default(),
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
                if matches!(change, Change::InitDone) && self.absent[kind.index()].take().is_some() {
                    let note = Note::Present { resource: kind.resource() };
                    tracing::info!(event = "present", resource = kind.resource(), "{note}");
                } else if matches!(change, Change::InitDone) && self.projection.known(kind) {
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
            Update::Absent(kind, absence) => {
                let kept = matches!(absence, Absence::Forbidden { .. }) && self.projection.known(kind);
                if self.absent[kind.index()].as_ref() != Some(&absence) {
                    let (group, version) = kind.group_version();
                    let group_version =
                        if group.is_empty() { version.to_string() } else { format!("{group}/{version}") };
                    let note = Note::Absent {
                        resource: kind.resource(),
                        group_version,
                        absence: absence.clone(),
                        kept,
                        means: kind.absent_means(),
                    };
                    tracing::info!(event = "absent", resource = kind.resource(), "{note}");
                }
                let empty = absence == Absence::NotServed;
                self.absent[kind.index()] = Some(absence);
                self.projection.apply(kind, Change::Absent { empty }, Instant::now());
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
    tracing::info!(
        event = "watching",
        server = %server,
        "watching namespaces, pods and networkpolicies, and where served and allowed nodes, serviceaccounts and the ordered-policy kinds, at {server}{node}"
    );
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
    let typed = |kind: Kind| Watched { kind, options: &options, counters: &counters, recorder: &recorder };
    let mut streams: Vec<BoxStream<'static, Update>> = vec![
        typed(Kind::Namespaces).stream::<core::Namespace>(Api::all(client.clone()), (), |ns| {
            Ok(Some(Object::Namespace(api::namespace(ns))))
        }),
        typed(Kind::Pods).stream::<core::Pod>(Api::all(client.clone()), (), |p| Ok(api::pod(p).map(Object::Pod))),
        typed(Kind::NetworkPolicies).stream::<net::NetworkPolicy>(Api::all(client.clone()), (), |np| {
            Ok(Some(Object::Policy(api::network_policy(np))))
        }),
        typed(Kind::Nodes).stream::<core::Node>(Api::all(client.clone()), (), |n| Ok(Some(Object::Node(api::node(n))))),
        typed(Kind::ServiceAccounts).stream::<core::ServiceAccount>(Api::all(client.clone()), (), |sa| {
            Ok(Some(Object::ServiceAccount(api::service_account(sa))))
        }),
    ];
    for kind in Kind::ORDERED {
        let resource = kind.api_resource();
        let api = Api::all_with(client.clone(), &resource);
        streams.push(typed(kind).stream::<DynamicObject>(api, resource.clone(), move |o| ordered(kind, &resource, o)));
    }
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

/// One ordered-policy object, by the manifest loader's strict path
/// ([`api::ordered`]); `Err` says why it is left out.
fn ordered(kind: Kind, resource: &kube::core::ApiResource, o: &DynamicObject) -> Result<Option<Object>, String> {
    let mut value = serde_json::to_value(o).map_err(|e| e.to_string())?;
    if o.types.is_none() {
        // List items may come without their type.
        let types = TypeMeta { api_version: resource.api_version.clone(), kind: resource.kind.clone() };
        let map = value.as_object_mut().ok_or("not an object")?;
        map.insert("apiVersion".into(), types.api_version.into());
        map.insert("kind".into(), types.kind.into());
    }
    Ok(Some(match api::ordered(kind.resource(), &value)? {
        api::Ordered::Tier(tier) if kind == Kind::Tiers => Object::Tier(tier),
        api::Ordered::Policy(p) if kind.tiered() == Some(p.kind) => Object::Tiered(*p),
        _ => return Err(format!("not a {} object", kind.name())),
    }))
}

/// What every kind's watcher shares.
struct Watched<'a> {
    kind: Kind,
    options: &'a WatchOptions,
    counters: &'a Arc<Counters>,
    recorder: &'a Recorder,
}

impl Watched<'_> {
    /// The kind's watcher on `api`, its objects converted by `convert` as
    /// they arrive (`Err`: left out as undecodable, with its reason).
    fn stream<K>(
        &self,
        api: Api<Decoded<K>>,
        dt: K::DynamicType,
        convert: impl Fn(&K) -> Result<Option<Object>, String> + Send + 'static,
    ) -> BoxStream<'static, Update>
    where
        K: Resource + Clone + serde::de::DeserializeOwned + Debug + Send + Sync + 'static,
        K::DynamicType: Clone + Send + Sync + 'static,
    {
        let kind = self.kind;
        let config = watcher::Config::default().page_size(self.options.page_size);
        let (min, max) = (self.options.backoff_min, self.options.backoff_max);
        let backoff = Doubling { min, max, next: min };
        let counters = Arc::clone(self.counters);
        let recorder = self.recorder.clone();
        watcher(api, config)
            .backoff(backoff)
            .map(move |event| {
                let object = |guarded: Decoded<K>| -> Result<(Key, Option<Object>), (Key, String)> {
                    let key = key_of(guarded.meta());
                    let converted = match &guarded.0 {
                        Ok(k) => convert(k),
                        Err(invalid) => Err(invalid.error.clone()),
                    };
                    converted.map(|object| (key.clone(), object)).map_err(|error| {
                        report_invalid(&recorder, &guarded, &dt, &error);
                        (key, error)
                    })
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
                        counters.lists[kind.index()].fetch_add(1, Ordering::Relaxed);
                        Update::Change(kind, Box::new(Change::Init), now)
                    }
                    Ok(WatchEvent::InitDone) => Update::Change(kind, Box::new(Change::InitDone), now),
                    Err(e) => {
                        counters.restarts[kind.index()].fetch_add(1, Ordering::Relaxed);
                        match Absence::of(&e).filter(|_| !kind.required()) {
                            Some(absence) => Update::Absent(kind, absence),
                            None => Update::Failed(kind, chain(&e)),
                        }
                    }
                }
            })
            .boxed()
    }
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
fn report_invalid<K: Resource>(recorder: &Recorder, object: &Decoded<K>, dt: &K::DynamicType, error: &str) {
    let reference = object.object_ref(dt);
    let recorder = recorder.clone();
    let event = skipped_event(error);
    tokio::spawn(async move {
        if let Err(e) = recorder.publish(&event, &reference).await {
            tracing::debug!("cannot publish an Event on {:?}: {}", reference.name, chain(&e));
        }
    });
}

#[cfg(test)]
#[path = "watch_tests.rs"]
mod tests;
