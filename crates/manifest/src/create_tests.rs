use super::*;
use crate::{load, LoadOptions};

fn request(selector: &str, types: &str) -> Request {
    Request {
        name: "p".into(),
        namespace: None,
        pod_selector: selector.into(),
        policy_types: types.into(),
        allow_dns: false,
    }
}

#[test]
fn pod_selectors_parse_or_say_why_not() {
    struct Case {
        name: &'static str,
        given: &'static str,
        want: Result<&'static [(&'static str, &'static str)], &'static str>,
    }
    let cases = [
        Case { name: "empty is every pod", given: "", want: Ok(&[]) },
        Case { name: "spaces are every pod", given: "  ", want: Ok(&[]) },
        Case { name: "one pair", given: "app=web", want: Ok(&[("app", "web")]) },
        Case { name: "two pairs, sorted", given: "tier=fe,app=web", want: Ok(&[("app", "web"), ("tier", "fe")]) },
        Case { name: "spaces trimmed", given: " app = web , tier=fe", want: Ok(&[("app", "web"), ("tier", "fe")]) },
        Case { name: "prefixed key", given: "k8s-app=kube-dns", want: Ok(&[("k8s-app", "kube-dns")]) },
        Case {
            name: "dns prefix",
            given: "app.kubernetes.io/name=web",
            want: Ok(&[("app.kubernetes.io/name", "web")]),
        },
        Case { name: "empty value", given: "app=", want: Ok(&[("app", "")]) },
        Case { name: "same pair twice", given: "app=web,app=web", want: Ok(&[("app", "web")]) },
        Case { name: "no equals", given: "app", want: Err("`app` is not `key=value`") },
        Case { name: "double equals", given: "app==web", want: Err("`app==web` is not `key=value`") },
        Case { name: "not equals", given: "app!=web", want: Err("`app!=web` is not `key=value`") },
        Case { name: "trailing comma", given: "app=web,", want: Err("`` is not `key=value`") },
        Case { name: "bad key", given: "-app=web", want: Err("invalid label key `-app`: name part must consist") },
        Case { name: "empty key", given: "=web", want: Err("invalid label key ``: name part must be non-empty") },
        Case {
            name: "bad value",
            given: "app=web server",
            want: Err("invalid label value `web server` for `app`: a valid label must be"),
        },
        Case {
            name: "long value",
            given: "app=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            want: Err("must be no more than 63 characters"),
        },
        Case {
            name: "conflicting values",
            given: "app=web,app=db",
            want: Err("label key `app` is given twice, with `web` and `db`"),
        },
    ];
    for case in cases {
        let got = parse_pod_selector(case.given);
        match (case.want, got) {
            (Ok(want), Ok(got)) => {
                let got: Vec<(&str, &str)> = got.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                assert_eq!(got, want, "{}", case.name);
            }
            (Err(want), Err(got)) => assert!(got.to_string().contains(want), "{}: {got}", case.name),
            (want, got) => panic!("{}: want {want:?}, got {got:?}", case.name),
        }
    }
}

#[test]
fn policy_types_parse_or_suggest_the_spelling() {
    use Direction::{Egress, Ingress};
    let cases: [(&str, Result<&[Direction], &str>); 11] = [
        ("Ingress", Ok(&[Ingress])),
        ("Egress", Ok(&[Egress])),
        ("Ingress,Egress", Ok(&[Ingress, Egress])),
        ("Egress,Ingress", Ok(&[Egress, Ingress])),
        ("Ingress, Egress", Ok(&[Ingress, Egress])),
        ("Ingress,Ingress", Ok(&[Ingress])),
        ("ingress", Err("unknown policy type `ingress`: did you mean `Ingress`?")),
        ("EGRESS", Err("unknown policy type `EGRESS`: did you mean `Egress`?")),
        ("Ingres", Err("unknown policy type `Ingres`: did you mean `Ingress`?")),
        ("Both", Err("unknown policy type `Both`: policy types are `Ingress` and `Egress`")),
        ("", Err("no policy type: give `Ingress`, `Egress` or `Ingress,Egress`")),
    ];
    for (given, want) in cases {
        match (want, parse_policy_types(given)) {
            (Ok(want), Ok(got)) => assert_eq!(got, want, "{given}"),
            (Err(want), Err(got)) => assert!(got.to_string().starts_with(want), "{given}: {got}"),
            (want, got) => panic!("{given}: want {want:?}, got {got:?}"),
        }
    }
}

#[test]
fn names_and_namespaces_are_checked() {
    let mut bad_name = request("", "Ingress");
    bad_name.name = "Web_1".into();
    let err = network_policy(&bad_name).unwrap_err().to_string();
    assert!(err.starts_with("invalid name `Web_1`: a lowercase RFC 1123 subdomain"), "{err}");

    let mut empty = request("", "Ingress");
    empty.name = String::new();
    assert!(network_policy(&empty).unwrap_err().to_string().starts_with("invalid name ``"));

    let mut dotted = request("", "Ingress");
    dotted.name = "allow.dns".into();
    assert!(network_policy(&dotted).is_ok(), "a subdomain may have dots");

    let mut bad_ns = request("", "Ingress");
    bad_ns.namespace = Some("kube.system".into());
    let err = network_policy(&bad_ns).unwrap_err().to_string();
    assert!(err.starts_with("invalid namespace `kube.system`: a lowercase RFC 1123 label"), "{err}");
}

#[test]
fn allow_dns_without_egress_adds_egress_with_a_note() {
    let mut r = request("app=web", "Ingress");
    r.allow_dns = true;
    let created = network_policy(&r).unwrap();
    let spec = created.policy.spec.unwrap();
    assert_eq!(spec.policy_types.unwrap(), ["Ingress", "Egress"]);
    assert_eq!(created.notes.len(), 1);
    assert!(
        created.notes[0].contains("added Egress, so the selected pods are also isolated for egress"),
        "{}",
        created.notes[0]
    );

    r.policy_types = "Egress".into();
    assert!(network_policy(&r).unwrap().notes.is_empty());
}

/// What is printed loads back, with no finding, as the object that was built.
#[test]
fn printed_yaml_and_json_load_back_as_built() {
    let cases = [
        ("", "Ingress", false, None),
        ("app=web", "Egress", true, Some("shop")),
        ("app=web,tier=fe", "Ingress,Egress", true, None),
        // Values YAML 1.1 (go-yaml, so kubectl) reads as bools, numbers or null must stay strings.
        (
            "a=yes,b=on,c=true,d=1,e=,f=null,g=0x1F,h=1e3,i=N,j=007,k=1.5,n=Off,y=1_0",
            "Egress,Ingress",
            false,
            Some("ns"),
        ),
    ];
    for (selector, types, allow_dns, namespace) in cases {
        let mut r = request(selector, types);
        r.allow_dns = allow_dns;
        r.namespace = namespace.map(String::from);
        let policy = network_policy(&r).unwrap().policy;
        let yaml = to_yaml(&policy).unwrap();
        let json = to_json(&policy).unwrap();
        assert!(yaml.starts_with("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n"), "{yaml}");
        assert!(
            json.starts_with("{\n    \"apiVersion\": \"networking.k8s.io/v1\",\n    \"kind\": \"NetworkPolicy\",\n")
        );
        assert_eq!(serde_saphyr::from_str::<NetworkPolicy>(&yaml).unwrap(), policy, "{yaml}");
        assert_eq!(serde_json::from_str::<NetworkPolicy>(&json).unwrap(), policy, "{json}");
        for text in [&yaml, &json] {
            assert!(text.ends_with('\n'));
            let loaded = load([("created.yaml", text.as_str())], &LoadOptions::default());
            // Only the notes on the namespace: undeclared (NP0052) and, without -n, not set (NP0051).
            let expected = |code: &str| code == "NP0052" || (code == "NP0051" && namespace.is_none());
            let unexpected: Vec<_> = loaded.diagnostics.iter().filter(|d| !expected(d.code)).collect();
            assert!(unexpected.is_empty(), "{selector} {types}: {unexpected:?}\n{text}");
            assert!(!loaded.has_errors());
            let got = &loaded.cluster.policies[0];
            assert_eq!(got.namespace, namespace.unwrap_or("default"));
            assert_eq!(got.egress.len(), usize::from(allow_dns));
            assert!(got.ingress.is_empty());
        }
    }
}

#[test]
fn dns_rule_is_kube_dns_in_kube_system_on_53() {
    let mut r = request("", "Egress");
    r.allow_dns = true;
    let yaml = to_yaml(&network_policy(&r).unwrap().policy).unwrap();
    assert_eq!(
        yaml,
        "\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: p
spec:
  egress:
  - ports:
    - port: 53
      protocol: UDP
    - port: 53
      protocol: TCP
    to:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: kube-system
      podSelector:
        matchLabels:
          k8s-app: kube-dns
  podSelector: {}
  policyTypes:
  - Egress
"
    );
}
