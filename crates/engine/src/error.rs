use std::net::IpAddr;

use netpol_model::PodKey;

/// Why a flow could not be evaluated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    #[error("unknown pod or workload `{key}`{}", did_you_mean(suggestions))]
    UnknownPod { key: PodKey, suggestions: Vec<PodKey> },
    #[error("port 0 is not a destination port (ports are 1-65535)")]
    PortZero,
    #[error("source {src} and destination {dst} are of different IP families")]
    MixedFamilies { src: IpAddr, dst: IpAddr },
}

fn did_you_mean(suggestions: &[PodKey]) -> String {
    match suggestions {
        [] => String::new(),
        [one] => format!(" (did you mean `{one}`?)"),
        many => {
            let list = many.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ");
            format!(" (did you mean one of {list}?)")
        }
    }
}
