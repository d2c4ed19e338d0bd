//! Percentiles from a sorted sample (nearest rank), and CPU time from /proc.

/// Summary of a sample of durations in milliseconds.
#[derive(Debug, Clone, Copy, Default)]
pub struct Summary {
    pub count: usize,
    pub mean: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

/// The `q` quantile (0..=1) of a sorted, non-empty sample, by nearest rank.
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

impl Summary {
    pub fn of(mut sample: Vec<f64>) -> Summary {
        if sample.is_empty() {
            return Summary::default();
        }
        sample.sort_by(f64::total_cmp);
        Summary {
            count: sample.len(),
            mean: sample.iter().sum::<f64>() / sample.len() as f64,
            p50: percentile(&sample, 0.50),
            p90: percentile(&sample, 0.90),
            p99: percentile(&sample, 0.99),
            max: sample[sample.len() - 1],
        }
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "n {} mean {:.1} p50 {:.1} p90 {:.1} p99 {:.1} max {:.1}",
            self.count, self.mean, self.p50, self.p90, self.p99, self.max
        )
    }
}

pub fn met(ok: bool) -> &'static str {
    if ok { "met" } else { "NOT met" }
}

/// CPU seconds (user + system) of this process and of all `postgres`
/// processes, read from /proc; zero where /proc is unavailable.
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuTimes {
    pub this_process: f64,
    pub postgres: f64,
}

fn ticks_of(stat: &str) -> Option<(String, u64)> {
    // pid (comm) state ppid ... utime(14) stime(15)
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let comm = stat[open + 1..close].to_owned();
    let fields: Vec<&str> = stat[close + 2..].split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((comm, utime + stime))
}

const TICKS_PER_SECOND: f64 = 100.0;

impl CpuTimes {
    pub fn now() -> CpuTimes {
        let mut out = CpuTimes::default();
        if let Some((_, t)) = std::fs::read_to_string("/proc/self/stat")
            .ok()
            .as_deref()
            .and_then(ticks_of)
        {
            out.this_process = t as f64 / TICKS_PER_SECOND;
        }
        if let Ok(dir) = std::fs::read_dir("/proc") {
            for entry in dir.flatten() {
                let name = entry.file_name();
                if !name.to_string_lossy().bytes().all(|b| b.is_ascii_digit()) {
                    continue;
                }
                if let Some((comm, t)) = std::fs::read_to_string(entry.path().join("stat"))
                    .ok()
                    .as_deref()
                    .and_then(ticks_of)
                    && comm == "postgres"
                {
                    out.postgres += t as f64 / TICKS_PER_SECOND;
                }
            }
        }
        out
    }

    pub fn since(self, start: CpuTimes) -> CpuTimes {
        CpuTimes {
            this_process: self.this_process - start.this_process,
            postgres: (self.postgres - start.postgres).max(0.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank() {
        let s: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&s, 0.5), 50.0);
        assert_eq!(percentile(&s, 0.99), 99.0);
        assert_eq!(percentile(&s, 1.0), 100.0);
        assert_eq!(percentile(&[7.0], 0.99), 7.0);
    }

    #[test]
    fn parses_proc_stat() {
        let line = "42 (postgres) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 1 0 100 0 0";
        assert_eq!(ticks_of(line), Some(("postgres".into(), 300)));
    }
}
