//! Losses and the error signal they send back into the output layer.

use crate::activation::Activation;
use crate::real::Real;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Loss {
    /// The article's loss: the gradient is that of ½·Σ(y − output)², and the
    /// reported value is the plain sum of squared errors Σ(y − output)².
    Sse,
    /// Mean over outputs of the squared error, per row.
    Mse,
    /// −Σ y·log(p) (softmax) or the binary form (sigmoid), per row.
    CrossEntropy,
    /// Mean over outputs of the absolute error, per row.
    Mae,
    /// Mean over outputs of Huber's loss: ½e² for |e| ≤ delta, else
    /// delta·(|e| − ½delta), per row.
    Huber { delta: f64 },
    /// Mean over outputs of the pinball loss of quantile `tau`, per row:
    /// tau·e for e = y − output ≥ 0, else (tau − 1)·e.
    Quantile { tau: f64 },
    /// Poisson deviance 2·(y·log(y / mu) − (y − mu)) of a mean `mu` = e^z
    /// (exp output, the log link), averaged over outputs per row; the
    /// objective is half of it.
    Poisson,
}

/// Smallest probability used inside a logarithm, so that a confident wrong
/// prediction costs a large finite loss rather than infinity.
const LOG_FLOOR: f64 = 1e-15;

impl Loss {
    /// Every loss, the parametrised ones at their default parameter.
    pub const ALL: [Loss; 7] =
        [Loss::Sse, Loss::Mse, Loss::CrossEntropy, Loss::Mae, Loss::Huber { delta: 1.0 }, Loss::Quantile { tau: 0.5 }, Loss::Poisson];

    /// The option that sets its parameter, and the parameter's value (for
    /// the losses of [`Loss::ALL`], its default), if it has one.
    pub fn parameter(self) -> Option<(&'static str, f64)> {
        match self {
            Loss::Huber { delta } => Some(("huber_delta", delta)),
            Loss::Quantile { tau } => Some(("tau", tau)),
            _ => None,
        }
    }

    /// The loss called `name`; `param` is Huber's delta or the quantile's
    /// level (unused by the others).
    pub fn parse(name: &str, param: f64) -> Option<Loss> {
        Some(match name {
            "huber" if param > 0.0 => Loss::Huber { delta: param },
            "quantile" if param > 0.0 && param < 1.0 => Loss::Quantile { tau: param },
            "huber" | "quantile" => return None,
            _ => *Loss::ALL.iter().find(|l| l.name() == name)?,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Loss::Sse => "sse",
            Loss::Mse => "mse",
            Loss::CrossEntropy => "cross_entropy",
            Loss::Mae => "mae",
            Loss::Huber { .. } => "huber",
            Loss::Quantile { .. } => "quantile",
            Loss::Poisson => "poisson",
        }
    }

    /// Whether this loss may sit on top of an output activation.
    pub fn compatible_with(self, output: Activation) -> bool {
        match self {
            Loss::CrossEntropy => matches!(output, Activation::Sigmoid | Activation::Softmax),
            Loss::Sse | Loss::Mse => true,
            Loss::Mae | Loss::Huber { .. } | Loss::Quantile { .. } => output != Activation::Softmax,
            Loss::Poisson => output == Activation::Exp,
        }
    }

    /// The factor of an output delta from [`fused_delta`] for `cols`
    /// outputs and a gradient scaled by `scale`: `scale` for cross-entropy,
    /// −scale for the summed squared error (the gradient of its half), and
    /// −2·scale/cols for the mean over outputs.
    pub fn error_gain(self, cols: usize, scale: f64) -> f64 {
        match self {
            Loss::CrossEntropy => scale,
            Loss::Mse => -(2.0 / cols as f64 * scale),
            _ => -scale,
        }
    }

    /// Whether the loss is a sum of squared errors (what Levenberg-Marquardt minimises).
    pub fn is_squared_error(self) -> bool {
        matches!(self, Loss::Sse | Loss::Mse)
    }

    /// The objective whose gradient [`output_delta`] computes, from the same
    /// sum: half the squared error (sse), the mean over outputs (mse, mae,
    /// huber, quantile), the cross-entropy itself, or half the mean deviance
    /// (poisson).
    pub fn objective(self, sum: f64, cols: usize) -> f64 {
        match self {
            Loss::Sse => 0.5 * sum,
            Loss::Mse | Loss::Mae | Loss::Huber { .. } | Loss::Quantile { .. } => sum / cols as f64,
            Loss::CrossEntropy => sum,
            Loss::Poisson => 0.5 * sum / cols as f64,
        }
    }

    /// Turns the sum accumulated by [`output_delta`] over rows of total
    /// weight `weight` (their count when unweighted) and `cols` outputs into
    /// the figure reported to the user: the mean per row (and output), or
    /// for "sse" the sum over `counted` rows, the rows the caller counts
    /// (the total of its weights before they were rescaled). Rows of total
    /// weight 0 report 0.
    pub fn report(self, sum: f64, weight: f64, cols: usize, counted: f64) -> f64 {
        if weight == 0.0 {
            return 0.0;
        }
        match self {
            // (The ratio is 1 exactly when nothing was rescaled.)
            Loss::Sse => if counted == weight { sum } else { sum / weight * counted },
            Loss::Mse | Loss::Mae | Loss::Huber { .. } | Loss::Quantile { .. } | Loss::Poisson => sum / (weight * cols as f64),
            Loss::CrossEntropy => sum / weight,
        }
    }

    /// The term of the loss sum for output `p` and target `t`, and the
    /// derivative of the objective's term (the term over `cols`, see
    /// [`Loss::objective`]) with respect to `p`, times `cols`; for the
    /// losses written element by element without a fused slope.
    #[inline(always)]
    fn robust_term(self, p: f64, t: f64) -> (f64, f64) {
        let e = p - t;
        match self {
            Loss::Mae => (e.abs(), sign(e)),
            Loss::Huber { delta } => {
                if e.abs() <= delta {
                    (0.5 * e * e, e)
                } else {
                    (delta * (e.abs() - 0.5 * delta), delta * sign(e))
                }
            }
            Loss::Quantile { tau } => {
                if e < 0.0 {
                    (-tau * e, -tau)
                } else {
                    ((1.0 - tau) * e, 1.0 - tau)
                }
            }
            _ => unreachable!("robust_term covers mae, huber and quantile"),
        }
    }
}

#[inline(always)]
fn sign(v: f64) -> f64 {
    if v > 0.0 {
        1.0
    } else if v < 0.0 {
        -1.0
    } else {
        0.0
    }
}

/// The Poisson deviance of mean `mu` for a count `t`: 2·(t·log(t / mu) − (t − mu)).
#[inline]
pub fn poisson_deviance(mu: f64, t: f64) -> f64 {
    let log_term = if t > 0.0 { t * (t / mu.max(LOG_FLOOR)).ln() } else { 0.0 };
    2.0 * (log_term - (t - mu))
}

/// Fills `delta` with d(loss)/d(output-layer input), multiplied by `scale`
/// (1 for the article's summed gradient, 1/rows for a batch mean), and returns
/// the unscaled loss sum of the block (see [`Loss::report`]).
///
/// All blocks are column-major `rows x cols`. For the article's case
/// (sse, sigmoid) this is exactly −(E · slope_output_layer).
pub fn output_delta<T: Real>(
    loss: Loss,
    output_act: Activation,
    out: &[T],
    y: &[T],
    delta: &mut [T],
    rows: usize,
    cols: usize,
    scale: f64,
) -> f64 {
    let len = rows * cols;
    let (out, y, delta) = (&out[..len], &y[..len], &mut delta[..len]);
    if output_act != Activation::Softmax {
        return elementwise_delta(loss, output_act, out, y, delta, cols, scale);
    }
    // Loss sums in f64 whatever T is.
    let mut sum = 0.0;
    let scale = T::of(scale);
    match loss {
        Loss::CrossEntropy => {
            // With softmax the slope cancels: delta = p − y.
            for k in 0..len {
                let (p, t) = (out[k], y[k]);
                sum -= t.f64() * p.f64().max(LOG_FLOOR).ln();
                delta[k] = (p - t) * scale;
            }
        }
        Loss::Sse | Loss::Mse => {
            let factor = T::of(if loss == Loss::Mse { 2.0 / cols as f64 } else { 1.0 });
            for k in 0..len {
                let e = y[k] - out[k];
                sum += e.f64() * e.f64();
                delta[k] = -(e * factor);
            }
            softmax_backward(out, delta, rows, cols);
            delta.iter_mut().for_each(|d| *d *= scale);
        }
        _ => unreachable!("the loss is not compatible with softmax (see Loss::compatible_with)"),
    }
    sum
}

/// [`output_delta`] with observation weights: row i's delta and loss are
/// multiplied by `w[i]`; without weights it is [`output_delta`] itself.
#[allow(clippy::too_many_arguments)]
pub fn weighted_delta<T: Real>(
    loss: Loss,
    output_act: Activation,
    out: &[T],
    y: &[T],
    w: Option<&[T]>,
    delta: &mut [T],
    rows: usize,
    cols: usize,
    scale: f64,
) -> f64 {
    let sum = output_delta(loss, output_act, out, y, delta, rows, cols, scale);
    let Some(w) = w else { return sum };
    let mut sum = 0.0;
    for j in 0..cols {
        let col = j * rows..(j + 1) * rows;
        for (((d, &p), &t), &wi) in delta[col.clone()].iter_mut().zip(&out[col.clone()]).zip(&y[col]).zip(&w[..rows]) {
            *d *= wi;
            sum += wi.f64() * element_loss(loss, output_act, p.f64(), t.f64());
        }
    }
    sum
}

/// One entry's term of the loss sum that [`output_delta`] returns.
#[inline]
fn element_loss(loss: Loss, output_act: Activation, p: f64, t: f64) -> f64 {
    match (loss, output_act) {
        (Loss::CrossEntropy, Activation::Softmax) => -t * p.max(LOG_FLOOR).ln(),
        (Loss::CrossEntropy, _) => binary_cross_entropy(p, t),
        (Loss::Sse | Loss::Mse, _) => (t - p) * (t - p),
        (Loss::Poisson, _) => poisson_deviance(p, t),
        (robust, _) => robust.robust_term(p, t).0,
    }
}

/// −(t·log p + (1 − t)·log(1 − p)), the cross-entropy of a sigmoid output
/// `p` for a target `t`, with both logarithms floored.
#[inline]
pub fn binary_cross_entropy(p: f64, t: f64) -> f64 {
    -(t * p.max(LOG_FLOOR).ln() + (1.0 - t) * (1.0 - p).max(LOG_FLOOR).ln())
}

/// [`output_delta`] for an output activation applied element by element (not
/// softmax), over any run of entries of a block with `cols` outputs.
#[inline]
pub fn elementwise_delta<T: Real>(loss: Loss, output_act: Activation, out: &[T], y: &[T], delta: &mut [T], cols: usize, scale: f64) -> f64 {
    debug_assert!(output_act != Activation::Softmax);
    let mut sum = 0.0;
    let scale = T::of(scale);
    match loss {
        Loss::CrossEntropy | Loss::Sse | Loss::Mse => {
            let gain = T::of(loss.error_gain(cols, scale.f64()));
            for ((&p, &t), d) in out.iter().zip(y).zip(delta.iter_mut()) {
                sum += if loss == Loss::CrossEntropy { binary_cross_entropy(p.f64(), t.f64()) } else { (t - p).f64() * (t - p).f64() };
                *d = fused_delta(loss, p, t, output_act.slope(p), gain);
            }
        }
        Loss::Poisson => {
            // With the exp output the slope cancels: delta = (mu − y) / cols.
            let factor = T::of(1.0 / cols as f64);
            for ((&p, &t), d) in out.iter().zip(y).zip(delta.iter_mut()) {
                sum += poisson_deviance(p.f64(), t.f64());
                *d = (p - t) * factor * scale;
            }
        }
        robust => {
            let factor = 1.0 / cols as f64;
            for ((&p, &t), d) in out.iter().zip(y).zip(delta.iter_mut()) {
                let (term, slope_of_loss) = robust.robust_term(p.f64(), t.f64());
                sum += term;
                *d = T::of(slope_of_loss * factor) * output_act.slope(p) * scale;
            }
        }
    }
    sum
}

/// One entry's output delta for the losses whose slope meets the error
/// directly (squared errors and cross-entropy on an elementwise output):
/// the one formula of both the general and the small path. `slope` is the
/// output activation's at `p`, `gain` is [`Loss::error_gain`].
///
/// Squared errors: −(E · slope) as the article writes d_output, scaled, with
/// the slope and the gain multiplied first, so that the error (the end of
/// the forward pass's chain of dependent operations) meets one multiply.
/// Cross-entropy: the slope cancels against the loss's (sigmoid), p − y.
#[inline(always)]
pub fn fused_delta<T: Real>(loss: Loss, p: T, t: T, slope: T, gain: T) -> T {
    if loss == Loss::CrossEntropy {
        (p - t) * gain
    } else {
        (t - p) * (slope * gain)
    }
}

/// Chain rule through a row-wise softmax: g ← s ⊙ (g − Σ_j g_j s_j).
fn softmax_backward<T: Real>(s: &[T], g: &mut [T], rows: usize, cols: usize) {
    for i in 0..rows {
        let dot: T = (0..cols).map(|j| g[i + j * rows] * s[i + j * rows]).sum();
        for j in 0..cols {
            let k = i + j * rows;
            g[k] = s[k] * (g[k] - dot);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activation::softmax_rows;

    fn loss_value(loss: Loss, act: Activation, z: &[f64], y: &[f64], rows: usize, cols: usize) -> f64 {
        let mut out: Vec<f64> = z.iter().map(|&v| act.apply(v)).collect();
        if act == Activation::Softmax {
            softmax_rows(&mut out, rows, cols);
        }
        let mut d = vec![0.0; z.len()];
        let s = output_delta(loss, act, &out, y, &mut d, rows, cols, 1.0);
        loss.objective(s, cols)
    }

    #[test]
    fn names_round_trip_with_their_parameters() {
        for loss in Loss::ALL {
            assert_eq!(Loss::parse(loss.name(), 0.5).map(Loss::name), Some(loss.name()));
        }
        assert_eq!(Loss::parse("huber", 2.0), Some(Loss::Huber { delta: 2.0 }));
        assert_eq!(Loss::parse("huber", 0.0), None);
        assert_eq!(Loss::parse("quantile", 1.0), None);
        assert_eq!(Loss::parse("hinge", 1.0), None);
    }

    #[test]
    fn delta_is_the_gradient_of_the_loss() {
        let (rows, cols) = (2, 3);
        let z = [0.3, -1.2, 0.8, 0.1, -0.4, 2.0];
        let y = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0];
        let combos = [
            (Loss::Sse, Activation::Sigmoid),
            (Loss::Sse, Activation::Linear),
            (Loss::Mse, Activation::Tanh),
            (Loss::Mse, Activation::Softmax),
            (Loss::Sse, Activation::Softmax),
            (Loss::CrossEntropy, Activation::Softmax),
            (Loss::CrossEntropy, Activation::Sigmoid),
            (Loss::Mae, Activation::Linear),
            (Loss::Mae, Activation::Sigmoid),
            (Loss::Huber { delta: 0.5 }, Activation::Linear),
            (Loss::Huber { delta: 0.5 }, Activation::Tanh),
            (Loss::Quantile { tau: 0.9 }, Activation::Linear),
            (Loss::Quantile { tau: 0.2 }, Activation::Sigmoid),
            (Loss::Poisson, Activation::Exp),
        ];
        for (loss, act) in combos {
            let mut out: Vec<f64> = z.iter().map(|&v| act.apply(v)).collect();
            if act == Activation::Softmax {
                softmax_rows(&mut out, rows, cols);
            }
            let mut d = vec![0.0; 6];
            output_delta(loss, act, &out, &y, &mut d, rows, cols, 1.0);
            for k in 0..6 {
                let h = 1e-6;
                let (mut zp, mut zm) = (z, z);
                zp[k] += h;
                zm[k] -= h;
                let fd = (loss_value(loss, act, &zp, &y, rows, cols)
                    - loss_value(loss, act, &zm, &y, rows, cols))
                    / (2.0 * h);
                assert!((fd - d[k]).abs() < 1e-6, "{:?}/{:?} k={} fd={} d={}", loss, act, k, fd, d[k]);
            }
        }
    }

    #[test]
    fn cross_entropy_needs_a_probability_output() {
        assert!(!Loss::CrossEntropy.compatible_with(Activation::Linear));
        assert!(Loss::CrossEntropy.compatible_with(Activation::Softmax));
        assert!(Loss::Sse.compatible_with(Activation::Linear));
        assert!(!Loss::Poisson.compatible_with(Activation::Linear));
        assert!(!Loss::Mae.compatible_with(Activation::Softmax));
        assert_eq!(Loss::parse("huber", 0.0), None);
        assert_eq!(Loss::parse("quantile", 1.0), None);
        assert_eq!(Loss::parse("quantile", 0.3), Some(Loss::Quantile { tau: 0.3 }));
    }

    #[test]
    fn robust_losses_are_what_they_say() {
        // Errors (output − target) of −2, 0.25 and 3 on one row each.
        let (out, y) = ([0.0, 1.25, 3.0], [2.0, 1.0, 0.0]);
        let mut d = [0.0; 3];
        let mut sum = |loss| elementwise_delta(loss, Activation::Linear, &out, &y, &mut d, 1, 1.0);
        assert!((sum(Loss::Mae) - 5.25).abs() < 1e-12);
        // Huber with delta 1: 1·(2 − ½) + ½·0.25² + 1·(3 − ½).
        assert!((sum(Loss::Huber { delta: 1.0 }) - (1.5 + 0.03125 + 2.5)).abs() < 1e-12);
        // Pinball at 0.9: under-predicting by 2 costs 0.9·2, over-predicting costs 0.1 each.
        assert!((sum(Loss::Quantile { tau: 0.9 }) - (1.8 + 0.025 + 0.3)).abs() < 1e-12);
        // A perfect Poisson mean has zero deviance.
        assert!(poisson_deviance(3.0, 3.0).abs() < 1e-12);
        assert!((poisson_deviance(2.0, 0.0) - 4.0).abs() < 1e-12);
    }
}
