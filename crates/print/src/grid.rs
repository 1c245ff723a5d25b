//! A truth table as the upstream e2e tests print it: a header of destinations,
//! one row per source, one [`Mark`] per cell, columns padded to one width.

use std::fmt::Write as _;

use crate::legend::Mark;

/// The grid of `labels` x `labels`; `cell(i, j)` is the mark from `labels[i]`
/// to `labels[j]`. Lines carry no trailing spaces.
pub fn grid(labels: &[String], cell: impl Fn(usize, usize) -> Mark) -> String {
    let w = labels.iter().map(String::len).max().unwrap_or(1);
    let mut header = format!("{:<w$}", "-");
    for label in labels {
        let _ = write!(header, " {label:<w$}");
    }
    let mut out = header.trim_end().to_string();
    out.push('\n');
    for (i, from) in labels.iter().enumerate() {
        let mut line = format!("{from:<w$}");
        for j in 0..labels.len() {
            let _ = write!(line, " {:<w$}", cell(i, j).symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The width of [`grid`] over these labels.
pub fn grid_width(labels: &[String]) -> usize {
    let w = labels.iter().map(String::len).max().unwrap_or(1);
    (w + 1) * (labels.len() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_pads_to_the_widest_label() {
        let labels = vec!["a/x".to_string(), "b/long".to_string()];
        let got = grid(&labels, |i, j| if i == j { Mark::Connected } else { Mark::Blocked });
        assert_eq!(got, "-      a/x    b/long\na/x    .      X\nb/long X      .\n");
        assert_eq!(grid_width(&labels), 21);
    }
}
