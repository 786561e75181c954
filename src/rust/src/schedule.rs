//! Learning-rate schedules: a multiplier of the learning rate for each
//! epoch, set once at the epoch's start (not per step).

use std::f64::consts::PI;

#[derive(Clone, Debug, PartialEq)]
pub enum Schedule {
    Constant,
    /// Halved every `ceil(epochs / 4)` epochs.
    Step,
    /// From 1 down to 0.01 geometrically over the epochs.
    Exponential,
    /// Half a cosine from 1 down towards 0.
    Cosine,
    /// Triangular cycles between 0.1 and 1, starting low, each
    /// `2 * ceil(epochs / 8)` epochs long (four per run when 8 divides `epochs`).
    Cyclic,
    /// Given multipliers, one per epoch (a schedule written in R).
    Table(Vec<f64>),
}

impl Schedule {
    /// The named schedules, as R names them.
    pub const NAMES: [&'static str; 5] = ["constant", "step", "exponential", "cosine", "cyclic"];

    pub fn parse(name: &str) -> Option<Schedule> {
        Some(match name {
            "constant" => Schedule::Constant,
            "step" => Schedule::Step,
            "exponential" => Schedule::Exponential,
            "cosine" => Schedule::Cosine,
            "cyclic" => Schedule::Cyclic,
            _ => return None,
        })
    }

    pub fn is_constant(&self) -> bool {
        *self == Schedule::Constant
    }

    /// The multiplier for 1-based `epoch` of `epochs`.
    pub fn factor(&self, epoch: usize, epochs: usize) -> f64 {
        let epochs = epochs.max(1);
        let t = (epoch.max(1) - 1) as f64; // epochs done before this one
        match self {
            Schedule::Constant => 1.0,
            Schedule::Step => 0.5f64.powi(((epoch.max(1) - 1) / epochs.div_ceil(4)) as i32),
            Schedule::Exponential => {
                if epochs == 1 {
                    1.0
                } else {
                    0.01f64.powf(t / (epochs - 1) as f64)
                }
            }
            Schedule::Cosine => 0.5 * (1.0 + (PI * t / epochs as f64).cos()),
            Schedule::Cyclic => {
                let half = epochs.div_ceil(8) as f64;
                let phase = (t / half) % 2.0; // 0..2: up, then down
                let up = if phase <= 1.0 { phase } else { 2.0 - phase };
                0.1 + 0.9 * up
            }
            Schedule::Table(f) => f.get(epoch.max(1) - 1).copied().unwrap_or(1.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_start_and_end_where_documented() {
        assert_eq!(Schedule::Constant.factor(7, 10), 1.0);
        // Step: 100 epochs halve at 26, 51 and 76.
        assert_eq!(Schedule::Step.factor(25, 100), 1.0);
        assert_eq!(Schedule::Step.factor(26, 100), 0.5);
        assert_eq!(Schedule::Step.factor(100, 100), 0.125);
        assert_eq!(Schedule::Exponential.factor(1, 50), 1.0);
        assert!((Schedule::Exponential.factor(50, 50) - 0.01).abs() < 1e-15);
        assert_eq!(Schedule::Cosine.factor(1, 20), 1.0);
        assert!((Schedule::Cosine.factor(11, 20) - 0.5).abs() < 1e-15);
        assert!(Schedule::Cosine.factor(20, 20) > 0.0);
        // Cyclic: 80 epochs, cycles of 20, low at 1, 21, 41, high at 11.
        assert!((Schedule::Cyclic.factor(1, 80) - 0.1).abs() < 1e-15);
        assert!((Schedule::Cyclic.factor(11, 80) - 1.0).abs() < 1e-15);
        assert!((Schedule::Cyclic.factor(21, 80) - 0.1).abs() < 1e-15);
        // 10 epochs: cycles of 2 * ceil(10 / 8) = 4 epochs, two and a half.
        let ten: Vec<f64> = (1..=10).map(|e| Schedule::Cyclic.factor(e, 10)).collect();
        let expected = [0.1, 0.55, 1.0, 0.55, 0.1, 0.55, 1.0, 0.55, 0.1, 0.55];
        assert!(ten.iter().zip(expected).all(|(a, b)| (a - b).abs() < 1e-15), "{:?}", ten);
        assert_eq!(Schedule::Table(vec![1.0, 0.3]).factor(2, 2), 0.3);
        assert_eq!(Schedule::parse("cosine"), Some(Schedule::Cosine));
        assert_eq!(Schedule::parse("linear"), None);
    }
}
