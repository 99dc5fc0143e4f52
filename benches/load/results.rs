//! The results file: `benches/RESULTS.md` (and `target/bench-results/load.md`).

use std::process::Command;
use std::time::Instant;

use crate::report::Report;
use crate::settings::Settings;

/// Writes the results of a run that began at `started`, with the machine,
/// the compiler and the command that reproduces it.
pub fn write(s: &Settings, started: Instant, rep: &Report) {
    let root = &s.root;
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let rustc = Command::new("rustc")
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let date = time::OffsetDateTime::now_utc();
    let settings: Vec<String> = std::env::vars()
        .filter(|(k, _)| {
            [
                "LOAD_",
                "SKIP_",
                "SCALE_",
                "EXPIRY_",
                "TOKEN_",
                "LEAK_",
                "CALLGRIND_",
            ]
            .iter()
            .any(|p| k.starts_with(p))
                && k != "LOAD_ROLE"
        })
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let command = if settings.is_empty() {
        "cargo bench --bench load".to_string()
    } else {
        format!("{} cargo bench --bench load", settings.join(" "))
    };
    let out = format!(
        "# Load benchmark results\n\nWritten by `cargo bench --bench load` (benches/load/); this file is the output of one run.\n\n- date: {:04}-{:02}-{:02} {:02}:{:02} UTC\n- machine: {cores} cores, {cpu}; shared with other work, so every figure is a ratio of runs made side by side\n- rustc: {rustc}\n- command: `{command}`\n- the run took {:.1} minutes\n\n## Goals\n\n{}\n{}",
        date.year(),
        u8::from(date.month()),
        date.day(),
        date.hour(),
        date.minute(),
        started.elapsed().as_secs_f64() / 60.0,
        rep.goals_table(),
        rep.body,
    );
    println!("\n{}", rep.goals_table());
    let dir = root.join("target/bench-results");
    let _ = std::fs::create_dir_all(&dir);
    let _ = std::fs::write(dir.join("load.md"), &out);
    if !s.only.is_empty() {
        println!(
            "(a partial run, LOAD_ONLY: written to {} only)",
            dir.join("load.md").display()
        );
        return;
    }
    let results = root.join("benches/RESULTS.md");
    let _ = std::fs::write(&results, &out);
    println!(
        "(written to {} and {})",
        results.display(),
        dir.join("load.md").display()
    );
}
