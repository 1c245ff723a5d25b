//! The one legend of every truth table netpol prints (`netpol matrix`, `netpol
//! lab probe`): the upstream e2e convention, `.` connected and `X` blocked, and
//! `!` where real packets disagree with the engine.

/// One cell of a truth table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mark {
    /// The source reaches the destination (allowed, or observed reached).
    Connected,
    /// The source does not reach the destination (denied, or observed blocked).
    Blocked,
    /// What was observed is not what the engine predicted.
    Disagrees,
}

impl Mark {
    /// `Connected` when `connected`, else `Blocked`.
    pub fn of(connected: bool) -> Mark {
        if connected {
            Mark::Connected
        } else {
            Mark::Blocked
        }
    }

    /// The symbol printed in a cell.
    pub fn symbol(self) -> &'static str {
        match self {
            Mark::Connected => ".",
            Mark::Blocked => "X",
            Mark::Disagrees => "!",
        }
    }

    /// What the symbol means, for the legend.
    pub fn meaning(self) -> &'static str {
        match self {
            Mark::Connected => "connected",
            Mark::Blocked => "blocked",
            Mark::Disagrees => "observed differs from the engine",
        }
    }
}

/// `. connected  X blocked` for the marks a table uses.
pub fn legend(marks: &[Mark]) -> String {
    marks.iter().map(|m| format!("{} {}", m.symbol(), m.meaning())).collect::<Vec<_>>().join("  ")
}

/// The same legend in Markdown: `` `.` connected, `X` blocked ``.
pub fn legend_md(marks: &[Mark]) -> String {
    marks.iter().map(|m| format!("`{}` {}", m.symbol(), m.meaning())).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mark_has_its_own_symbol() {
        let all = [Mark::Connected, Mark::Blocked, Mark::Disagrees];
        for a in all {
            for b in all {
                assert_eq!(a == b, a.symbol() == b.symbol(), "{a:?} {b:?}");
            }
        }
        assert_eq!(Mark::of(true).symbol(), ".");
        assert_eq!(Mark::of(false).symbol(), "X");
    }

    #[test]
    fn legend_lists_the_marks_given() {
        assert_eq!(legend(&[Mark::Connected, Mark::Blocked]), ". connected  X blocked");
        assert_eq!(legend_md(&[Mark::Connected, Mark::Blocked]), "`.` connected, `X` blocked");
        assert_eq!(
            legend(&[Mark::Connected, Mark::Blocked, Mark::Disagrees]),
            ". connected  X blocked  ! observed differs from the engine"
        );
    }
}
