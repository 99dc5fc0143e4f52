//! The results as they grow: spreads over rounds, table rows and the goals.

use crate::drive::{Page, Sample};

pub fn median(v: &[f64]) -> f64 {
    let mut v: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

pub fn min_max(v: &[f64]) -> (f64, f64) {
    v.iter()
        .filter(|x| x.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| {
            (lo.min(*x), hi.max(*x))
        })
}

/// Median and spread (min–max) of `f` over a page's rounds.
#[derive(Debug, Clone, Copy)]
pub struct Spread {
    pub med: f64,
    pub lo: f64,
    pub hi: f64,
}

pub fn spread_of(v: &[f64]) -> Spread {
    let (lo, hi) = min_max(v);
    Spread {
        med: median(v),
        lo,
        hi,
    }
}

pub fn over(samples: &[Sample], f: impl Fn(&Sample) -> f64) -> Spread {
    spread_of(&samples.iter().map(f).collect::<Vec<_>>())
}

/// Per-round ratio `f(a[i]) / f(b[i])` (the rounds are interleaved, so each
/// pair ran side by side): median and spread.
pub fn round_ratio(a: &[Sample], b: &[Sample], f: impl Fn(&Sample) -> f64) -> Spread {
    spread_of(
        &a.iter()
            .zip(b)
            .map(|(x, y)| f(x) / f(y))
            .collect::<Vec<_>>(),
    )
}

pub fn fmt_spread(s: Spread, digits: usize) -> String {
    if !s.med.is_finite() {
        return "—".into();
    }
    format!("{:.d$} ({:.d$}–{:.d$})", s.med, s.lo, s.hi, d = digits)
}

pub const PAGE_HEADER: &str = "| scenario | req/s median (min–max) | p50 ms | p99 ms | app CPU µs/req median (min–max) | errors |\n|---|---|---|---|---|---|\n";

pub fn page_row(name: &str, samples: &[Sample]) -> String {
    format!(
        "| {name} | {} | {:.2} | {:.2} | {} | {} |\n",
        fmt_spread(over(samples, |s| s.s.rps), 0),
        over(samples, |s| s.s.p50_ms).med,
        over(samples, |s| s.s.p99_ms).med,
        fmt_spread(over(samples, |s| s.cpu_us), 1),
        errors_cell(samples),
    )
}

/// The errors of a page's runs, and how many requests went out late in its
/// open-loop runs.
pub fn errors_cell(samples: &[Sample]) -> String {
    let errors = samples.iter().map(|s| s.s.errors).sum::<u64>();
    match samples.iter().map(|s| s.s.late).sum::<u64>() {
        0 => errors.to_string(),
        late => format!("{errors} ({late} sent late)"),
    }
}

/// The results file as it grows: printed as it goes.
#[derive(Default)]
pub struct Report {
    pub body: String,
    pub goals: Vec<(String, String, String, Option<bool>)>,
}

impl Report {
    pub fn push(&mut self, text: &str) {
        print!("{text}");
        self.body.push_str(text);
    }

    /// A figure against a goal; `met` is `None` for a figure that is only recorded.
    pub fn goal(&mut self, what: &str, value: String, goal: &str, met: Option<bool>) {
        let mark = match met {
            Some(true) => "met",
            Some(false) => "MISSED",
            None => "",
        };
        println!("  -> {what}: {value} (goal {goal}) {mark}");
        self.goals
            .push((what.to_string(), value, goal.to_string(), met));
    }

    pub fn goals_table(&self) -> String {
        let mut t = String::from("| figure | value | goal | |\n|---|---|---|---|\n");
        for (what, value, goal, met) in &self.goals {
            let mark = match met {
                Some(true) => "met",
                Some(false) => "**missed**",
                None => "(recorded)",
            };
            t.push_str(&format!("| {what} | {value} | {goal} | {mark} |\n"));
        }
        t
    }
}

/// The goal row of ours against a peer: the saturated req/s ratio, and the
/// p99 at one offered load (and saturated) with `digits` decimals; met when
/// the ratio is at least `min` and our open-loop p99 lower, every run
/// valid.
pub fn peer_goal(
    rep: &mut Report,
    what: &str,
    saturated: [&[Sample]; 2],
    paced: [&[Sample]; 2],
    digits: usize,
    min: f64,
) {
    let r = round_ratio(saturated[0], saturated[1], |s| s.s.rps);
    let p99 = paced.map(|x| over(x, |s| s.s.p99_ms));
    let p99_sat = saturated.map(|x| over(x, |s| s.s.p99_ms));
    rep.goal(
        what,
        format!(
            "{} (p99 {} vs {}; saturated {} vs {})",
            fmt_spread(r, 2),
            fmt_spread(p99[0], digits),
            fmt_spread(p99[1], digits),
            fmt_spread(p99_sat[0], digits),
            fmt_spread(p99_sat[1], digits)
        ),
        &format!("≥ {min:.1}, lower p99"),
        Some(
            r.med >= min
                && p99[0].med < p99[1].med
                && saturated.iter().chain(&paced).all(|x| valid(x)),
        ),
    );
}

/// Whether the runs of a page had no errors and kept their schedule (at
/// most 1% of requests late; always so for saturated runs).
pub fn valid(samples: &[Sample]) -> bool {
    samples
        .iter()
        .all(|x| x.s.errors == 0 && x.s.late * 100 <= x.s.requests)
}

/// A table of pages: the header, then one row per page.
pub fn page_table(pages: &[Page], samples: &[Vec<Sample>]) -> String {
    let mut t = PAGE_HEADER.to_string();
    for (p, s) in pages.iter().zip(samples) {
        t.push_str(&page_row(&p.name, s));
    }
    t
}
