//! Percentiles of latency samples.

use std::time::Duration;

/// Latency samples in nanoseconds.
#[derive(Debug, Clone, Default)]
pub struct Samples {
    ns: Vec<u64>,
    sorted: bool,
}

impl Samples {
    /// Room for `n` samples.
    pub fn with_capacity(n: usize) -> Self {
        Samples {
            ns: Vec::with_capacity(n),
            sorted: true,
        }
    }

    /// Adds a duration.
    pub fn push(&mut self, d: Duration) {
        self.push_ns(d.as_nanos() as u64);
    }

    /// Adds a value in nanoseconds.
    pub fn push_ns(&mut self, ns: u64) {
        self.ns.push(ns);
        self.sorted = false;
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.ns.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.ns.is_empty()
    }

    fn sort(&mut self) {
        if !self.sorted {
            self.ns.sort_unstable();
            self.sorted = true;
        }
    }

    /// The `p`-th percentile (0..=100), nearest rank, in nanoseconds.
    ///
    /// # Panics
    /// When there are no samples.
    pub fn percentile_ns(&mut self, p: f64) -> u64 {
        assert!(!self.ns.is_empty(), "no samples");
        self.sort();
        let rank = ((p / 100.0) * self.ns.len() as f64).ceil() as usize;
        self.ns[rank.clamp(1, self.ns.len()) - 1]
    }

    /// The `p`-th percentile in microseconds.
    pub fn percentile_us(&mut self, p: f64) -> f64 {
        self.percentile_ns(p) as f64 / 1e3
    }

    /// The mean in nanoseconds.
    pub fn mean_ns(&self) -> f64 {
        self.ns.iter().map(|&v| v as f64).sum::<f64>() / self.ns.len().max(1) as f64
    }

    /// The largest sample in nanoseconds.
    pub fn max_ns(&self) -> u64 {
        self.ns.iter().copied().max().unwrap_or(0)
    }
}

/// The median of a few batch means (robust to a noisy neighbour on a shared machine).
pub fn median(mut values: Vec<f64>) -> f64 {
    assert!(!values.is_empty(), "no values");
    values.sort_by(|a, b| a.total_cmp(b));
    values[values.len() / 2]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank() {
        let mut s = Samples::default();
        for v in 1..=100 {
            s.push_ns(v);
        }
        assert_eq!(s.percentile_ns(50.0), 50);
        assert_eq!(s.percentile_ns(99.0), 99);
        assert_eq!(s.percentile_ns(100.0), 100);
        assert_eq!(s.percentile_ns(0.0), 1);
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
    }
}
