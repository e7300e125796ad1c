//! The one table, both sides and the ratios, and the same as JSON.
//!
//! Each row is one figure of one workload: measured straight at the upstream (`direct`) and
//! through moxxy (`moxxy`), with `ratio` = moxxy / direct and `overhead` = moxxy − direct. A row
//! with a target says whether it was met; the target applies to the column it names.

use std::fmt::Write as _;
use std::path::Path;

use serde_json::{json, Value};

/// What a target constrains.
#[derive(Clone, Copy, Debug)]
pub enum Goal {
    /// `moxxy` at most this.
    MoxxyAtMost(f64),
    /// `overhead` at most this.
    OverheadAtMost(f64),
    /// `ratio` at least this.
    RatioAtLeast(f64),
}

impl Goal {
    fn text(self) -> String {
        match self {
            Goal::MoxxyAtMost(v) => format!("moxxy <= {v}"),
            Goal::OverheadAtMost(v) => format!("overhead <= {v}"),
            Goal::RatioAtLeast(v) => format!("ratio >= {v}"),
        }
    }
}

/// One figure.
#[derive(Clone, Debug)]
pub struct Row {
    pub workload: String,
    pub metric: String,
    pub unit: &'static str,
    pub direct: Option<f64>,
    pub moxxy: Option<f64>,
    pub goal: Option<Goal>,
}

impl Row {
    pub fn new(workload: &str, metric: &str, unit: &'static str) -> Row {
        Row {
            workload: workload.to_owned(),
            metric: metric.to_owned(),
            unit,
            direct: None,
            moxxy: None,
            goal: None,
        }
    }

    pub fn both(mut self, direct: f64, moxxy: f64) -> Row {
        self.direct = Some(direct);
        self.moxxy = Some(moxxy);
        self
    }

    pub fn moxxy(mut self, moxxy: f64) -> Row {
        self.moxxy = Some(moxxy);
        self
    }

    pub fn goal(mut self, goal: Goal) -> Row {
        self.goal = Some(goal);
        self
    }

    pub fn ratio(&self) -> Option<f64> {
        match (self.direct, self.moxxy) {
            (Some(d), Some(m)) if d != 0.0 => Some(m / d),
            _ => None,
        }
    }

    pub fn overhead(&self) -> Option<f64> {
        Some(self.moxxy? - self.direct?)
    }

    /// Whether the target was met; `None` without a target or the figures it needs.
    pub fn met(&self) -> Option<bool> {
        match self.goal? {
            Goal::MoxxyAtMost(v) => Some(self.moxxy? <= v),
            Goal::OverheadAtMost(v) => Some(self.overhead()? <= v),
            Goal::RatioAtLeast(v) => Some(self.ratio()? >= v),
        }
    }

    fn to_json(&self) -> Value {
        json!({
            "workload": self.workload,
            "metric": self.metric,
            "unit": self.unit,
            "direct": self.direct,
            "moxxy": self.moxxy,
            "ratio": self.ratio(),
            "overhead": self.overhead(),
            "target": self.goal.map(Goal::text),
            "met": self.met(),
        })
    }
}

/// Every row, and notes about the run.
#[derive(Default)]
pub struct Report {
    pub rows: Vec<Row>,
    pub notes: Vec<String>,
}

impl Report {
    pub fn push(&mut self, row: Row) {
        self.rows.push(row);
    }

    pub fn note(&mut self, note: impl Into<String>) {
        self.notes.push(note.into());
    }

    /// The table, as printed.
    pub fn table(&self) -> String {
        let headers = [
            "workload", "metric", "unit", "direct", "moxxy", "ratio", "overhead", "target",
        ];
        let cells: Vec<[String; 8]> = self
            .rows
            .iter()
            .map(|row| {
                let target = match (row.goal, row.met()) {
                    (Some(goal), Some(met)) => {
                        format!("{} {}", goal.text(), if met { "met" } else { "MISSED" })
                    }
                    (Some(goal), None) => format!("{} ?", goal.text()),
                    (None, _) => String::new(),
                };
                [
                    row.workload.clone(),
                    row.metric.clone(),
                    row.unit.to_owned(),
                    number(row.direct),
                    number(row.moxxy),
                    number(row.ratio()),
                    signed(row.overhead()),
                    target,
                ]
            })
            .collect();
        let mut widths = headers.map(str::len);
        for row in &cells {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.len());
            }
        }
        let mut out = String::new();
        let line = |out: &mut String, cells: &[String]| {
            for (i, (cell, width)) in cells.iter().zip(widths).enumerate() {
                // Text left, figures right.
                let _ = if i < 3 || i == 7 {
                    write!(out, "{cell:<width$}  ")
                } else {
                    write!(out, "{cell:>width$}  ")
                };
            }
            let trimmed = out.trim_end().len();
            out.truncate(trimmed);
            out.push('\n');
        };
        line(&mut out, &headers.map(str::to_owned));
        let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        line(&mut out, &rule);
        for row in &cells {
            line(&mut out, row);
        }
        for note in &self.notes {
            let _ = writeln!(out, "note: {note}");
        }
        out
    }

    /// Writes the JSON to `path`, creating its directory.
    pub fn write_json(&self, path: &Path, context: Value) -> std::io::Result<()> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let rows: Vec<Value> = self.rows.iter().map(Row::to_json).collect();
        let doc = json!({"run": context, "rows": rows, "notes": self.notes});
        let text = serde_json::to_string_pretty(&doc).unwrap_or_default();
        std::fs::write(path, text + "\n")
    }
}

fn number(value: Option<f64>) -> String {
    match value {
        None => "-".to_owned(),
        Some(v) if v.abs() >= 1000.0 => format!("{v:.0}"),
        Some(v) if v.abs() >= 10.0 => format!("{v:.1}"),
        Some(v) => format!("{v:.3}"),
    }
}

fn signed(value: Option<f64>) -> String {
    match value {
        Some(v) if v >= 0.0 => format!("+{}", number(Some(v))),
        other => number(other),
    }
}
