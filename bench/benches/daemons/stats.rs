//! Medians and spreads of a set of samples.

/// Samples of one measure of one system.
#[derive(Clone, Debug, Default)]
pub(crate) struct Samples(Vec<f64>);

impl Samples {
    pub(crate) fn push(&mut self, value: f64) {
        self.0.push(value);
    }

    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    fn sorted(&self) -> Vec<f64> {
        let mut v = self.0.clone();
        v.sort_by(f64::total_cmp);
        v
    }

    /// The `q` quantile (0 to 1), interpolated between the two nearest samples.
    pub(crate) fn quantile(&self, q: f64) -> f64 {
        let v = self.sorted();
        match v.len() {
            0 => f64::NAN,
            1 => v[0],
            n => {
                let at = q.clamp(0.0, 1.0) * (n - 1) as f64;
                let (lo, hi) = (at.floor() as usize, at.ceil() as usize);
                v[lo] + (v[hi] - v[lo]) * (at - lo as f64)
            }
        }
    }

    pub(crate) fn median(&self) -> f64 {
        self.quantile(0.5)
    }

    pub(crate) fn min(&self) -> f64 {
        self.quantile(0.0)
    }

    pub(crate) fn max(&self) -> f64 {
        self.quantile(1.0)
    }
}
