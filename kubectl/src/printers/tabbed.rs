//! Go's `text/tabwriter` semantics as `kubectl describe` configures it (min width 0, padding 2,
//! pad with spaces): cells end at a tab, the text after a line's last tab is not part of any
//! column, and a column is aligned only across the run of consecutive lines that have a cell
//! in it. That last rule is what makes describe's sections line up independently, so the
//! generic `TabWriter` (one width per column over the whole table) cannot be reused here.

/// Writes text at upstream's indentation levels (two spaces per level) into a buffer that
/// is aligned on `finish`.
#[derive(Debug, Default)]
pub struct PrefixWriter {
    buf: String,
}

impl PrefixWriter {
    /// An empty writer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends `text` indented by `level` × two spaces (upstream's `Write(level, …)`).
    pub fn write(&mut self, level: usize, text: &str) {
        for _ in 0..level {
            self.buf.push_str("  ");
        }
        self.buf.push_str(text);
    }

    /// The text as written, tabs and all (upstream writes some describer output, such as
    /// `rollout history --revision`'s, straight to its buffer without a tabwriter).
    pub fn into_raw(self) -> String {
        self.buf
    }

    /// The aligned text.
    pub fn finish(self) -> String {
        align(&self.buf, 0, 2)
    }
}

/// Aligns tab-separated text like Go's `tabwriter.Writer` with the given minimum cell width
/// and padding.
pub fn align(text: &str, min_width: usize, padding: usize) -> String {
    let mut lines: Vec<Vec<&str>> = text.split('\n').map(|l| l.split('\t').collect()).collect();
    // A trailing newline leaves one empty last line that is not a line of its own.
    let trailing_newline = text.ends_with('\n');
    if trailing_newline {
        lines.pop();
    }
    let mut out = String::with_capacity(text.len() + text.len() / 4);
    let mut widths = Vec::new();
    format(
        &lines,
        0,
        lines.len(),
        &mut widths,
        min_width,
        padding,
        &mut out,
    );
    if !trailing_newline && out.ends_with('\n') {
        out.pop();
    }
    out
}

fn cell_width(s: &str) -> usize {
    s.chars().count()
}

/// Go's `format`: finds the blocks of consecutive lines that have a cell in the next column,
/// sizes that column per block, and recurses for the columns to its right.
fn format(
    lines: &[Vec<&str>],
    mut line0: usize,
    line1: usize,
    widths: &mut Vec<usize>,
    min_width: usize,
    padding: usize,
    out: &mut String,
) {
    let column = widths.len();
    let mut this = line0;
    while this < line1 {
        // Only tab-terminated cells count: a line of n parts has n-1 of them.
        if column + 1 >= lines[this].len() {
            this += 1;
            continue;
        }
        write_lines(lines, line0, this, widths, out);
        line0 = this;
        let mut width = min_width;
        while this < line1 && column + 1 < lines[this].len() {
            width = width.max(cell_width(lines[this][column]) + padding);
            this += 1;
        }
        widths.push(width);
        format(lines, line0, this, widths, min_width, padding, out);
        widths.pop();
        line0 = this;
    }
    write_lines(lines, line0, line1, widths, out);
}

fn write_lines(lines: &[Vec<&str>], from: usize, to: usize, widths: &[usize], out: &mut String) {
    for line in &lines[from..to] {
        for (j, cell) in line.iter().enumerate() {
            out.push_str(cell);
            if j + 1 < line.len() && j < widths.len() {
                let pad = widths[j].saturating_sub(cell_width(cell));
                out.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_align_per_block_of_consecutive_lines() {
        let text = "Name:\tweb\nNamespace:\tdefault\nContainers:\n  c:\n    Image:\tbusybox\n    Port:\t<none>\n";
        assert_eq!(
            align(text, 0, 2),
            "Name:       web\nNamespace:  default\nContainers:\n  c:\n    Image:  busybox\n    Port:   <none>\n"
        );
    }

    #[test]
    fn continuation_lines_share_the_first_column() {
        // Labels printed over several lines: the later lines start with an empty cell.
        let text = "Labels:\ta=1\n\tb=2\nAnnotations:\t<none>\n";
        assert_eq!(
            align(text, 0, 2),
            "Labels:       a=1\n              b=2\nAnnotations:  <none>\n"
        );
    }

    #[test]
    fn nested_columns_size_independently() {
        let text = "  Type\tReason\tAge\n  ----\t------\t---\n  Normal\tScheduled\t5s\n";
        assert_eq!(
            align(text, 0, 2),
            "  Type    Reason     Age\n  ----    ------     ---\n  Normal  Scheduled  5s\n"
        );
    }

    #[test]
    fn prefix_writer_indents_two_spaces_per_level() {
        let mut w = PrefixWriter::new();
        w.write(0, "A:\t1\n");
        w.write(2, "B\n");
        assert_eq!(w.finish(), "A:  1\n    B\n");
    }
}
