//! A problem found in a file the therapist edits, reported as
//! `path:line: message`: the one type for every such problem (front matter,
//! Markdown, writing and health advice, settings), made by the check that
//! finds it, with the line taken from the parser's own position (a byte
//! offset through [`LineIndex`], a span, a YAML location), never by
//! searching the text. [`Diagnostics`] is the list a check returns, sorted
//! so the report reads like the files do.

use std::fmt;
use std::path::{Path, PathBuf};

/// An error stops the site from being built; a warning is advice on writing
/// that the check shows but that never keeps a page from readers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Error,
    Warning,
}

/// One problem in one file, with the line to look at and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Diagnostic {
    pub path: PathBuf,
    /// 1-based line number.
    pub line: usize,
    pub message: String,
    pub severity: Severity,
}

impl Diagnostic {
    pub fn new(path: &Path, line: usize, message: impl Into<String>) -> Self {
        Self {
            path: path.to_path_buf(),
            line: line.max(1),
            message: message.into(),
            severity: Severity::Error,
        }
    }

    pub fn warning(path: &Path, line: usize, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::new(path, line, message)
        }
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.severity {
            Severity::Error => "",
            Severity::Warning => "warning: ",
        };
        write!(
            f,
            "{}:{}: {kind}{}",
            self.path.display(),
            self.line,
            self.message
        )
    }
}

/// Every problem found in one run, sorted by file and line so the list reads
/// like the files do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics(Vec<Diagnostic>);

impl Diagnostics {
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.0.push(diagnostic);
    }

    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn has_errors(&self) -> bool {
        self.0.iter().any(Diagnostic::is_error)
    }

    pub fn error_count(&self) -> usize {
        self.0.iter().filter(|d| d.is_error()).count()
    }

    /// The list sorted by file and line, duplicates removed.
    pub fn sorted(mut self) -> Self {
        self.0.sort();
        self.0.dedup();
        self
    }

    /// Only the warnings.
    pub fn warnings(&self) -> Self {
        Self(self.0.iter().filter(|d| !d.is_error()).cloned().collect())
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter()
    }

    /// The same list with each path told from `root` (a file outside it
    /// keeps its whole path): how a checked copy in a temporary folder is
    /// reported as the files its author knows.
    pub fn relative_to(self, root: &Path) -> Self {
        Self(
            self.0
                .into_iter()
                .map(|mut diagnostic| {
                    if let Ok(inside) = diagnostic.path.strip_prefix(root) {
                        diagnostic.path = inside.to_path_buf();
                    }
                    diagnostic
                })
                .collect(),
        )
    }

    /// `Ok(value)` when no error was found (warnings may remain), else the
    /// sorted list of everything found.
    pub fn into_result<T>(self, value: T) -> Result<T, Diagnostics> {
        if self.has_errors() {
            Err(self.sorted())
        } else {
            Ok(value)
        }
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for diagnostic in &self.0 {
            writeln!(f, "{diagnostic}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

impl From<Diagnostic> for Diagnostics {
    fn from(diagnostic: Diagnostic) -> Self {
        Self(vec![diagnostic])
    }
}

/// Maps byte offsets in a text to 1-based line numbers.
pub struct LineIndex {
    line_starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Self { line_starts }
    }

    pub fn line_of(&self, offset: usize) -> usize {
        match self.line_starts.binary_search(&offset) {
            Ok(i) => i + 1,
            Err(i) => i,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_index_counts_from_one() {
        let index = LineIndex::new("a\nbc\n\nd");
        assert_eq!(index.line_of(0), 1);
        assert_eq!(index.line_of(1), 1);
        assert_eq!(index.line_of(2), 2);
        assert_eq!(index.line_of(5), 3);
        assert_eq!(index.line_of(6), 4);
    }

    #[test]
    fn warnings_alone_do_not_fail() {
        let mut all = Diagnostics::default();
        all.push(Diagnostic::warning(Path::new("a.md"), 3, "long"));
        assert!(all.clone().into_result(()).is_ok());
        assert_eq!(all.to_string(), "a.md:3: warning: long\n");
        all.push(Diagnostic::new(Path::new("a.md"), 1, "broken"));
        assert_eq!(all.into_result(()).unwrap_err().error_count(), 1);
    }

    #[test]
    fn diagnostics_sort_by_file_then_line() {
        let mut all = Diagnostics::default();
        all.push(Diagnostic::new(Path::new("b.md"), 1, "x"));
        all.push(Diagnostic::new(Path::new("a.md"), 9, "y"));
        all.push(Diagnostic::new(Path::new("a.md"), 2, "z"));
        let text = all.into_result(()).unwrap_err().to_string();
        assert_eq!(text, "a.md:2: z\na.md:9: y\nb.md:1: x\n");
    }
}
