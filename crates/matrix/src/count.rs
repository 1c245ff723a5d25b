//! Counting allowed pairs without a classes x classes matrix: destination
//! classes are taken a tile at a time (`TILE_WORDS` x 64 of them). For a tile,
//! the ingress rows of its classes are built and transposed (64x64 blocks), so
//! each source class has a bitset over the tile's destinations; the source's
//! egress row is computed for the tile's words only, ANDed with it, and the
//! result weighed by class sizes. Memory is two tiles (`classes x TILE_WORDS`
//! words each) whatever the class count; the work is the full matrix's.

use std::collections::HashMap;

use netpol_model::Protocol;

use crate::bitset::transpose64;
use crate::compile::Compiled;

/// Destination words (64 classes each) per tile: 4,096 classes, so a tile of
/// 30,000 source classes is about 15 MB.
const TILE_WORDS: usize = 64;

impl Compiled {
    /// Ordered pairs of distinct pods allowed on (protocol, port): the same
    /// count as `allowed_pairs_in(&port_table(protocol, port))`, in memory
    /// proportional to the classes, not their square. With ordered policies the
    /// count goes through the port table.
    pub fn allowed_pairs(&self, protocol: Protocol, port: u16) -> u64 {
        if self.tiers.is_some() {
            return self.allowed_pairs_in(&self.port_table(protocol, port));
        }
        self.allowed_pairs_tiled(protocol, port, TILE_WORDS)
    }

    pub(crate) fn allowed_pairs_tiled(&self, protocol: Protocol, port: u16, tile_words: usize) -> u64 {
        let n = self.classes.len();
        let words = n.div_ceil(64);
        let sizes: Vec<u64> = (0..n).map(|c| self.classes[c].as_ref().map_or(0, |c| c.size as u64)).collect();
        let mut named = HashMap::new();
        let mut total = 0u64;
        let tile_words = tile_words.max(1);
        let mut egress = vec![0u64; tile_words];
        // `by_source[s * width + k]`: the tile's destinations `64 * (lo + k)..`
        // that let source `s` in (one buffer for every tile).
        let mut by_source = vec![0u64; n.max(1) * tile_words];
        let mut block = [0u64; 64];
        for lo in (0..words).step_by(tile_words) {
            let hi = (lo + tile_words).min(words);
            let width = hi - lo;
            // Ingress rows of the tile's destinations, then by source.
            let rows: Vec<Option<crate::Bitset>> = (lo * 64..(hi * 64).min(n))
                .map(|d| self.classes[d].as_ref().map(|_| self.ingress_row(d, protocol, port)))
                .collect();
            by_source.fill(0);
            for k in 0..width {
                for sw in 0..words {
                    for (i, slot) in block.iter_mut().enumerate() {
                        *slot = rows
                            .get(k * 64 + i)
                            .and_then(|r| r.as_ref())
                            .map_or(0, |r| r.words().get(sw).copied().unwrap_or(0));
                    }
                    if block.iter().all(|w| *w == 0) {
                        continue;
                    }
                    transpose64(&mut block);
                    for (i, w) in block.iter().enumerate() {
                        let s = sw * 64 + i;
                        if s < n {
                            by_source[s * width + k] = *w;
                        }
                    }
                }
            }
            drop(rows);
            for s in 0..n {
                if sizes[s] == 0 {
                    continue;
                }
                let out = &mut egress[..width];
                self.egress_words(s, protocol, port, &mut named, lo..hi, out);
                let mut reach = 0u64;
                for (k, (e, i)) in out.iter().zip(&by_source[s * width..(s + 1) * width]).enumerate() {
                    let mut w = e & i;
                    while w != 0 {
                        let d = (lo + k) * 64 + w.trailing_zeros() as usize;
                        // A pod and itself is not a pair.
                        reach += sizes[d] - u64::from(d == s);
                        w &= w - 1;
                    }
                }
                total += sizes[s] * reach;
            }
        }
        // hostNetwork pods reach the pods of their own node whatever the policies say.
        for (h, pods) in self.own_node_pairs() {
            let hc = self.class_of(h).expect("live pod");
            total += pods
                .iter()
                .filter(|&&p| !self.class_pair_allowed(hc, self.class_of(p).expect("live pod"), protocol, port))
                .count() as u64;
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use netpol_synth::{generate_shaped, Shape, Spec};

    use super::*;
    use crate::compile::Options;

    /// Tiles of one word, three words and the default give the port table's count,
    /// on the realistic shape with hostNetwork pods on some nodes.
    #[test]
    fn tiles_count_what_the_port_table_counts() {
        let mut cluster =
            generate_shaped(&Spec { namespaces: 12, pods: 3000, policies: 300, seed: 7 }, &Shape::realistic());
        for pod in cluster.pods.iter_mut().step_by(97) {
            pod.host_network = true;
        }
        let compiled = Compiled::build(&cluster, Options::default());
        assert!(compiled.classes() > 3 * 64, "{} classes: too few for several tiles", compiled.classes());
        let probes = [
            (Protocol::Tcp, 80),
            (Protocol::Tcp, 8080),
            (Protocol::Tcp, 5432),
            (Protocol::Udp, 53),
            (Protocol::Tcp, 9100),
        ];
        let mut some_allowed = false;
        for (protocol, port) in probes {
            let want = compiled.allowed_pairs_in(&compiled.port_table(protocol, port));
            some_allowed |= want > 0;
            for tile_words in [1, 3, TILE_WORDS] {
                assert_eq!(
                    compiled.allowed_pairs_tiled(protocol, port, tile_words),
                    want,
                    "{port}/{protocol} tile {tile_words}"
                );
            }
            assert_eq!(compiled.allowed_pairs(protocol, port), want);
        }
        assert!(some_allowed);
    }

    /// Classes created by changes after the build make the classes outgrow the
    /// atoms' bitsets (a class an atom does not select does not grow it): the
    /// counts must read missing words as empty, and equal a rebuild's.
    #[test]
    fn counts_after_changes_past_a_word_boundary_equal_a_rebuild() {
        let mut cluster =
            generate_shaped(&Spec { namespaces: 6, pods: 600, policies: 60, seed: 3 }, &Shape::realistic());
        let mut compiled = Compiled::build(&cluster, Options::default());
        let before = compiled.classes();
        // Copies of existing pods with a `version` no selector names: a new class
        // each, still selected by the selectors on other keys.
        for i in 0..(64 + before % 64) {
            let mut pod = cluster.pods[i * 7 % cluster.pods.len()].clone();
            pod.name = format!("{}-copy-{i}", pod.name);
            pod.labels.insert("version", format!("v-copy-{i}"));
            cluster.pods.push(pod.clone());
            compiled.apply(crate::Change::UpsertPod(pod)).unwrap();
        }
        assert!(compiled.classes().div_ceil(64) > before.div_ceil(64), "{before} -> {} classes", compiled.classes());
        let rebuilt = Compiled::build(&cluster, Options::default());
        for (protocol, port) in
            [(Protocol::Tcp, 8080), (Protocol::Tcp, 5432), (Protocol::Tcp, 6379), (Protocol::Udp, 53)]
        {
            let want = rebuilt.allowed_pairs(protocol, port);
            assert_eq!(compiled.allowed_pairs(protocol, port), want, "{port}/{protocol}");
            assert_eq!(
                compiled.allowed_pairs_in(&compiled.port_table(protocol, port)),
                want,
                "{port}/{protocol} table"
            );
        }
    }
}
