//! The bake section of the HTML report: how the window went, latency over the window as an
//! inline SVG plot (no external assets; its legend is HTML so it stays legible on a narrow
//! screen), and each check's aggregates.

use std::fmt::Write as _;
use std::sync::Arc;

use crate::events::{BakeRun, CaseResult};

/// Checks plotted at most (the slowest ones).
const MAX_LINES: usize = 6;
const COLORS: [&str; MAX_LINES] = [
    "#2563eb", "#9333ea", "#0d9488", "#d97706", "#db2777", "#4b5563",
];

/// CSS of the section.
pub const STYLE: &str =
    "#bake{background:#fff;border:1px solid #e4e7eb;border-radius:4px;padding:6px 10px}\
#bake svg{display:block;width:100%;max-width:560px;height:auto}\
#bake .legend{display:flex;flex-wrap:wrap;gap:4px 14px;font-size:12px;margin:4px 0}\
#bake .key{display:inline-block;width:12px;height:3px;vertical-align:middle;margin-right:4px}\
#bake table{font-size:12px}#bake td,#bake th{padding:3px 6px}\
@media (max-width:640px){#bake-checks thead{display:none}\
#bake-checks,#bake-checks tbody,#bake-checks tr,#bake-checks td{display:block;width:auto}\
#bake-checks tr{border-bottom:1px solid #c8ced6;padding:4px 0}#bake-checks td{border:0;padding:1px 6px}\
#bake-checks td[data-label]::before{content:attr(data-label) \": \";color:#6b7280}#bake-checks td.num{text-align:left}}";

/// The bake section, after the verdict.
pub fn section(
    h: &mut dyn std::fmt::Write,
    b: &BakeRun,
    cases: &[Arc<CaseResult>],
    t: &dyn Fn(&str) -> String,
) {
    let mut line = format!(
        "{} of {} rounds, one every {}, over {}",
        b.rounds,
        b.planned_rounds,
        crate::plan::samples::fmt_dur(std::time::Duration::from_millis(b.every_ms)),
        crate::plan::samples::fmt_dur(std::time::Duration::from_millis(b.window_ms)),
    );
    if b.max_failure_rate > 0.0 {
        let _ = write!(
            line,
            "; a check may fail in {} of its rounds",
            crate::runner::bake::aggregate::percent(b.max_failure_rate)
        );
    }
    if b.overruns > 0 {
        let _ = write!(line, "; {} rounds took longer than --every", b.overruns);
    }
    if let Some(why) = &b.stopped {
        let _ = write!(
            line,
            " — {}: {why}",
            if b.cut_short { "cut short" } else { "ended" }
        );
    }
    let _ = writeln!(
        h,
        "<h2>Bake</h2><div id=\"bake\" data-rounds=\"{}\" data-planned=\"{}\" data-cut-short=\"{}\">\
<p id=\"bake-summary\">{}</p>",
        b.rounds,
        b.planned_rounds,
        b.cut_short,
        t(&line)
    );
    plot(h, b, cases, t);
    table(h, cases, t);
    let _ = h.write_str("</div>\n");
}

/// Latency of the slowest checks over the window, one line each; rounds a check did not pass
/// in are red dots.
fn plot(
    h: &mut dyn std::fmt::Write,
    b: &BakeRun,
    cases: &[Arc<CaseResult>],
    t: &dyn Fn(&str) -> String,
) {
    let mut lines: Vec<&Arc<CaseResult>> = cases
        .iter()
        .filter(|c| c.bake.as_ref().is_some_and(|b| !b.series.is_empty()))
        .collect();
    let worst = |c: &CaseResult| {
        c.bake
            .as_ref()
            .map(|b| {
                b.series
                    .iter()
                    .filter_map(|p| p.latency_ms)
                    .fold(0.0, f64::max)
            })
            .unwrap_or(0.0)
    };
    lines.sort_by(|a, b| worst(b).total_cmp(&worst(a)));
    lines.truncate(MAX_LINES);
    if lines.is_empty() {
        return;
    }
    let ymax = lines.iter().map(|c| worst(c)).fold(1.0, f64::max) * 1.1;
    let xmax = b
        .window_ms
        .max(
            b.round_series
                .last()
                .map(|r| r.offset_ms + r.duration_ms)
                .unwrap_or(0),
        )
        .max(1) as f64;
    // Drawing area inside a 400×200 view box, with room for the axis labels (13 units: at
    // least 12 px once the plot is scaled to a 420 px screen).
    let (x0, x1, y0, y1) = (70.0, 392.0, 12.0, 170.0);
    let x = |ms: u64| x0 + (ms as f64 / xmax) * (x1 - x0);
    let y = |v: f64| y1 - (v / ymax) * (y1 - y0);
    let _ = write!(
        h,
        "<svg id=\"bake-plot\" viewBox=\"0 0 400 200\" role=\"img\" aria-label=\"latency of the slowest checks over the bake window\" \
font-family=\"system-ui,sans-serif\" font-size=\"13\">\
<line x1=\"{x0}\" y1=\"{y1}\" x2=\"{x1}\" y2=\"{y1}\" stroke=\"#9ca3af\"/>\
<line x1=\"{x0}\" y1=\"{y0}\" x2=\"{x0}\" y2=\"{y1}\" stroke=\"#9ca3af\"/>\
<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{} ms</text>\
<text x=\"{}\" y=\"{}\" text-anchor=\"end\">0</text>\
<text x=\"{x0}\" y=\"190\">0 s</text>\
<text x=\"{x1}\" y=\"190\" text-anchor=\"end\">{} s</text>",
        x0 - 4.0,
        y0 + 10.0,
        axis_ms(ymax / 1.1),
        x0 - 4.0,
        y1,
        crate::plan::samples::trim_float(xmax / 1000.0),
    );
    for (i, c) in lines.iter().enumerate() {
        let Some(bk) = &c.bake else { continue };
        let pts: Vec<String> = bk
            .series
            .iter()
            .filter_map(|p| {
                p.latency_ms
                    .map(|l| format!("{:.1},{:.1}", x(p.offset_ms), y(l)))
            })
            .collect();
        let _ = write!(
            h,
            "<polyline class=\"series\" data-check=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.5\" points=\"{}\"/>",
            t(&c.id),
            COLORS[i],
            pts.join(" ")
        );
        for p in bk.series.iter().filter(|p| p.failed > 0) {
            let cy = p.latency_ms.map_or(y1, y);
            let _ = write!(
                h,
                "<circle class=\"failed-round\" cx=\"{:.1}\" cy=\"{cy:.1}\" r=\"2.5\" fill=\"#b42318\"><title>{}: round {} did not pass</title></circle>",
                x(p.offset_ms),
                t(&c.id),
                p.round
            );
        }
    }
    let _ = h.write_str("</svg><div class=\"legend\">");
    for (i, c) in lines.iter().enumerate() {
        let _ = write!(
            h,
            "<span><span class=\"key\" style=\"background:{}\"></span>{}</span>",
            COLORS[i],
            t(&format!("{} › {}", c.suite, c.name))
        );
    }
    let _ = h.write_str("<span><span class=\"key\" style=\"background:#b42318\"></span>round did not pass</span></div>\n");
}

/// An axis label: whole milliseconds from 10 ms up.
fn axis_ms(v: f64) -> String {
    if v >= 10.0 {
        format!("{v:.0}")
    } else {
        crate::plan::samples::trim_float(v)
    }
}

/// Each check's aggregates over the window.
fn table(h: &mut dyn std::fmt::Write, cases: &[Arc<CaseResult>], t: &dyn Fn(&str) -> String) {
    let _ = h.write_str(
        "<table id=\"bake-checks\"><thead><tr><th>check</th><th class=\"num\">rounds</th><th class=\"num\">failed</th>\
<th class=\"num\">rate</th><th class=\"num\">p50</th><th class=\"num\">p95</th><th class=\"num\">p99</th><th class=\"num\">max</th></tr></thead><tbody>\n",
    );
    for c in cases {
        let Some(b) = &c.bake else { continue };
        let l = |f: fn(&crate::events::LatencySummary) -> f64| {
            b.latency_ms
                .as_ref()
                .map(|x| format!("{} ms", crate::plan::samples::trim_float(f(x))))
                .unwrap_or_default()
        };
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td class=\"num\" data-label=\"rounds\">{}</td><td class=\"num\" data-label=\"failed\">{}</td>\
<td class=\"num\" data-label=\"rate\">{}</td><td class=\"num\" data-label=\"p50\">{}</td><td class=\"num\" data-label=\"p95\">{}</td>\
<td class=\"num\" data-label=\"p99\">{}</td><td class=\"num\" data-label=\"max\">{}</td></tr>",
            t(&format!("{} › {}", c.suite, c.name)),
            b.rounds,
            b.rounds - b.passed,
            crate::runner::bake::aggregate::percent(b.failure_rate),
            l(|x| x.p50),
            l(|x| x.p95),
            l(|x| x.p99),
            l(|x| x.max),
        );
    }
    let _ = h.write_str("</tbody></table>\n");
}
