//! The agent's log on stderr (`--log-format text|json`): each agent event
//! becomes a `tracing` event with structured fields, written by a
//! tracing-subscriber formatter installed once in this binary (the library
//! crates only emit events).
//!
//! - `text`: `netpol agent: MESSAGE`, the one line per event (diagnostics: one
//!   each) the agent always printed; fields are not shown.
//! - `json`: one object per line, `{"timestamp", "level", "message", "event",
//!   ...fields}` (the shape in docs/cli.md is a stable contract).

use std::fmt;

use netpol_agent::Event;
use netpol_manifest::Severity;
use tracing::field::{Field, Visit};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// `netpol agent: ...`, one line per event.
    Text,
    /// One JSON object per line.
    Json,
}

/// Installs the subscriber for the rest of the process (INFO and above, on stderr).
pub fn init(format: LogFormat) {
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    // netpol's own lines; the libraries under it (kube-rs, hyper) only when
    // something is wrong enough to be an error: their warnings repeat what
    // netpol already reports (a failed watch, its retry).
    let targets = tracing_subscriber::filter::Targets::new()
        .with_default(tracing::Level::ERROR)
        .with_target("netpol", tracing::Level::INFO);
    let builder = tracing_subscriber::fmt().with_writer(std::io::stderr).with_max_level(tracing::Level::INFO);
    // Err only when a subscriber is already installed: it stays.
    let _ = match format {
        LogFormat::Text => builder.event_format(Plain).finish().with(targets).try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .with_target(false)
            .finish()
            .with(targets)
            .try_init(),
    };
}

/// Logs one agent event, with its fields.
pub fn event(event: &Event) {
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
    let list = |names: &[String]| (!names.is_empty()).then(|| names.join(", "));
    match event {
        Event::Synced { report, since_change, stale, skipped, unmodeled } => {
            let applied = report.applied_bytes > 0;
            tracing::info!(
                event = "sync",
                changed = report.changed,
                rules = report.stats.rules,
                elements = report.stats.elements,
                chains = report.stats.chains,
                render_ms = ms(report.render),
                apply_ms = applied.then(|| ms(report.apply)),
                applied_bytes = report.applied_bytes,
                script = applied.then_some(if report.whole { "whole" } else { "difference" }),
                reset = report.reset,
                since_change_ms = ms(*since_change),
                stale = list(stale),
                skipped = list(skipped),
                unmodeled = list(unmodeled),
                "{event}"
            );
        }
        Event::Diagnostics(diagnostics) => {
            for d in diagnostics {
                let message = d.to_string();
                let message = message.trim_end();
                let (code, severity, file, line, column) = (d.code, d.severity.as_str(), &d.file, d.line, d.column);
                let help = d.help.as_deref();
                // The level follows the severity.
                match d.severity {
                    Severity::Error => {
                        tracing::error!(event = "diagnostic", code, severity, file, line, column, help, "{message}")
                    }
                    Severity::Warning => {
                        tracing::warn!(event = "diagnostic", code, severity, file, line, column, help, "{message}")
                    }
                    Severity::Note => {
                        tracing::info!(event = "diagnostic", code, severity, file, line, column, help, "{message}")
                    }
                }
            }
        }
        Event::Waiting { skipped, incomplete } => {
            tracing::warn!(event = "waiting", skipped = list(skipped), incomplete = list(incomplete), "{event}")
        }
        Event::Failed(why) => tracing::error!(event = "failed", error = why.as_str(), "{event}"),
    }
}

/// `netpol agent: MESSAGE`: the message field only.
struct Plain;

impl<S, N> FormatEvent<S, N> for Plain
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> fmt::Result {
        write!(writer, "netpol agent: ")?;
        let mut message = Message { writer: &mut writer, result: Ok(()) };
        event.record(&mut message);
        message.result?;
        writeln!(writer)
    }
}

struct Message<'a, 'w> {
    writer: &'a mut Writer<'w>,
    result: fmt::Result,
}

impl Visit for Message<'_, '_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            // The message is format_args!, whose Debug is its Display.
            self.result = write!(self.writer, "{value:?}");
        }
    }
}
