//! `netpol-graph`: snapshots of the DOT and Mermaid a person reads (a small
//! example and seed 000's last step), the explanations, and the graph against
//! its sources: every edge is the matrix's connections (pods) or the engine's
//! (addresses), and every explanation allows exactly the edge's ports.

use netpol_engine::{Endpoint, Engine};
use netpol_graph::{dot, explain_edge, explain_text, mermaid, port_filter, Graph, Options, What};
use netpol_matrix::Compiled;
use netpol_model::{Cluster, Direction, PortSet, Protocol, WorkloadKind};
use netpol_testkit::scenarios::{seed_000_step, SEED_000};
use netpol_testkit::*;

/// A step of the seed 000 walkthrough, loaded strictly, with file names as the
/// CLI shows them when run from the repository's root.
fn seed_000(dir: &str) -> Cluster {
    let folder = seed_000_step(dir);
    let mut files: Vec<_> = std::fs::read_dir(&folder)
        .unwrap_or_else(|e| panic!("{}: {e}", folder.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
        .collect();
    files.sort();
    let sources: Vec<(String, String)> = files
        .iter()
        .map(|path| {
            let name = format!("examples/seed-000-walkthrough/{dir}/{}", path.file_name().unwrap().to_string_lossy());
            (name, std::fs::read_to_string(path).unwrap())
        })
        .collect();
    let loaded = netpol_manifest::load(
        sources.iter().map(|(n, t)| (n.as_str(), t.as_str())),
        &netpol_manifest::LoadOptions::default(),
    );
    assert!(!loaded.has_errors(), "{dir}: {:?}", loaded.diagnostics);
    loaded.cluster
}

const STEP_10: &str = "step-10-default-labelled";

/// A shop: two web replicas (one node), a database admitting them on its named
/// port, an API Deployment, monitoring in another namespace, a hostNetwork
/// agent on the database's node, and ipBlocks both ways.
fn shop() -> Cluster {
    cluster()
        .namespace(namespace("shop").label("team", "shop"))
        .namespace(namespace("mon").label("team", "mon"))
        .pod(pod("shop", "web-0").label("app", "web").ip("10.0.1.1").node("n1"))
        .pod(pod("shop", "web-1").label("app", "web").ip("10.0.1.2").node("n2"))
        .pod(pod("shop", "db-0").label("app", "db").ip("10.0.1.3").port("pg", 5432, Protocol::Tcp).node("n1"))
        .pod(pod("shop", "api").label("app", "api").workload(WorkloadKind::Deployment))
        .pod(pod("mon", "prometheus").label("app", "prometheus").ip("10.0.2.1").node("n2"))
        .pod(pod("mon", "node-agent").label("app", "agent").ip("192.168.0.11").host_network().node("n1"))
        .policy(
            policy("shop", "db")
                .select(sel!("app" => "db"))
                .types([Direction::Ingress])
                .ingress(rule().from(pods(sel!("app" => "web"))).port(named_port("pg", Protocol::Tcp))),
        )
        .policy(
            policy("shop", "web")
                .select(sel!("app" => "web"))
                .types([Direction::Ingress, Direction::Egress])
                .ingress(rule().from(ip_block("0.0.0.0/0", &["10.0.0.0/8"])).port(port_range(
                    Protocol::Tcp,
                    8000,
                    8080,
                )))
                .ingress(rule().from(namespaces(sel!("team" => "mon"))).port(tcp(9090)))
                .ingress(rule().from(pods(sel!("app" => "web"))).port(tcp(7946)).port(udp(7946)))
                .egress(rule().to(pods(sel!("app" => "db"))))
                .egress(rule().to(pods(sel!("app" => "web"))).port(tcp(7946)).port(udp(7946)))
                .egress(rule().to(ip_block("203.0.113.0/24", &["203.0.113.128/25"])).port(tcp(443)))
                .egress(rule().port(udp(53)).port(tcp(53))),
        )
        .policy(policy("shop", "api").select(sel!("app" => "api")).types([Direction::Egress]))
        .build()
}

#[test]
fn shop_dot_and_mermaid() {
    let graph = Graph::build(&shop(), Options::default());
    insta::assert_snapshot!("shop_dot", dot(&graph, false));
    insta::assert_snapshot!("shop_mermaid", mermaid(&graph));
}

#[test]
fn shop_on_one_port() {
    let graph = Graph::build(&shop(), Options { port: Some(5432), ..Options::default() });
    insta::assert_snapshot!("shop_dot_port_5432", dot(&graph, false));
}

#[test]
fn seed_000_step_10_dot_and_mermaid() {
    let graph = Graph::build(&seed_000(STEP_10), Options::default());
    insta::assert_snapshot!("seed_000_step_10_dot", dot(&graph, false));
    insta::assert_snapshot!("seed_000_step_10_mermaid", mermaid(&graph));
}

#[test]
fn seed_000_step_10_explanations() {
    let cluster = seed_000(STEP_10);
    let graph = Graph::build(&cluster, Options::default());
    let engine = Engine::new(&cluster, netpol_engine::Options::default());
    let text: Vec<String> = graph.edges.iter().map(|e| explain_text(&graph, &engine, e)).collect();
    // backend -> cassandra: allowed by backend's egress to ns=cassandra and
    // cassandra's ingress from ns=default, each with its file and line.
    let backend_cassandra = graph
        .edges
        .iter()
        .position(|e| {
            graph.nodes[e.from].key() == "default/backend" && graph.nodes[e.to].key() == "cassandra/cassandra"
        })
        .expect("backend reaches cassandra at step 10");
    insta::assert_snapshot!("seed_000_step_10_backend_cassandra", text[backend_cassandra]);
    let all = text.join("\n");
    assert!(all.contains("step-10-default-labelled/backend.yaml:19:5"), "{all}");
    assert!(all.contains("step-10-default-labelled/cassandra.yaml:13:5"), "{all}");
}

/// Every edge against its source, for every pair of pods and every address region;
/// and every explanation is ALLOWED, and their ports add up to the edge's.
fn check_against_sources(cluster: &Cluster, options: Options) {
    let graph = Graph::build(cluster, options);
    let compiled =
        Compiled::build(cluster, netpol_matrix::Options { ipblock_matches_pods: !options.ipblock_ignores_pods });
    let engine = Engine::new(cluster, netpol_engine::Options { ipblock_matches_pods: !options.ipblock_ignores_pods });
    let keep = port_filter(options.port);
    let node_of = |key: &str| graph.nodes.iter().position(|n| n.pods().iter().any(|p| p == key)).expect("a node");
    let edge = |from: usize, to: usize| {
        graph
            .edges
            .iter()
            .find(|e| e.from == from && e.to == to && !e.own_node)
            .map_or(PortSet::none(), |e| e.ports.clone())
    };
    let pods: Vec<_> = compiled.pods().map(|(id, p)| (id, p.key().to_string(), p.clone())).collect();
    for (a, ka, pa) in &pods {
        for (b, kb, pb) in &pods {
            if a == b {
                continue;
            }
            let own_node = pa.host_network && pa.node.is_some() && !pb.host_network && pa.node == pb.node;
            let want = if own_node {
                // The class verdict; the own-node edge adds the rest.
                compiled.class_connections(compiled.class_of(*a).unwrap(), compiled.class_of(*b).unwrap())
            } else {
                compiled.connections(*a, *b)
            };
            assert_eq!(edge(node_of(ka), node_of(kb)), want.intersection(&keep), "{ka} -> {kb}");
            if own_node && !want.intersection(&keep).eq(&keep) {
                assert!(graph.edges.iter().any(|e| e.own_node && e.from == node_of(ka) && e.to == node_of(kb)));
            }
        }
        for (n, node) in graph.nodes.iter().enumerate() {
            let What::External(region) = &node.what else { continue };
            let (pod, ip) = (Endpoint::Pod(pa.key()), Endpoint::Ip(region.example));
            let out = engine.allowed_connections(&pod, &ip).unwrap().intersection(&keep);
            let back = engine.allowed_connections(&ip, &pod).unwrap().intersection(&keep);
            assert_eq!(edge(node_of(ka), n), out, "{ka} -> {region}");
            assert_eq!(edge(n, node_of(ka)), back, "{region} -> {ka}");
        }
    }
    for e in &graph.edges {
        let parts = explain_edge(&engine, e);
        let mut ports = PortSet::none();
        for part in &parts {
            assert!(part.decision.allowed(), "{}: {:?}", e.id, part.decision);
            ports.union_with(&part.ports);
        }
        assert_eq!(ports, e.ports, "{}: the explanations cover the edge's ports", e.id);
    }
}

#[test]
fn every_edge_is_the_matrix_or_the_engine() {
    for step in SEED_000 {
        check_against_sources(&seed_000(step.dir), Options::default());
    }
    check_against_sources(&shop(), Options::default());
    check_against_sources(&shop(), Options { ipblock_ignores_pods: true, ..Options::default() });
    for port in [53, 443, 5432, 8000, 8081, 9090] {
        check_against_sources(&shop(), Options { port: Some(port), ..Options::default() });
    }
}

#[test]
fn a_synthetic_cluster_matches_the_matrix() {
    let cluster = netpol_synth::generate(&netpol_synth::Spec { namespaces: 3, pods: 24, policies: 8, seed: 4 });
    check_against_sources(&cluster, Options::default());
    let graph = Graph::build(&cluster, Options::default());
    assert!(graph.nodes.len() < cluster.pods.len(), "replicas share a node");
}

#[test]
fn isolation_is_shown_on_the_node() {
    let graph = Graph::build(&shop(), Options::default());
    let style = |key: &str| graph.nodes.iter().find(|n| n.key() == key).map(|n| n.style()).expect(key);
    assert_eq!(style("shop/web-0"), "isolated-both");
    assert_eq!(style("shop/db-0"), "isolated-ingress");
    assert_eq!(style("shop/api"), "isolated-egress");
    assert_eq!(style("mon/prometheus"), "not-isolated");
    assert_eq!(style("mon/node-agent"), "host-network");
    assert_eq!(style("203.0.113.0/24 except 203.0.113.128/25"), "external");
}

#[test]
fn html_page_is_self_contained_and_escapes_its_input() {
    let mut cluster = seed_000(STEP_10);
    // A file name that tries to end the script element and open a tag.
    let hostile = |origin: &mut Option<netpol_model::Origin>| {
        if let Some(origin) = origin {
            origin.file = format!("</script><b>{}", origin.file).into();
        }
    };
    for policy in &mut cluster.policies {
        hostile(&mut policy.origin);
        policy.ingress.iter_mut().chain(policy.egress.iter_mut()).for_each(|rule| hostile(&mut rule.origin));
    }
    let graph = Graph::build(&cluster, Options::default());
    let engine = Engine::new(&cluster, netpol_engine::Options::default());
    let explanations: Vec<String> = graph.edges.iter().map(|e| explain_text(&graph, &engine, e)).collect();
    let svg = "<?xml version=\"1.0\"?>\n<!DOCTYPE svg>\n<svg xmlns=\"http://www.w3.org/2000/svg\"><g id=\"edge-0\" class=\"edge\"></g></svg>\n";
    let page = netpol_graph::html(&graph, svg, &explanations);
    assert!(page.starts_with("<!DOCTYPE html>"), "{page}");
    assert!(!page.contains("<?xml") && !page.contains("<!DOCTYPE svg"), "the SVG is inlined without its prolog");
    for fetch in ["<link", " src=", "href=\"http", "url(", "import "] {
        assert!(!page.contains(fetch), "nothing is fetched: {fetch}");
    }
    assert_eq!(page.matches("</script>").count(), 2, "the input cannot end a script element");
    assert!(!page.contains("<b>"), "the input is escaped");
    for edge in &graph.edges {
        assert!(
            page.contains(&format!("<article class=\"explanation\" id=\"explain-{0}\" data-edge=\"{0}\">", edge.id))
        );
        assert!(page.contains(&format!("<a href=\"#explain-{0}\" data-edge=\"{0}\">", edge.id)));
    }
    assert!(page
        .contains("&lt;/script&gt;&lt;b&gt;examples/seed-000-walkthrough/step-10-default-labelled/backend.yaml:19:5"));
}
