//! Column alignment like Go's `text/tabwriter` with kubectl's settings (min width 6, padding 3,
//! pad with spaces): each cell but the last of a line is padded to its column's width.

/// Collects rows and aligns them on `flush`. Widths are remembered across flushes so that
/// watch output keeps its columns (upstream's `tabwriter.RememberWidths`).
#[derive(Debug, Default)]
pub struct TabWriter {
    rows: Vec<Vec<String>>,
    widths: Vec<usize>,
}

const MIN_WIDTH: usize = 6;
const PADDING: usize = 3;

impl TabWriter {
    /// A writer with no rows.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one line of cells.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// Aligns and returns the buffered lines, keeping the column widths for later flushes.
    pub fn flush(&mut self) -> String {
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate() {
                if i + 1 == row.len() {
                    continue;
                }
                let w = (cell.chars().count() + PADDING).max(MIN_WIDTH);
                if self.widths.len() <= i {
                    self.widths.resize(i + 1, 0);
                }
                self.widths[i] = self.widths[i].max(w);
            }
        }
        let mut out = String::new();
        for row in self.rows.drain(..) {
            let n = row.len();
            for (i, cell) in row.into_iter().enumerate() {
                let len = cell.chars().count();
                out.push_str(&cell);
                if i + 1 < n {
                    out.extend(std::iter::repeat_n(' ', self.widths[i] - len));
                }
            }
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pads_to_widest_cell_plus_three_with_min_six() {
        let mut tw = TabWriter::new();
        tw.row(vec!["NAME".into(), "READY".into(), "AGE".into()]);
        tw.row(vec!["a-long-name".into(), "1/1".into(), "5s".into()]);
        assert_eq!(
            tw.flush(),
            "NAME          READY   AGE\na-long-name   1/1     5s\n"
        );
        // Remembered widths: a later short row keeps the columns.
        tw.row(vec!["b".into(), "0/1".into(), "1s".into()]);
        assert_eq!(tw.flush(), "b             0/1     1s\n");
    }

    #[test]
    fn min_width_applies_to_short_columns() {
        let mut tw = TabWriter::new();
        tw.row(vec!["A".into(), "B".into()]);
        assert_eq!(tw.flush(), "A     B\n");
    }
}
