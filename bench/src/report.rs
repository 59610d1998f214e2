//! Markdown tables.

/// A markdown table under construction.
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column names.
    pub fn new(header: &[&str]) -> Self {
        Self {
            header: header.iter().map(|h| (*h).to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The table as markdown: text columns left, numbers right.
    pub fn render(&self) -> String {
        let numeric: Vec<bool> = (0..self.header.len())
            .map(|i| {
                self.rows.iter().all(|r| {
                    r.get(i)
                        .is_some_and(|c| c.starts_with(|ch: char| ch.is_ascii_digit() || ch == '—'))
                })
            })
            .collect();
        let mut out = format!("| {} |\n|", self.header.join(" | "));
        for &n in &numeric {
            out.push_str(if n { "---:|" } else { "---|" });
        }
        out.push('\n');
        for row in &self.rows {
            out.push_str(&format!("| {} |\n", row.join(" | ")));
        }
        out
    }
}

/// A rate in engineering form: `6.52 M/s`.
pub fn per_second(rate: f64) -> String {
    if rate >= 1e6 {
        format!("{:.2} M/s", rate / 1e6)
    } else if rate >= 1e3 {
        format!("{:.1} K/s", rate / 1e3)
    } else {
        format!("{rate:.0}/s")
    }
}

/// A ratio: `2.31×`.
pub fn ratio(value: f64) -> String {
    if value.is_finite() {
        format!("{value:.2}×")
    } else {
        "—".into()
    }
}
