//! Fixed-width bitsets over class indices, and square bit matrices built from them.

/// A set of small integers (class indices) as 64-bit words.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bitset {
    words: Vec<u64>,
}

impl Bitset {
    /// An empty set able to hold `0..len` without growing.
    pub fn with_len(len: usize) -> Self {
        Bitset { words: vec![0; len.div_ceil(64)] }
    }

    /// The set `0..len`.
    pub fn full(len: usize) -> Self {
        let mut b = Bitset::with_len(len);
        for w in &mut b.words {
            *w = u64::MAX;
        }
        if !len.is_multiple_of(64) {
            if let Some(last) = b.words.last_mut() {
                *last = (1u64 << (len % 64)) - 1;
            }
        }
        b
    }

    pub fn contains(&self, i: usize) -> bool {
        self.words.get(i / 64).is_some_and(|w| w & (1 << (i % 64)) != 0)
    }

    pub fn set(&mut self, i: usize, on: bool) {
        let w = i / 64;
        if w >= self.words.len() {
            if !on {
                return;
            }
            self.words.resize(w + 1, 0);
        }
        if on {
            self.words[w] |= 1 << (i % 64);
        } else {
            self.words[w] &= !(1 << (i % 64));
        }
    }

    pub fn is_empty(&self) -> bool {
        self.words.iter().all(|w| *w == 0)
    }

    pub fn len(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// `self |= other`.
    pub fn union_with(&mut self, other: &Bitset) {
        if other.words.len() > self.words.len() {
            self.words.resize(other.words.len(), 0);
        }
        for (a, b) in self.words.iter_mut().zip(&other.words) {
            *a |= b;
        }
    }

    /// `self |= a & b`.
    pub fn union_with_and(&mut self, a: &Bitset, b: &Bitset) {
        let n = a.words.len().min(b.words.len());
        if n > self.words.len() {
            self.words.resize(n, 0);
        }
        for i in 0..n {
            self.words[i] |= a.words[i] & b.words[i];
        }
    }

    /// `self &= other`.
    pub fn intersect_with(&mut self, other: &Bitset) {
        for (i, a) in self.words.iter_mut().enumerate() {
            *a &= other.words.get(i).copied().unwrap_or(0);
        }
    }

    /// `self &= !other`.
    pub fn difference_with(&mut self, other: &Bitset) {
        for (a, b) in self.words.iter_mut().zip(&other.words) {
            *a &= !b;
        }
    }

    /// The members, ascending.
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.words.iter().enumerate().flat_map(|(wi, &w)| {
            let mut w = w;
            std::iter::from_fn(move || {
                if w == 0 {
                    return None;
                }
                let bit = w.trailing_zeros() as usize;
                w &= w - 1;
                Some(wi * 64 + bit)
            })
        })
    }

    pub(crate) fn words(&self) -> &[u64] {
        &self.words
    }

    /// The set whose words are `words` (bits past `len` cleared).
    pub(crate) fn from_words(mut words: Vec<u64>, len: usize) -> Self {
        words.resize(len.div_ceil(64), 0);
        if !len.is_multiple_of(64) {
            if let Some(last) = words.last_mut() {
                *last &= (1u64 << (len % 64)) - 1;
            }
        }
        Bitset { words }
    }
}

/// A square matrix of bits: `rows[i]` holds the columns set in row `i`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BitMatrix {
    n: usize,
    rows: Vec<Bitset>,
}

impl BitMatrix {
    pub fn from_rows(n: usize, rows: Vec<Bitset>) -> Self {
        debug_assert_eq!(rows.len(), n);
        let rows = rows
            .into_iter()
            .map(|mut r| {
                r.words.resize(n.div_ceil(64), 0);
                r
            })
            .collect();
        BitMatrix { n, rows }
    }

    pub fn size(&self) -> usize {
        self.n
    }

    pub fn get(&self, row: usize, col: usize) -> bool {
        self.rows[row].contains(col)
    }

    pub fn row(&self, row: usize) -> &Bitset {
        &self.rows[row]
    }

    /// The transpose, 64x64 blocks at a time.
    pub fn transpose(&self) -> BitMatrix {
        let words = self.n.div_ceil(64);
        let mut out: Vec<Bitset> = (0..self.n).map(|_| Bitset { words: vec![0; words] }).collect();
        let mut block = [0u64; 64];
        for rb in 0..words {
            for cb in 0..words {
                for (k, slot) in block.iter_mut().enumerate() {
                    let r = rb * 64 + k;
                    *slot = if r < self.n { self.rows[r].words[cb] } else { 0 };
                }
                if block.iter().all(|w| *w == 0) {
                    continue;
                }
                transpose64(&mut block);
                for (k, w) in block.iter().enumerate() {
                    let c = cb * 64 + k;
                    if c < self.n {
                        out[c].words[rb] = *w;
                    }
                }
            }
        }
        BitMatrix { n: self.n, rows: out }
    }

    /// Element-wise AND with `other` (same size).
    pub fn and(mut self, other: &BitMatrix) -> BitMatrix {
        for (a, b) in self.rows.iter_mut().zip(&other.rows) {
            a.intersect_with(b);
        }
        self
    }
}

/// Transposes a 64x64 bit block in place (bit `j` of word `i` moves to bit `i` of word `j`).
pub(crate) fn transpose64(a: &mut [u64; 64]) {
    let mut j = 32;
    let mut m: u64 = 0x0000_0000_FFFF_FFFF;
    while j != 0 {
        let mut k = 0;
        while k < 64 {
            let t = ((a[k] >> j) ^ a[k + j]) & m;
            a[k + j] ^= t;
            a[k] ^= t << j;
            k = (k + j + 1) & !j;
        }
        j >>= 1;
        m ^= m << j;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_has_exactly_len_bits() {
        for len in [0, 1, 63, 64, 65, 130] {
            let b = Bitset::full(len);
            assert_eq!(b.len(), len, "{len}");
            assert_eq!(b.iter().collect::<Vec<_>>(), (0..len).collect::<Vec<_>>());
        }
    }

    #[test]
    fn transpose_matches_naive() {
        for n in [1, 5, 64, 70, 131] {
            let rows = (0..n)
                .map(|i| {
                    let mut r = Bitset::with_len(n);
                    for j in 0..n {
                        r.set(j, (i * 7 + j * 13 + i * j) % 5 == 0);
                    }
                    r
                })
                .collect();
            let m = BitMatrix::from_rows(n, rows);
            let t = m.transpose();
            for i in 0..n {
                for j in 0..n {
                    assert_eq!(m.get(i, j), t.get(j, i), "n={n} ({i},{j})");
                }
            }
        }
    }
}
