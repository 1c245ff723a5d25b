//! One case per validation rule: the code, severity and position of the finding.

use netpol_manifest::{load, LoadOptions, Severity};

/// A namespaced NetworkPolicy whose `spec:` is on line 6 (so the spec's first
/// line is line 7).
fn policy(spec: &str) -> String {
    let mut text = String::from(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: p\n  namespace: prod\nspec:\n",
    );
    for line in spec.lines() {
        text.push_str("  ");
        text.push_str(line);
        text.push('\n');
    }
    text
}

/// An AdminNetworkPolicy `a` whose `spec:` is on line 5.
fn anp(spec: &str) -> String {
    indented(
        "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\nmetadata:\n  name: a\nspec:\n",
        spec,
    )
}

/// A Calico GlobalNetworkPolicy `a` whose `spec:` is on line 5.
fn gnp(spec: &str) -> String {
    indented("apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata:\n  name: a\nspec:\n", spec)
}

/// A ClusterNetworkPolicy `a` whose `spec:` is on line 5.
fn cnp(spec: &str) -> String {
    indented(
        "apiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\nmetadata:\n  name: a\nspec:\n",
        spec,
    )
}

/// A Calico (namespaced) NetworkPolicy `prod/a` whose `spec:` is on line 6.
fn calico_np(spec: &str) -> String {
    indented(
        "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata:\n  name: a\n  namespace: prod\nspec:\n",
        spec,
    )
}

fn indented(head: &str, spec: &str) -> String {
    let mut text = head.to_string();
    for line in spec.lines() {
        text.push_str("  ");
        text.push_str(line);
        text.push('\n');
    }
    text
}

struct Case {
    name: &'static str,
    given: String,
    /// (code, severity, line, column) of the one finding the case is about.
    want: (&'static str, Severity, u32, u32),
}

fn case(name: &'static str, given: String, want: (&'static str, Severity, u32, u32)) -> Case {
    Case { name, given, want }
}

use Severity::{Error, Note, Warning};

fn cases() -> Vec<Case> {
    let pod = |ports: &str| {
        format!("apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  namespace: prod\nspec:\n  containers:\n  - name: c\n    image: nginx\n    ports:\n{ports}")
    };
    vec![
        // Peers
        case("empty peer", policy("podSelector: {}\ningress:\n- from:\n  - {}"), ("NP0030", Error, 10, 7)),
        case(
            "ipBlock with a selector",
            policy("podSelector: {}\ningress:\n- from:\n  - ipBlock: {cidr: 10.0.0.0/8}\n    podSelector: {}"),
            ("NP0031", Error, 10, 7),
        ),
        case("invalid cidr", policy("podSelector: {}\negress:\n- to:\n  - ipBlock:\n      cidr: 10.0.0.300/8"), ("NP0032", Error, 11, 15)),
        case("cidr without prefix", policy("podSelector: {}\negress:\n- to:\n  - ipBlock:\n      cidr: 10.0.0.1"), ("NP0032", Error, 11, 15)),
        case("empty cidr", policy("podSelector: {}\negress:\n- to:\n  - ipBlock:\n      cidr: ''"), ("NP0032", Error, 11, 15)),
        case(
            "except outside cidr",
            policy("podSelector: {}\negress:\n- to:\n  - ipBlock:\n      cidr: 10.0.0.0/16\n      except: [10.1.0.0/24]"),
            ("NP0033", Error, 12, 18),
        ),
        case(
            "except equal to cidr",
            policy("podSelector: {}\negress:\n- to:\n  - ipBlock:\n      cidr: 10.0.0.0/16\n      except:\n      - 10.0.0.0/16"),
            ("NP0033", Error, 13, 11),
        ),
        case("cidr host bits", policy("podSelector: {}\negress:\n- to:\n  - ipBlock:\n      cidr: 10.0.0.5/24"), ("NP0034", Warning, 11, 15)),
        case("ipv4-mapped cidr", policy("podSelector: {}\negress:\n- to:\n  - ipBlock:\n      cidr: ::ffff:10.0.0.0/104"), ("NP0044", Warning, 11, 15)),
        // Ports
        case("port zero", policy("podSelector: {}\ningress:\n- ports:\n  - port: 0"), ("NP0035", Error, 10, 13)),
        case("port too big", policy("podSelector: {}\ningress:\n- ports:\n  - port: 65536"), ("NP0035", Error, 10, 13)),
        case("named port uppercase", policy("podSelector: {}\ningress:\n- ports:\n  - port: HTTP"), ("NP0036", Error, 10, 13)),
        case("quoted number is a name", policy("podSelector: {}\ningress:\n- ports:\n  - port: \"80\""), ("NP0036", Error, 10, 13)),
        case(
            "endPort with named port",
            policy("podSelector: {}\ningress:\n- ports:\n  - port: http\n    endPort: 90"),
            ("NP0037", Error, 11, 16),
        ),
        case("endPort without port", policy("podSelector: {}\ningress:\n- ports:\n  - endPort: 90"), ("NP0037", Error, 10, 16)),
        case(
            "endPort below port",
            policy("podSelector: {}\ningress:\n- ports:\n  - port: 90\n    endPort: 80"),
            ("NP0038", Error, 11, 16),
        ),
        case("protocol lowercase", policy("podSelector: {}\ningress:\n- ports:\n  - protocol: tcp"), ("NP0039", Error, 10, 17)),
        case("protocol icmp", policy("podSelector: {}\ningress:\n- ports:\n  - protocol: ICMP"), ("NP0039", Error, 10, 17)),
        // policyTypes
        case("policyType typo", policy("podSelector: {}\npolicyTypes: [Ingress, Egres]"), ("NP0040", Error, 8, 26)),
        case("three policyTypes", policy("podSelector: {}\npolicyTypes:\n- Ingress\n- Egress\n- Ingress"), ("NP0040", Error, 9, 5)),
        case("duplicate policyType", policy("podSelector: {}\npolicyTypes:\n- Egress\n- Egress"), ("NP0041", Warning, 10, 5)),
        // Labels and selectors
        case("label key", policy("podSelector:\n  matchLabels:\n    -bad: x"), ("NP0023", Error, 9, 7)),
        case("label key prefix", policy("podSelector:\n  matchLabels:\n    Example.com/app: x"), ("NP0023", Error, 9, 7)),
        case("label value", policy("podSelector:\n  matchLabels:\n    app: has space"), ("NP0024", Error, 9, 12)),
        case(
            "unknown operator",
            policy("podSelector:\n  matchExpressions:\n  - key: app\n    operator: in\n    values: [a]"),
            ("NP0025", Error, 10, 17),
        ),
        case(
            "In without values",
            policy("podSelector:\n  matchExpressions:\n  - key: app\n    operator: In\n    values: []"),
            ("NP0026", Error, 11, 15),
        ),
        case(
            "Exists with values",
            policy("podSelector:\n  matchExpressions:\n  - key: app\n    operator: Exists\n    values: [a]"),
            ("NP0027", Error, 11, 15),
        ),
        case(
            "selector value",
            policy("podSelector:\n  matchExpressions:\n  - key: app\n    operator: In\n    values: [\"a b\"]"),
            ("NP0024", Error, 11, 16),
        ),
        // Metadata
        case(
            "missing name",
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  namespace: prod\nspec: {podSelector: {}}\n".into(),
            ("NP0020", Error, 3, 1),
        ),
        case(
            "invalid name",
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: Deny_All\n  namespace: prod\nspec: {podSelector: {}}\n"
                .into(),
            ("NP0021", Error, 4, 9),
        ),
        case(
            "invalid namespace",
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: p\n  namespace: a.b\nspec: {podSelector: {}}\n".into(),
            ("NP0021", Error, 5, 14),
        ),
        case(
            "generateName only",
            "apiVersion: v1\nkind: Pod\nmetadata:\n  generateName: web-\n  namespace: prod\nspec:\n  containers: [{name: c, image: nginx}]\n".into(),
            ("NP0022", Warning, 4, 3),
        ),
        // Pods and Services
        case("container port range", pod("    - containerPort: 70000\n"), ("NP0035", Error, 11, 22)),
        case("container protocol", pod("    - containerPort: 80\n      protocol: HTTP\n"), ("NP0039", Error, 12, 17)),
        case(
            "duplicate container port name",
            pod("    - {containerPort: 80, name: web}\n    - {containerPort: 81, name: web}\n"),
            ("NP0042", Error, 12, 33),
        ),
        case("container port name", pod("    - {containerPort: 80, name: Web}\n"), ("NP0036", Error, 11, 33)),
        case("pod ip", format!("{}status:\n  podIP: 10.0.0.256\n", pod("    - containerPort: 80\n")), ("NP0043", Error, 13, 10)),
        // Container images (one case per example file NP0045-*.yaml)
        case(
            "container without image",
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  namespace: prod\nspec:\n  containers:\n  - name: c\n    ports:\n    - containerPort: 80\n".into(),
            ("NP0045", Error, 8, 5),
        ),
        case(
            "empty image",
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  namespace: prod\nspec:\n  containers:\n  - name: c\n    image: \"\"\n".into(),
            ("NP0045", Error, 9, 12),
        ),
        case(
            "image whitespace",
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  namespace: prod\nspec:\n  containers:\n  - name: c\n    image: \"nginx \"\n".into(),
            ("NP0045", Error, 9, 12),
        ),
        case(
            "deployment without image",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: prod\nspec:\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n      - name: c\n".into(),
            ("NP0045", Error, 14, 9),
        ),
        case(
            "cronjob init container without image",
            "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: backup\n  namespace: prod\nspec:\n  schedule: \"0 3 * * *\"\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          restartPolicy: OnFailure\n          initContainers:\n          - name: wait\n          containers:\n          - name: backup\n            image: busybox\n".into(),
            ("NP0045", Error, 14, 13),
        ),
        case(
            "service name",
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: 1web\n  namespace: prod\nspec:\n  ports: [{port: 80}]\n".into(),
            ("NP0021", Error, 4, 9),
        ),
        // Documents and kinds
        case("yaml syntax", "kind: [Pod\n".into(), ("NP0001", Error, 1, 7)),
        case("not an object", "- a\n- b\n".into(), ("NP0002", Error, 1, 1)),
        case("missing apiVersion", "kind: Namespace\nmetadata: {name: a}\n".into(), ("NP0003", Error, 1, 1)),
        case("missing kind", "apiVersion: v1\nmetadata: {name: a}\n".into(), ("NP0004", Error, 1, 1)),
        case(
            "extensions/v1beta1 policy",
            policy("podSelector: {}").replace("networking.k8s.io/v1", "extensions/v1beta1"),
            ("NP0005", Error, 1, 13),
        ),
        case("kind case", "apiVersion: v1\nkind: namespace\nmetadata: {name: a}\n".into(), ("NP0006", Error, 2, 7)),
        case("calico profile", "apiVersion: v1\nkind: profile\nmetadata: {name: a}\n".into(), ("NP0007", Warning, 2, 7)),
        // Ordered policies
        case("priority out of range", anp("priority: 1001\nsubject: {namespaces: {}}"), ("NP0060", Error, 6, 13)),
        case("subject sets nothing", anp("priority: 1\nsubject: {}"), ("NP0061", Error, 7, 12)),
        case(
            "Accept in an AdminNetworkPolicy",
            anp("priority: 1\nsubject: {namespaces: {}}\ningress:\n- action: Accept\n  from: [{namespaces: {}}]"),
            ("NP0062", Error, 9, 13),
        ),
        case("selector points inside", gnp("order: 1\nselector: app == web"), ("NP0063", Error, 7, 20)),
        case("quoted selector points inside", gnp("order: 1\nselector: \"app == web\""), ("NP0063", Error, 7, 21)),
        case("single-quoted selector points inside", gnp("order: 1\nselector: 'app == web'"), ("NP0063", Error, 7, 21)),
        case("calico policy in an undeclared tier", gnp("order: 1\ntier: security"), ("NP0062", Error, 1, 1)),
        case(
            "serviceAccountSelector points inside",
            gnp("order: 1\nserviceAccountSelector: team == a"),
            ("NP0063", Error, 7, 35),
        ),
        case(
            "serviceAccounts selector points inside",
            gnp("order: 1\ningress:\n- action: Allow\n  source:\n    serviceAccounts: {selector: team = 'a'}"),
            ("NP0063", Error, 10, 40),
        ),
        case(
            "serviceAccounts names misspelt",
            gnp("order: 1\ningress:\n- action: Allow\n  source:\n    serviceAccounts: {name: [a]}"),
            ("NP0010", Error, 10, 25),
        ),
        case(
            "matching by services refused",
            gnp("order: 1\ningress:\n- action: Allow\n  source:\n    services: {name: x}"),
            ("NP0064", Error, 10, 17),
        ),
        case(
            "http matching refused",
            gnp("order: 1\ningress:\n- action: Allow\n  http: {methods: [GET]}"),
            ("NP0064", Error, 9, 11),
        ),
        case("no order", gnp("selector: all()"), ("NP0065", Warning, 5, 1)),
        case("doNotTrack", gnp("order: 1\ndoNotTrack: true"), ("NP0066", Warning, 5, 1)),
        case(
            "same priority",
            format!("{}---\n{}", anp("priority: 5\nsubject: {namespaces: {}}\negress: [{action: Deny, to: [{namespaces: {}}]}]"), anp("priority: 5\nsubject: {namespaces: {}}\negress: [{action: Deny, to: [{namespaces: {}}]}]").replace("name: a", "name: b")),
            ("NP0067", Warning, 10, 1),
        ),
        case("calico v1 policy", "apiVersion: v1\nkind: policy\nmetadata: {name: a}\nspec: {order: 1}\n".into(), ("NP0068", Note, 2, 7)),
        case(
            "undeclared service account",
            format!(
                "apiVersion: v1\nkind: Pod\nmetadata: {{name: p, namespace: default}}\nspec:\n  serviceAccountName: api\n  containers: [{{name: c, image: i}}]\n---\n{}",
                gnp("order: 1\nserviceAccountSelector: team == 'a'")
            ),
            ("NP0070", Warning, 1, 1),
        ),
        case(
            "empty ports",
            anp("priority: 1\nsubject: {namespaces: {}}\ningress:\n- action: Allow\n  from: [{namespaces: {}}]\n  ports: []"),
            ("NP0069", Error, 11, 12),
        ),
        case(
            "empty protocols",
            cnp("tier: Admin\npriority: 1\nsubject: {namespaces: {}}\negress:\n- action: Accept\n  to: [{namespaces: {}}]\n  protocols: []"),
            ("NP0069", Error, 12, 16),
        ),
        case(
            "empty networks",
            anp("priority: 1\nsubject: {namespaces: {}}\negress:\n- action: Allow\n  to: [{networks: []}]"),
            ("NP0069", Error, 10, 21),
        ),
        case(
            "a bare address in networks",
            anp("priority: 1\nsubject: {namespaces: {}}\negress:\n- action: Allow\n  to: [{networks: [10.0.0.1]}]"),
            ("NP0032", Error, 10, 22),
        ),
        case(
            "namespaceSelector in a namespaced Calico policy",
            calico_np("order: 1\nnamespaceSelector: all()"),
            ("NP0010", Error, 8, 3),
        ),
        case(
            "v1 net in a v3 policy",
            gnp("order: 1\negress:\n- action: Deny\n  destination: {net: 8.8.8.8/32}"),
            ("NP0010", Error, 9, 19),
        ),
        case("configmap", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n".into(), ("NP0008", Note, 2, 7)),
        case("unknown field", policy("podSelector: {}\npodselector: {}"), ("NP0010", Error, 8, 3)),
        case("duplicate field", policy("podSelector: {}\npolicyTypes: [Ingress]\npolicyTypes: [Egress]"), ("NP0011", Error, 9, 3)),
        case(
            "label value not a string",
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n  labels:\n    enabled: true\n".into(),
            ("NP0012", Error, 6, 14),
        ),
        case("podSelector null", policy("podSelector:\npolicyTypes: [Ingress]"), ("NP0050", Warning, 7, 3)),
        case(
            "policy without namespace",
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: p\nspec: {podSelector: {}}\n".into(),
            ("NP0051", Warning, 3, 1),
        ),
        case("implicit namespace", policy("podSelector: {}"), ("NP0052", Warning, 5, 14)),
        case(
            "duplicate object",
            format!("{}---\n{}", policy("podSelector: {}"), policy("podSelector: {}")),
            ("NP0053", Warning, 9, 1),
        ),
        case(
            "dns blocked",
            format!(
                "{}---\n{}",
                policy("podSelector: {}\npolicyTypes: [Egress]"),
                "apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: prod}\nspec: {containers: [{name: c, image: nginx}]}\n"
            ),
            ("NP0054", Warning, 1, 1),
        ),
    ]
}

#[test]
fn every_rule_at_its_position() {
    let mut failures = Vec::new();
    for Case { name, given, want } in cases() {
        let loaded = load([("t.yaml", given.as_str())], &LoadOptions::default());
        let found = loaded.diagnostics.iter().find(|d| d.code == want.0);
        match found {
            Some(d) if (d.severity, d.line, d.column) == (want.1, want.2, want.3) => {}
            _ => failures.push(format!(
                "{name}: want {} {:?} at {}:{}, got:\n{}",
                want.0,
                want.1,
                want.2,
                want.3,
                loaded.diagnostics.iter().map(|d| format!("    {d}\n")).collect::<String>()
            )),
        }
    }
    assert!(failures.is_empty(), "{} cases failed:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn every_code_has_a_case() {
    let covered: std::collections::HashSet<&str> = cases().iter().map(|c| c.want.0).collect();
    let missing: Vec<&str> = netpol_manifest::codes().iter().map(|c| c.code).filter(|c| !covered.contains(c)).collect();
    assert!(missing.is_empty(), "codes without a test case: {missing:?}");
}

#[test]
fn errors_reject_the_object_and_every_finding_is_collected() {
    let text = policy(
        "podSelector:\n  matchLabels: {-bad: x}\npolicyTypes: [Ingres]\ningress:\n- from:\n  - {}\n  ports:\n  - port: 0\n    protocol: tcp",
    );
    let loaded = load([("t.yaml", text.as_str())], &LoadOptions::default());
    let codes: Vec<&str> = loaded.errors().map(|d| d.code).collect();
    assert_eq!(codes, ["NP0023", "NP0040", "NP0030", "NP0035", "NP0039"]);
    assert!(loaded.cluster.policies.is_empty());
}

/// Fields the ordered kinds' APIs have and netpol does not read are no findings:
/// `status` (as `kubectl get -o yaml` prints it), Calico's `performanceHints`,
/// and a refused field (`http`) is refused once, not also called unknown.
#[test]
fn fields_the_api_has_are_known_even_when_unread() {
    let status = "status:\n  conditions:\n  - {type: Ready, status: \"True\", reason: x}\n";
    let anp = format!("{}{status}", anp("priority: 1\nsubject: {namespaces: {}}"));
    let cnp = format!("{}{status}", cnp("tier: Admin\npriority: 1\nsubject: {namespaces: {}}"));
    let tier = "apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {name: sec}\nspec: {order: 10}\nstatus: {}\n";
    let hints = gnp("order: 1\nperformanceHints: [AssumeNeededOnEveryNode]");
    for (name, text) in [("anp", anp.as_str()), ("cnp", &cnp), ("tier", tier), ("gnp", &hints)] {
        let loaded = load([("t.yaml", text)], &LoadOptions::default());
        assert!(loaded.diagnostics.is_empty(), "{name}: {:?}", loaded.diagnostics);
    }
    let http = gnp("order: 1\ningress:\n- action: Allow\n  http: {methods: [GET]}");
    let loaded = load([("t.yaml", http.as_str())], &LoadOptions::default());
    let codes: Vec<&str> = loaded.errors().map(|d| d.code).collect();
    assert_eq!(codes, ["NP0064"], "{:?}", loaded.diagnostics);
}

/// A peer that sets nothing is one error (NP0061), not also an empty `domainNames` it never wrote.
#[test]
fn an_empty_peer_is_one_finding() {
    let text = anp("priority: 1\nsubject: {namespaces: {}}\negress:\n- action: Deny\n  to: [{}]");
    let loaded = load([("t.yaml", text.as_str())], &LoadOptions::default());
    let codes: Vec<&str> = loaded.errors().map(|d| d.code).collect();
    assert_eq!(codes, ["NP0061"], "{:?}", loaded.diagnostics);
}

/// UDPLite has ports in Calico (`SupportsPorts`): they are checked, accepted,
/// and the rule matches no flow netpol evaluates; a bad port still is an error.
#[test]
fn udplite_rules_may_have_ports() {
    let ok = gnp("order: 1\ningress:\n- action: Allow\n  protocol: UDPLite\n  destination: {ports: [53, '1000:2000']}");
    let loaded = load([("t.yaml", ok.as_str())], &LoadOptions::default());
    assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
    let rule = &loaded.cluster.tiered[0].ingress[0];
    assert!(
        rule.ports.is_empty() && matches!(&rule.protocol, Some(netpol_model::RuleProtocol::Other(p)) if p == "UDPLite")
    );
    let bad = gnp("order: 1\ningress:\n- action: Allow\n  protocol: UDPLite\n  destination: {ports: [0]}");
    let loaded = load([("t.yaml", bad.as_str())], &LoadOptions::default());
    let codes: Vec<&str> = loaded.errors().map(|d| d.code).collect();
    assert_eq!(codes, ["NP0035"], "{:?}", loaded.diagnostics);
    let icmp = gnp("order: 1\ningress:\n- action: Allow\n  protocol: ICMP\n  destination: {ports: [53]}");
    let loaded = load([("t.yaml", icmp.as_str())], &LoadOptions::default());
    let codes: Vec<&str> = loaded.errors().map(|d| d.code).collect();
    assert_eq!(codes, ["NP0039"], "{:?}", loaded.diagnostics);
}
