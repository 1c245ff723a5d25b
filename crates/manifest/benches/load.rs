//! Loading at scale: a seeded cluster of P pods (10% of them Deployments) and K
//! policies in 20 namespaces, as one multi-document YAML stream per kind.
//! Run: `cargo bench -p netpol-manifest --bench load`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use netpol_manifest::{load, LoadOptions};

/// A small deterministic generator (xorshift), so every run loads the same text.
struct Rng(u64);

impl Rng {
    fn next(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn cluster(pods: usize, policies: usize) -> Vec<(String, String)> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut ns = String::new();
    for n in 0..20 {
        ns.push_str(&format!(
            "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: ns-{n}\n  labels: {{team: t{}, env: e{}}}\n",
            n % 5,
            n % 3
        ));
    }
    let mut pod_text = String::new();
    for i in 0..pods {
        let n = rng.next(20);
        let app = rng.next(50);
        if i % 10 == 0 {
            pod_text.push_str(&format!(
                "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: dep-{i}, namespace: ns-{n}}}\nspec:\n  selector: {{matchLabels: {{app: a{app}}}}}\n  template:\n    metadata: {{labels: {{app: a{app}, tier: t{}}}}}\n    spec:\n      containers:\n      - name: c\n        image: nginx\n        ports:\n        - {{name: http, containerPort: 8080}}\n",
                rng.next(4)
            ));
        } else {
            pod_text.push_str(&format!(
                "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: pod-{i}\n  namespace: ns-{n}\n  labels:\n    app: a{app}\n    tier: t{}\nspec:\n  nodeName: node-{}\n  containers:\n  - name: c\n    image: nginx\n    ports:\n    - name: http\n      containerPort: 8080\n    - name: dns\n      containerPort: 53\n      protocol: UDP\nstatus:\n  podIP: 10.{}.{}.{}\n",
                rng.next(4), rng.next(10), i / 65536 % 256, i / 256 % 256, i % 256
            ));
        }
    }
    let mut pol = String::new();
    for i in 0..policies {
        let n = rng.next(20);
        pol.push_str(&format!(
            "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: pol-{i}, namespace: ns-{n}}}\nspec:\n  podSelector:\n    matchLabels: {{app: a{}}}\n  policyTypes: [Ingress, Egress]\n  ingress:\n  - from:\n    - namespaceSelector: {{matchLabels: {{team: t{}}}}}\n      podSelector:\n        matchExpressions:\n        - {{key: tier, operator: In, values: [t0, t1]}}\n    - ipBlock: {{cidr: 10.0.0.0/8, except: [10.1.0.0/16]}}\n    ports:\n    - {{port: 8000, endPort: 8080}}\n    - {{port: http}}\n  egress:\n  - to:\n    - podSelector: {{matchLabels: {{app: a{}}}}}\n    ports: [{{port: 53, protocol: UDP}}]\n",
            rng.next(50), rng.next(5), rng.next(50)
        ));
    }
    vec![("namespaces.yaml".into(), ns), ("pods.yaml".into(), pod_text), ("policies.yaml".into(), pol)]
}

fn bench(c: &mut Criterion) {
    for (pods, policies) in [(1_000, 100), (10_000, 1_000)] {
        let files = cluster(pods, policies);
        let bytes: usize = files.iter().map(|(_, t)| t.len()).sum();
        let loaded = load(files.iter().map(|(n, t)| (n.as_str(), t.as_str())), &LoadOptions::default());
        assert!(!loaded.has_errors(), "{}", loaded.diagnostics[0]);
        assert_eq!(loaded.cluster.pods.len(), pods);
        let mut group = c.benchmark_group("manifest/load");
        group.sample_size(10);
        group.throughput(Throughput::Bytes(bytes as u64));
        group.bench_function(format!("pods={pods},policies={policies}"), |b| {
            b.iter(|| load(files.iter().map(|(n, t)| (n.as_str(), t.as_str())), &LoadOptions::default()))
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
