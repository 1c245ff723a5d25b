//! The resources netpol explains and how a request names them: the part of
//! `RESOURCE[.FIELD]...` kubectl hands to its REST mapper.

/// One resource of the embedded document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resource {
    pub group: &'static str,
    pub version: &'static str,
    /// The plural, as in the API paths (`networkpolicies`).
    pub plural: &'static str,
    pub singular: &'static str,
    pub short_names: &'static [&'static str],
    pub kind: &'static str,
}

/// What `netpol explain` knows: NetworkPolicy in networking.k8s.io/v1.
pub const RESOURCES: &[Resource] = &[Resource {
    group: "networking.k8s.io",
    version: "v1",
    plural: "networkpolicies",
    singular: "networkpolicy",
    short_names: &["netpol"],
    kind: "NetworkPolicy",
}];

impl Resource {
    /// The `group/version` this resource is served at.
    pub fn api_version(&self) -> String {
        format!("{}/{}", self.group, self.version)
    }

    /// `networkpolicies.networking.k8s.io`, the group-qualified name kubectl also accepts.
    pub fn qualified(&self) -> String {
        format!("{}.{}", self.plural, self.group)
    }

    /// Whether `name` names this resource as kubectl's REST mapper matches it
    /// (plural, singular, short name or kind, in any case).
    fn is_named(&self, name: &str) -> bool {
        let name = name.to_ascii_lowercase();
        name == self.plural
            || name == self.singular
            || name == self.kind.to_ascii_lowercase()
            || self.short_names.contains(&name.as_str())
    }
}

/// Splits `RESOURCE[.FIELD]...` into the resource and the field path; `None`
/// when the first segment names no resource netpol knows. The group-qualified
/// plural (`networkpolicies.networking.k8s.io.spec`) is matched first, as
/// kubectl matches a resource's group prefix.
pub fn split(request: &str) -> Option<(&'static Resource, Vec<&str>)> {
    for resource in RESOURCES {
        let qualified = resource.qualified();
        if let Some(rest) = request.strip_prefix(qualified.as_str()) {
            if rest.is_empty() {
                return Some((resource, Vec::new()));
            }
            if let Some(fields) = rest.strip_prefix('.') {
                return Some((resource, fields.split('.').collect()));
            }
        }
    }
    let mut segments = request.split('.');
    let name = segments.next()?;
    let resource = RESOURCES.iter().find(|r| r.is_named(name))?;
    Some((resource, segments.collect()))
}

/// Every name `netpol explain` accepts, for an error message.
pub fn supported() -> String {
    let names: Vec<String> = RESOURCES
        .iter()
        .flat_map(|r| {
            [r.singular.to_string(), r.plural.to_string()]
                .into_iter()
                .chain(r.short_names.iter().map(|s| s.to_string()))
                .chain([r.qualified()])
        })
        .collect();
    names.join(", ")
}
