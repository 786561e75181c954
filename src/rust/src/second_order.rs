//! Full-batch second-order methods for small networks: Levenberg–Marquardt on
//! the squared error, and L-BFGS on any loss. Each call to `iterate` is one
//! "epoch" of the training loop; all buffers are allocated in `new`.

use crate::linalg::{matmul, Operand};
use crate::loss::Loss;
use crate::architecture::{Architecture, BiasLayout};
use crate::layers::{backward, delta_to_layer_below, forward, Network, Rows, Workspace};
use crate::penalty::Penalty;
use crate::train::Dataset;

/// Outcome of one iteration.
pub enum Iteration {
    /// A step was taken; the loss sum (see [`Loss::report`]) after it.
    Step(f64),
    /// No step improves the objective any more: a minimum has been reached.
    Converged(f64),
}

/// The objective minimised by both methods and its gradient, left in
/// `ws.grads`: the mean over rows of the per-row loss, plus the penalty.
/// Returns (objective, loss sum as reported).
pub fn objective(net: &Network, params: &[f64], data: Dataset, loss: Loss, penalty: &Penalty, ws: &mut Workspace, threads: usize) -> (f64, f64) {
    let (n, arch) = (data.rows, net.arch());
    let x = Rows::all(data.x, n);
    forward(net, params, x, ws, None, threads);
    let sum = backward(net, params, x, data.y, data.w, loss, 1.0 / n as f64, ws, threads);
    let mut f = loss.objective(sum, arch.outputs()) / n as f64;
    if !penalty.is_zero() {
        let weights = arch.weight_ranges();
        penalty.add_gradient(&weights, params, &mut ws.grads);
        f += penalty.value(&weights, params);
    }
    (f, sum)
}

/// The objective and its gradient proper, for gradient checks: as
/// [`objective`], except that row biases (which training moves by the
/// article's rule, each row's delta sum recycled over the units) get their
/// gradient proper, the delta itself.
pub fn objective_and_gradient(arch: &Architecture, params: &[f64], data: Dataset, loss: Loss, penalty: &Penalty, threads: usize) -> (f64, Vec<f64>) {
    let net = Network::new(arch);
    let mut ws = Workspace::new(&net, data.rows);
    let (value, _) = objective(&net, params, data, loss, penalty, &mut ws, threads);
    let mut gradient = ws.grads.clone();
    if arch.bias_layout() == BiasLayout::Row {
        for l in 0..arch.layers() {
            let r = arch.biases(l);
            let len = r.len();
            gradient[r].copy_from_slice(&ws.delta(&net, l)[..len]);
        }
    }
    (value, gradient)
}

pub struct Lbfgs {
    memory: usize,
    s: Vec<Vec<f64>>,
    y: Vec<Vec<f64>>,
    rho: Vec<f64>,
    alpha: Vec<f64>,
    stored: usize,
    next: usize,
    direction: Vec<f64>,
    grad: Vec<f64>,
    trial: Vec<f64>,
    f: f64,
    started: bool,
}

impl Lbfgs {
    pub fn new(n_params: usize) -> Lbfgs {
        let memory = 10;
        Lbfgs {
            memory,
            s: vec![vec![0.0; n_params]; memory],
            y: vec![vec![0.0; n_params]; memory],
            rho: vec![0.0; memory],
            alpha: vec![0.0; memory],
            stored: 0,
            next: 0,
            direction: vec![0.0; n_params],
            grad: vec![0.0; n_params],
            trial: vec![0.0; n_params],
            f: f64::INFINITY,
            started: false,
        }
    }

    pub fn iterate(&mut self, net: &Network, params: &mut [f64], data: Dataset, loss: Loss, penalty: &Penalty, ws: &mut Workspace, threads: usize) -> Iteration {
        if !self.started {
            let (f, _) = objective(net, params, data, loss, penalty, ws, threads);
            self.f = f;
            self.grad.copy_from_slice(&ws.grads);
            self.started = true;
        }
        // Two-loop recursion: direction = −H·grad.
        self.direction.iter_mut().zip(&self.grad).for_each(|(d, g)| *d = -g);
        // Stored pairs, newest first (a ring buffer; no allocation per iteration).
        let (next, memory) = (self.next, self.memory);
        let newest_first = move |k: usize| (next + memory - 1 - k) % memory;
        for i in (0..self.stored).map(newest_first) {
            self.alpha[i] = self.rho[i] * dot(&self.s[i], &self.direction);
            axpy(-self.alpha[i], &self.y[i], &mut self.direction);
        }
        if self.stored > 0 {
            let newest = newest_first(0);
            let gamma = dot(&self.s[newest], &self.y[newest]) / dot(&self.y[newest], &self.y[newest]);
            self.direction.iter_mut().for_each(|d| *d *= gamma);
        }
        for i in (0..self.stored).rev().map(newest_first) {
            let beta = self.rho[i] * dot(&self.y[i], &self.direction);
            axpy(self.alpha[i] - beta, &self.s[i], &mut self.direction);
        }
        let mut slope = dot(&self.grad, &self.direction);
        if !(slope < 0.0) {
            // Not a descent direction: restart from steepest descent.
            self.stored = 0;
            self.direction.iter_mut().zip(&self.grad).for_each(|(d, g)| *d = -g);
            slope = dot(&self.grad, &self.direction);
        }
        if slope.abs() < 1e-300 {
            return Iteration::Converged(self.last_sum(net, params, data, loss, penalty, ws, threads));
        }
        // Backtracking line search on the Armijo condition; the first
        // iteration scales the step so that it moves the parameters by ~1.
        let mut step = if self.stored == 0 { (1.0 / norm(&self.direction)).min(1.0) } else { 1.0 };
        for _ in 0..40 {
            for ((t, p), d) in self.trial.iter_mut().zip(params.iter()).zip(&self.direction) {
                *t = p + step * d;
            }
            let (f_new, sum) = objective(net, &self.trial, data, loss, penalty, ws, threads);
            if f_new.is_finite() && f_new <= self.f + 1e-4 * step * slope {
                // Accept; remember (s, y) when the curvature is positive.
                let k = self.next;
                for i in 0..params.len() {
                    self.s[k][i] = self.trial[i] - params[i];
                    self.y[k][i] = ws.grads[i] - self.grad[i];
                }
                let sy = dot(&self.s[k], &self.y[k]);
                if sy > 1e-12 * dot(&self.y[k], &self.y[k]).max(1e-300) {
                    self.rho[k] = 1.0 / sy;
                    self.next = (self.next + 1) % self.memory;
                    self.stored = (self.stored + 1).min(self.memory);
                }
                params.copy_from_slice(&self.trial);
                self.grad.copy_from_slice(&ws.grads);
                let improvement = self.f - f_new;
                self.f = f_new;
                if improvement <= 1e-15 * f_new.abs().max(1e-300) {
                    return Iteration::Converged(sum);
                }
                return Iteration::Step(sum);
            }
            step *= 0.5;
        }
        Iteration::Converged(self.last_sum(net, params, data, loss, penalty, ws, threads))
    }

    fn last_sum(&self, net: &Network, params: &[f64], data: Dataset, loss: Loss, penalty: &Penalty, ws: &mut Workspace, threads: usize) -> f64 {
        objective(net, params, data, loss, penalty, ws, threads).1
    }
}

/// Levenberg–Marquardt on ½·Σ residual² (+ ½·decay·‖w‖²), with residuals
/// `output − y` and the Jacobian built row by row from backpropagated deltas.
pub struct LevenbergMarquardt {
    mu: f64,
    /// Jacobian of one chunk of rows: (chunk·o) x P, column-major.
    jac: Vec<f64>,
    /// Residuals output − y, column-major n x o, and those of one chunk.
    residual: Vec<f64>,
    chunk_residual: Vec<f64>,
    jtj: Vec<f64>,
    system: Vec<f64>,
    gradient: Vec<f64>,
    step: Vec<f64>,
    trial: Vec<f64>,
    /// Per-layer delta buffers for one chunk and one output (chunk x fan_out).
    deltas: Vec<Vec<f64>>,
    sse: f64,
    started: bool,
}

const MU_MAX: f64 = 1e12;
/// Rows of the Jacobian built at a time.
const LM_CHUNK: usize = 256;

impl LevenbergMarquardt {
    pub fn new(arch: &Architecture, rows: usize) -> LevenbergMarquardt {
        let p = arch.n_params();
        let chunk = LM_CHUNK.min(rows.max(1));
        let o = arch.outputs();
        LevenbergMarquardt {
            mu: 1e-3,
            jac: vec![0.0; chunk * o * p],
            residual: vec![0.0; rows * o],
            chunk_residual: vec![0.0; chunk * o],
            jtj: vec![0.0; p * p],
            system: vec![0.0; p * p],
            gradient: vec![0.0; p],
            step: vec![0.0; p],
            trial: vec![0.0; p],
            deltas: (0..arch.layers()).map(|l| vec![0.0; chunk * arch.fan_out(l).max(o)]).collect(),
            sse: f64::INFINITY,
            started: false,
        }
    }


    /// Σ(output − y)² + decay·‖w‖² at `params`, leaving the residuals in `residual`.
    fn evaluate(residual: &mut [f64], net: &Network, params: &[f64], data: Dataset, decay: f64, ws: &mut Workspace, threads: usize) -> f64 {
        let (n, arch) = (data.rows, net.arch());
        forward(net, params, Rows::all(data.x, n), ws, None, threads);
        let out = ws.output(n, arch.outputs());
        let mut sse = 0.0;
        for ((r, &o), &y) in residual.iter_mut().zip(out).zip(&data.y[..out.len()]) {
            *r = o - y;
        }
        // A weighted row's residuals (and Jacobian rows) carry √w.
        if let Some(w) = data.w {
            for col in residual.chunks_exact_mut(n) {
                col.iter_mut().zip(w).for_each(|(r, &w)| *r *= w.sqrt());
            }
        }
        for r in residual.iter() {
            sse += r * r;
        }
        sse + decay * weight_norm2(arch, params)
    }

    /// Accumulates JᵀJ and Jᵀr at the parameters last evaluated, building the
    /// Jacobian J of the residuals a chunk of rows at a time so that it stays
    /// in cache and its memory does not grow with the data.
    fn normal_equations(&mut self, net: &Network, params: &[f64], data: Dataset, ws: &Workspace, threads: usize) {
        let arch = net.arch();
        let n = data.rows;
        let o = arch.outputs();
        let p = arch.n_params();
        let top = arch.layers() - 1;
        let out_act = arch.output_activation();
        let mut first_chunk = true;
        let mut r0 = 0;
        while r0 < n {
            let c = LM_CHUNK.min(n - r0);
            let m = c * o; // Jacobian rows in this chunk: output-major, then row
            for k in 0..o {
                // d output[:, k] / d (output-layer input): the slope in column k.
                let d = &mut self.deltas[top][..c * o];
                d.iter_mut().for_each(|v| *v = 0.0);
                let out = ws.activations(net, top);
                for i in 0..c {
                    let root_weight = data.w.map_or(1.0, |w| w[r0 + i].sqrt());
                    d[i + k * c] = out_act.slope(out[r0 + i + k * n]) * root_weight;
                }
                self.chunk_residual[k * c..(k + 1) * c].copy_from_slice(&self.residual[k * n + r0..k * n + r0 + c]);
                for l in (0..=top).rev() {
                    let (fan_in, fan_out) = (arch.fan_in(l), arch.fan_out(l));
                    let delta = &self.deltas[l][..c * fan_out];
                    let (w_cols, b_cols) = (arch.weights(l), arch.biases(l));
                    for q in 0..fan_out {
                        let dq = &delta[q * c..(q + 1) * c];
                        for p_in in 0..fan_in {
                            let col = w_cols.start + p_in + q * fan_in;
                            let dst = &mut self.jac[col * m + k * c..col * m + (k + 1) * c];
                            let a = if l == 0 { &data.x[p_in * n + r0..p_in * n + r0 + c] } else { &ws.activations(net, l - 1)[p_in * n + r0..p_in * n + r0 + c] };
                            dst.iter_mut().zip(a).zip(dq).for_each(|((j, &a), &dd)| *j = a * dd);
                        }
                        let col = b_cols.start + q;
                        self.jac[col * m + k * c..col * m + (k + 1) * c].copy_from_slice(dq);
                    }
                    if l > 0 {
                        let (below, this) = self.deltas.split_at_mut(l);
                        delta_to_layer_below(net, params, l, &this[0][..c * fan_out], ws, r0, c, n, &mut below[l - 1][..c * fan_in], threads);
                    }
                }
            }
            let jac = Operand::new(&self.jac[..m * p], m, p);
            matmul(&mut self.jtj, jac.t(), jac, !first_chunk, threads);
            matmul(&mut self.gradient, jac.t(), Operand::new(&self.chunk_residual[..m], m, 1), !first_chunk, threads);
            first_chunk = false;
            r0 += c;
        }
    }

    pub fn iterate(&mut self, net: &Network, params: &mut [f64], data: Dataset, decay: f64, ws: &mut Workspace, threads: usize) -> Iteration {
        let arch = net.arch();
        let p = arch.n_params();
        // After an accepted step the workspace and residuals already hold the
        // accepted point (iterate returns right after accepting).
        if !self.started {
            self.sse = Self::evaluate(&mut self.residual, net, params, data, decay, ws, threads);
            self.started = true;
        }
        self.normal_equations(net, params, data, ws, threads);
        if decay != 0.0 {
            for l in 0..arch.layers() {
                for i in arch.weights(l) {
                    self.gradient[i] += decay * params[i];
                    self.jtj[i + i * p] += decay;
                }
            }
        }
        while self.mu <= MU_MAX {
            self.system.copy_from_slice(&self.jtj);
            for i in 0..p {
                self.system[i + i * p] += self.mu;
            }
            if cholesky_solve(&mut self.system, &self.gradient, &mut self.step, p) {
                for i in 0..p {
                    self.trial[i] = params[i] - self.step[i];
                }
                let sse = Self::evaluate(&mut self.residual, net, &self.trial, data, decay, ws, threads);
                if sse.is_finite() && sse < self.sse {
                    params.copy_from_slice(&self.trial);
                    let gain = self.sse - sse;
                    self.sse = sse;
                    self.mu = (self.mu * 0.1).max(1e-20);
                    let reported = sse - decay * weight_norm2(arch, params);
                    if gain <= 1e-15 * sse.max(1e-300) {
                        return Iteration::Converged(reported);
                    }
                    return Iteration::Step(reported);
                }
            }
            self.mu *= 10.0;
        }
        Iteration::Converged(self.sse - decay * weight_norm2(arch, params))
    }
}

fn weight_norm2(arch: &Architecture, params: &[f64]) -> f64 {
    (0..arch.layers()).map(|l| params[arch.weights(l)].iter().map(|w| w * w).sum::<f64>()).sum()
}

/// Solves `a · x = b` for symmetric positive definite `a` (column-major p x p,
/// overwritten by its Cholesky factor). False when `a` is not positive definite.
pub fn cholesky_solve(a: &mut [f64], b: &[f64], x: &mut [f64], p: usize) -> bool {
    for j in 0..p {
        let mut d = a[j + j * p];
        for k in 0..j {
            d -= a[j + k * p] * a[j + k * p];
        }
        if !(d > 0.0) || !d.is_finite() {
            return false;
        }
        let d = d.sqrt();
        a[j + j * p] = d;
        for i in j + 1..p {
            let mut s = a[i + j * p];
            for k in 0..j {
                s -= a[i + k * p] * a[j + k * p];
            }
            a[i + j * p] = s / d;
        }
    }
    // L·z = b, then Lᵀ·x = z.
    for i in 0..p {
        let mut s = b[i];
        for k in 0..i {
            s -= a[i + k * p] * x[k];
        }
        x[i] = s / a[i + i * p];
    }
    for i in (0..p).rev() {
        let mut s = x[i];
        for k in i + 1..p {
            s -= a[k + i * p] * x[k];
        }
        x[i] = s / a[i + i * p];
    }
    true
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn axpy(alpha: f64, x: &[f64], y: &mut [f64]) {
    y.iter_mut().zip(x).for_each(|(y, x)| *y += alpha * x);
}

fn norm(x: &[f64]) -> f64 {
    dot(x, x).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activation::Activation;
    use crate::architecture::BiasLayout;

    #[test]
    fn cholesky_solves_a_small_system() {
        let mut a = vec![4.0, 2.0, 2.0, 3.0];
        let mut x = vec![0.0; 2];
        assert!(cholesky_solve(&mut a, &[2.0, 1.0], &mut x, 2));
        assert!((x[0] - 0.5).abs() < 1e-12 && x[1].abs() < 1e-12);
        let mut not_pd = vec![1.0, 2.0, 2.0, 1.0];
        assert!(!cholesky_solve(&mut not_pd, &[1.0, 1.0], &mut x, 2));
    }

    // More rows than one Jacobian chunk.
    const ROWS: usize = 600;

    fn sine_data() -> (Vec<f64>, Vec<f64>) {
        let x: Vec<f64> = (0..ROWS).map(|i| -2.0 + 4.0 * i as f64 / (ROWS - 1) as f64).collect();
        let y: Vec<f64> = x.iter().map(|v| v.sin()).collect();
        (x, y)
    }

    fn net() -> (Architecture, Vec<f64>) {
        let arch = Architecture::new(vec![1, 5, 1], vec![Activation::Tanh, Activation::Linear], BiasLayout::Column, ROWS).unwrap();
        let p: Vec<f64> = (0..arch.n_params()).map(|i| ((i * 7919) % 13) as f64 / 13.0 - 0.5).collect();
        (arch, p)
    }

    #[test]
    fn levenberg_marquardt_fits_a_sine() {
        let (x, y) = sine_data();
        let (arch, mut p) = net();
        let net = Network::new(&arch);
        let mut ws = Workspace::new(&net, ROWS);
        let mut lm = LevenbergMarquardt::new(&arch, ROWS);
        let data = Dataset::new(&x, &y, ROWS);
        let mut last = f64::INFINITY;
        for _ in 0..200 {
            match lm.iterate(&net, &mut p, data, 0.0, &mut ws, 1) {
                Iteration::Step(s) => {
                    assert!(s <= last);
                    last = s;
                }
                Iteration::Converged(s) => {
                    last = s;
                    break;
                }
            }
        }
        assert!(last / (ROWS as f64) < 1e-5, "sse {}", last);
    }

    #[test]
    fn lbfgs_fits_a_sine() {
        let (x, y) = sine_data();
        let (arch, mut p) = net();
        let net = Network::new(&arch);
        let mut ws = Workspace::new(&net, ROWS);
        let mut opt = Lbfgs::new(arch.n_params());
        let data = Dataset::new(&x, &y, ROWS);
        let mut last = f64::INFINITY;
        for _ in 0..2000 {
            match opt.iterate(&net, &mut p, data, Loss::Mse, &Penalty::default(), &mut ws, 1) {
                Iteration::Step(s) => last = s,
                Iteration::Converged(s) => {
                    last = s;
                    break;
                }
            }
        }
        assert!(last / (ROWS as f64) < 1e-4, "mse {}", last / (ROWS as f64));
    }
}
