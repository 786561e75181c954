//! Full-batch second-order methods for small networks: Levenberg–Marquardt on
//! the squared error, and L-BFGS on any loss. Each call to `iterate` is one
//! "epoch" of the training loop; all buffers are allocated in `new`.

use crate::linalg::{gram_lower, matmul, Operand};
use crate::loss::Loss;
use crate::architecture::{Architecture, BiasLayout};
use crate::layers::{backward, delta_to_layer_below, forward, Network, Rows, Workspace};
use crate::penalty::Penalty;
use crate::config::TrainConfig;
use crate::dataset::Dataset;
use crate::optimizer::Optimizer;
use std::ops::Range;
use std::time::{Duration, Instant};

/// Outcome of one iteration.
pub enum Iteration {
    /// A step was taken; the loss sum (see [`Loss::report`]) after it.
    Step(f64),
    /// No step improves the objective any more: a minimum has been reached.
    Converged(f64),
    /// Asked to stop within the iteration: the parameters are as they were.
    Interrupted,
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
/// gradient proper, the delta itself. Also the loss as training reports
/// it, per row (see [`Loss::report`]), for scores on held-out rows.
pub fn objective_and_gradient(arch: &Architecture, params: &[f64], data: Dataset, loss: Loss, penalty: &Penalty, threads: usize) -> (f64, Vec<f64>, f64) {
    let net = Network::new(arch);
    let mut ws = Workspace::new(&net, data.rows);
    let (value, sum) = objective(&net, params, data, loss, penalty, &mut ws, threads);
    let row_loss = loss.report(sum, data.weight_total(), arch.outputs(), 1.0);
    let mut gradient = ws.grads.clone();
    if arch.bias_layout() == BiasLayout::Row {
        for l in 0..arch.layers() {
            let r = arch.biases(l);
            let len = r.len();
            gradient[r].copy_from_slice(&ws.delta(&net, l)[..len]);
        }
    }
    (value, gradient, row_loss)
}

/// The objective `cfg.optimizer` minimises at `params`, by whose lowest
/// value restarts pick a start: the mean over rows of the per-row loss
/// plus the penalty for the optimizers that average over rows; the sum over
/// rows plus the penalty for "gd", which sums; for Levenberg–Marquardt its
/// own Σ w·r² + decay·‖w‖². (With a penalty, the three rank starts apart.)
pub fn minimised_objective(arch: &Architecture, params: &[f64], data: Dataset, cfg: &TrainConfig) -> f64 {
    let net = Network::new(arch);
    let mut ws = Workspace::new(&net, data.rows);
    let penalty = cfg.penalty();
    match cfg.optimizer {
        Optimizer::Lm => {
            let mut residual = vec![0.0; data.rows * arch.outputs()];
            LevenbergMarquardt::evaluate(&mut residual, &net, params, data, cfg.weight_decay, &mut ws, cfg.threads)
        }
        Optimizer::Gd => {
            let (_, sum) = objective(&net, params, data, cfg.loss, &Penalty::default(), &mut ws, cfg.threads);
            cfg.loss.objective(sum, arch.outputs()) + penalty.value(&arch.weight_ranges(), params)
        }
        _ => objective(&net, params, data, cfg.loss, &penalty, &mut ws, cfg.threads).0,
    }
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

/// Which linear system gives a Levenberg–Marquardt step, for tests that
/// compare the two ([`LevenbergMarquardt::new`] solves the smaller).
#[cfg(test)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LmSystem {
    /// The p x p normal equations, built a chunk of rows at a time.
    Params,
    /// The m x m system in the residuals' space (m = rows x outputs), from
    /// the whole Jacobian.
    Residuals,
}

/// Asked to stop within an iteration.
struct Stopped;

/// Asks the caller whether to stop, at most once per `every` of work, so
/// that the caller's own pacing sees calls spread evenly in time.
struct Asker<'a> {
    every: Duration,
    last: Instant,
    ask: &'a mut dyn FnMut() -> bool,
}

impl Asker<'_> {
    fn check(&mut self) -> Result<(), Stopped> {
        let now = Instant::now();
        if now.duration_since(self.last) < self.every {
            return Ok(());
        }
        self.last = now;
        if (self.ask)() {
            Err(Stopped)
        } else {
            Ok(())
        }
    }
}

/// How often an iteration asks whether to stop, at most.
const ASK_EVERY: Duration = Duration::from_millis(10);

/// Multiply-adds between two asks within a large product (a few
/// milliseconds of one core).
const WORK_PER_ASK: usize = 1 << 25;

/// Levenberg–Marquardt on Σ residual² + decay·‖w‖², with residuals
/// `output − y` and the Jacobian J built row by row from backpropagated
/// deltas. The step d (new parameters: old − d) solves
/// (JᵀJ + D + μI) d = Jᵀr + D·w, D = decay on the weights and 0 on the
/// biases. With fewer residuals m than parameters p it is found in the
/// residuals' space instead (see [`LevenbergMarquardt::step_by_residuals`]).
pub struct LevenbergMarquardt {
    mu: f64,
    decay: f64,
    by_residuals: bool,
    /// Column-major: one chunk of rows' Jacobian ((chunk·o) x P) for the p x
    /// p system, the whole Jacobian (m x P, rows output-major as `residual`)
    /// for the m x m one.
    jac: Vec<f64>,
    /// Residuals output − y (column-major n x o) at the parameters, and at a trial.
    residual: Vec<f64>,
    trial_residual: Vec<f64>,
    chunk_residual: Vec<f64>,
    /// Lower triangles. p x p: JᵀJ + D. m x m: J_w·J_wᵀ over the weights'
    /// columns (all columns when there is no decay), and `gram_b`, over the
    /// biases' columns, only with decay.
    gram: Vec<f64>,
    gram_b: Vec<f64>,
    /// The damped system, then its Cholesky factor.
    system: Vec<f64>,
    /// p x p: Jᵀr + D·w.
    gradient: Vec<f64>,
    /// m x m: J_w·w and the right-hand side (with decay: without, the
    /// right-hand side is `residual`), and the solution.
    jw: Vec<f64>,
    rhs: Vec<f64>,
    solution: Vec<f64>,
    step: Vec<f64>,
    trial: Vec<f64>,
    /// Per-layer delta buffers for one chunk and one output (chunk x fan_out).
    deltas: Vec<Vec<f64>>,
    /// The Cholesky factorisation's panel.
    panel: Vec<f64>,
    weights: Vec<Range<usize>>,
    biases: Vec<Range<usize>>,
    sse: f64,
    started: bool,
    ask_every: Duration,
}

const MU_MAX: f64 = 1e12;
/// Rows of the Jacobian built at a time.
const LM_CHUNK: usize = 256;

impl LevenbergMarquardt {
    /// For `rows` training rows and penalty `decay` on the weights, solving
    /// the smaller system: the m x m one when there are fewer residuals
    /// (rows x outputs) than parameters, else the p x p one.
    pub fn new(arch: &Architecture, rows: usize, decay: f64) -> LevenbergMarquardt {
        Self::solving(arch, rows, decay, rows * arch.outputs() < arch.n_params())
    }

    #[cfg(test)]
    fn with_system(arch: &Architecture, rows: usize, decay: f64, system: LmSystem) -> LevenbergMarquardt {
        Self::solving(arch, rows, decay, system == LmSystem::Residuals)
    }

    /// Solving the m x m system when `by_residuals`, else the p x p one.
    fn solving(arch: &Architecture, rows: usize, decay: f64, by_residuals: bool) -> LevenbergMarquardt {
        let p = arch.n_params();
        let chunk = LM_CHUNK.min(rows.max(1));
        let o = arch.outputs();
        let m = rows * o;
        let (jac, gram, chunk_residual, gradient) = if by_residuals { (m * p, m * m, 0, 0) } else { (chunk * o * p, p * p, chunk * o, p) };
        let with_decay = |len: usize| if decay != 0.0 { len } else { 0 };
        let side = if by_residuals { m } else { p };
        LevenbergMarquardt {
            mu: 1e-3,
            decay,
            by_residuals,
            jac: vec![0.0; jac],
            residual: vec![0.0; m],
            trial_residual: vec![0.0; m],
            chunk_residual: vec![0.0; chunk_residual],
            gram: vec![0.0; gram],
            gram_b: vec![0.0; if by_residuals { with_decay(m * m) } else { 0 }],
            system: vec![0.0; gram],
            gradient: vec![0.0; gradient],
            jw: vec![0.0; if by_residuals { with_decay(m) } else { 0 }],
            rhs: vec![0.0; if by_residuals { with_decay(m) } else { 0 }],
            solution: vec![0.0; if by_residuals { m } else { 0 }],
            step: vec![0.0; p],
            trial: vec![0.0; p],
            deltas: (0..arch.layers()).map(|l| vec![0.0; chunk * arch.fan_out(l).max(o)]).collect(),
            panel: vec![0.0; side * CHOLESKY_BLOCK.min(side)],
            weights: arch.weight_ranges(),
            biases: (0..arch.layers()).map(|l| arch.biases(l)).collect(),
            sse: f64::INFINITY,
            started: false,
            ask_every: ASK_EVERY,
        }
    }

    /// True when steps are solved in the residuals' space (m x m).
    #[cfg(test)]
    fn solves_by_residuals(&self) -> bool {
        self.by_residuals
    }

    /// Asks whether to stop at most once per `every` (tests ask at every chance).
    #[cfg(test)]
    pub(crate) fn ask_every(&mut self, every: Duration) {
        self.ask_every = every;
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

    /// Writes the Jacobian of the residuals of rows `r0..r0 + c` at the
    /// parameters last evaluated into `jac` (column-major, leading dimension
    /// `ld`): output k's rows go to rows `at(k)..at(k) + c`.
    #[allow(clippy::too_many_arguments)]
    fn jacobian_rows(jac: &mut [f64], ld: usize, at: impl Fn(usize) -> usize, deltas: &mut [Vec<f64>], net: &Network, params: &[f64], data: Dataset, ws: &Workspace, r0: usize, c: usize, threads: usize) {
        let arch = net.arch();
        let n = data.rows;
        let o = arch.outputs();
        let top = arch.layers() - 1;
        let out_act = arch.output_activation();
        for k in 0..o {
            // d output[:, k] / d (output-layer input): the slope in column k.
            let d = &mut deltas[top][..c * o];
            d.iter_mut().for_each(|v| *v = 0.0);
            let out = ws.activations(net, top);
            for i in 0..c {
                let root_weight = data.w.map_or(1.0, |w| w[r0 + i].sqrt());
                d[i + k * c] = out_act.slope(out[r0 + i + k * n]) * root_weight;
            }
            let first = at(k);
            for l in (0..=top).rev() {
                let (fan_in, fan_out) = (arch.fan_in(l), arch.fan_out(l));
                let delta = &deltas[l][..c * fan_out];
                let (w_cols, b_cols) = (arch.weights(l), arch.biases(l));
                for q in 0..fan_out {
                    let dq = &delta[q * c..(q + 1) * c];
                    for p_in in 0..fan_in {
                        let col = w_cols.start + p_in + q * fan_in;
                        let dst = &mut jac[col * ld + first..col * ld + first + c];
                        let a = if l == 0 { &data.x[p_in * n + r0..p_in * n + r0 + c] } else { &ws.activations(net, l - 1)[p_in * n + r0..p_in * n + r0 + c] };
                        dst.iter_mut().zip(a).zip(dq).for_each(|((j, &a), &dd)| *j = a * dd);
                    }
                    let col = b_cols.start + q;
                    jac[col * ld + first..col * ld + first + c].copy_from_slice(dq);
                }
                if l > 0 {
                    let (below, this) = deltas.split_at_mut(l);
                    delta_to_layer_below(net, params, l, &this[0][..c * fan_out], ws, r0, c, n, &mut below[l - 1][..c * fan_in], threads);
                }
            }
        }
    }

    /// Accumulates JᵀJ + D and Jᵀr + D·w at the parameters last evaluated,
    /// building the Jacobian a chunk of rows at a time so that it stays in
    /// cache and its memory does not grow with the data.
    fn normal_equations(&mut self, net: &Network, params: &[f64], data: Dataset, ws: &Workspace, threads: usize, asker: &mut Asker) -> Result<(), Stopped> {
        let n = data.rows;
        let o = net.arch().outputs();
        let p = net.arch().n_params();
        let mut first_chunk = true;
        let mut r0 = 0;
        while r0 < n {
            let c = LM_CHUNK.min(n - r0);
            let m = c * o; // Jacobian rows in this chunk: output-major, then row
            Self::jacobian_rows(&mut self.jac, m, |k| k * c, &mut self.deltas, net, params, data, ws, r0, c, threads);
            for k in 0..o {
                self.chunk_residual[k * c..(k + 1) * c].copy_from_slice(&self.residual[k * n + r0..k * n + r0 + c]);
            }
            asker.check()?;
            let jac = Operand::new(&self.jac[..m * p], m, p);
            gram_in_pieces(&mut self.gram, jac.t(), !first_chunk, threads, asker)?;
            matmul(&mut self.gradient, jac.t(), Operand::new(&self.chunk_residual[..m], m, 1), !first_chunk, threads);
            first_chunk = false;
            r0 += c;
        }
        if self.decay != 0.0 {
            for i in self.weights.iter().flat_map(|r| r.clone()) {
                self.gradient[i] += self.decay * params[i];
                self.gram[i + i * p] += self.decay;
            }
        }
        Ok(())
    }

    /// The whole Jacobian at the parameters last evaluated, its Gram
    /// matrices J_w·J_wᵀ and J_b·J_bᵀ (one, JJᵀ, without decay) and J_w·w.
    fn residual_system(&mut self, net: &Network, params: &[f64], data: Dataset, ws: &Workspace, threads: usize, asker: &mut Asker) -> Result<(), Stopped> {
        let n = data.rows;
        let o = net.arch().outputs();
        let p = net.arch().n_params();
        let m = n * o;
        let mut r0 = 0;
        while r0 < n {
            let c = LM_CHUNK.min(n - r0);
            Self::jacobian_rows(&mut self.jac, m, |k| k * n + r0, &mut self.deltas, net, params, data, ws, r0, c, threads);
            asker.check()?;
            r0 += c;
        }
        let jac = Operand::new(&self.jac, m, p);
        if self.decay == 0.0 {
            return gram_in_pieces(&mut self.gram, jac, false, threads, asker);
        }
        for (l, (w, b)) in self.weights.iter().zip(&self.biases).enumerate() {
            let (jw, jb) = (jac.block(0, m, w.start, w.len()), jac.block(0, m, b.start, b.len()));
            gram_in_pieces(&mut self.gram, jw, l > 0, threads, asker)?;
            gram_in_pieces(&mut self.gram_b, jb, l > 0, threads, asker)?;
            matmul(&mut self.jw, jw, Operand::new(&params[w.clone()], w.len(), 1), l > 0, threads);
        }
        Ok(())
    }

    /// The step for the current μ from the p x p system; false when the
    /// damped system is not positive definite.
    fn step_by_params(&mut self, threads: usize, asker: &mut Asker) -> Result<bool, Stopped> {
        let p = self.step.len();
        self.system.copy_from_slice(&self.gram);
        for i in 0..p {
            self.system[i + i * p] += self.mu;
        }
        if !cholesky(&mut self.system, p, &mut self.panel, threads, asker)? {
            return Ok(false);
        }
        cholesky_substitute(&self.system, p, &self.gradient, &mut self.step);
        Ok(true)
    }

    /// The step for the current μ in the residuals' space; false when the
    /// damped system is not positive definite.
    ///
    /// With Λ = D + μI (diagonal, positive), the identity
    /// (JᵀJ + Λ)⁻¹ = Λ⁻¹ − Λ⁻¹Jᵀ(I + JΛ⁻¹Jᵀ)⁻¹JΛ⁻¹ turns the p x p solve
    /// into an m x m one. Applied to g = Jᵀr + D·w it gives
    /// d = Λ⁻¹(Jᵀz + D·w) with (I + JΛ⁻¹Jᵀ) z = r − JΛ⁻¹D·w. Scaled by μ
    /// (ẑ = z/μ), so that no term grows like 1/μ as μ → 0, and with
    /// c = μ/(μ + decay) (the weights' μΛ⁻¹; the biases' is 1):
    ///
    ///   (μI + J_b·J_bᵀ + c·J_w·J_wᵀ) ẑ = r − (1 − c)·J_w·w,
    ///   d_b = J_bᵀẑ,   d_w = c·J_wᵀẑ + (1 − c)·w.
    ///
    /// Without decay (c = 1) this is d = Jᵀ(JJᵀ + μI)⁻¹r.
    fn step_by_residuals(&mut self, params: &[f64], threads: usize, asker: &mut Asker) -> Result<bool, Stopped> {
        let (m, p) = (self.residual.len(), self.step.len());
        let (mu, decay) = (self.mu, self.decay);
        // Without decay c = 1 and shrink = 0: the system is JJᵀ + μI (there
        // is no J_b·J_bᵀ apart), and the right-hand side the residuals.
        let (c, shrink) = (mu / (mu + decay), decay / (mu + decay));
        if decay == 0.0 {
            self.system.copy_from_slice(&self.gram);
        } else {
            for ((s, &gw), &gb) in self.system.iter_mut().zip(&self.gram).zip(&self.gram_b) {
                *s = c * gw + gb;
            }
            for ((z, &r), &jw) in self.rhs.iter_mut().zip(&self.residual).zip(&self.jw) {
                *z = r - shrink * jw;
            }
        }
        for i in 0..m {
            self.system[i + i * m] += mu;
        }
        if !cholesky(&mut self.system, m, &mut self.panel, threads, asker)? {
            return Ok(false);
        }
        let rhs = if decay == 0.0 { &self.residual } else { &self.rhs };
        cholesky_substitute(&self.system, m, rhs, &mut self.solution);
        matmul(&mut self.step, Operand::new(&self.jac, m, p).t(), Operand::new(&self.solution, m, 1), false, threads);
        for i in self.weights.iter().flat_map(|r| r.clone()) {
            self.step[i] = c * self.step[i] + shrink * params[i];
        }
        Ok(true)
    }

    /// One iteration: the Jacobian at `params`, then steps of growing
    /// damping until one lowers the objective. `ask` is called now and then
    /// (on this thread, at most every few milliseconds of work); when it
    /// returns true the iteration stops, leaving `params` as they were, and
    /// returns [`Iteration::Interrupted`].
    pub fn iterate(&mut self, net: &Network, params: &mut [f64], data: Dataset, ws: &mut Workspace, threads: usize, ask: &mut dyn FnMut() -> bool) -> Iteration {
        let mu = self.mu;
        let mut asker = Asker { every: self.ask_every, last: Instant::now(), ask };
        match self.try_iterate(net, params, data, ws, threads, &mut asker) {
            Ok(iteration) => iteration,
            Err(Stopped) => {
                // The workspace may hold a trial: the next iteration starts afresh.
                self.mu = mu;
                self.started = false;
                Iteration::Interrupted
            }
        }
    }

    fn try_iterate(&mut self, net: &Network, params: &mut [f64], data: Dataset, ws: &mut Workspace, threads: usize, asker: &mut Asker) -> Result<Iteration, Stopped> {
        let arch = net.arch();
        let decay = self.decay;
        // After an accepted step the workspace and residuals already hold the
        // accepted point (iterate returns right after accepting).
        if !self.started {
            self.sse = Self::evaluate(&mut self.residual, net, params, data, decay, ws, threads);
            self.started = true;
        }
        asker.check()?;
        if self.by_residuals {
            self.residual_system(net, params, data, ws, threads, asker)?;
        } else {
            self.normal_equations(net, params, data, ws, threads, asker)?;
        }
        while self.mu <= MU_MAX {
            let solved = if self.by_residuals { self.step_by_residuals(params, threads, asker)? } else { self.step_by_params(threads, asker)? };
            if solved {
                for i in 0..params.len() {
                    self.trial[i] = params[i] - self.step[i];
                }
                asker.check()?;
                let sse = Self::evaluate(&mut self.trial_residual, net, &self.trial, data, decay, ws, threads);
                if sse.is_finite() && sse < self.sse {
                    params.copy_from_slice(&self.trial);
                    std::mem::swap(&mut self.residual, &mut self.trial_residual);
                    let gain = self.sse - sse;
                    self.sse = sse;
                    self.mu = (self.mu * 0.1).max(1e-20);
                    let reported = sse - decay * weight_norm2(arch, params);
                    if gain <= 1e-15 * sse.max(1e-300) {
                        return Ok(Iteration::Converged(reported));
                    }
                    return Ok(Iteration::Step(reported));
                }
            }
            self.mu *= 10.0;
        }
        // The workspace holds the last trial.
        self.started = false;
        Ok(Iteration::Converged(self.sse - decay * weight_norm2(arch, params)))
    }
}

/// [`gram_lower`] of `a` (n x k as used) in pieces of its columns, asking
/// between them whether to stop. The pieces depend on the shape alone.
fn gram_in_pieces(c: &mut [f64], a: Operand, accumulate: bool, threads: usize, asker: &mut Asker) -> Result<(), Stopped> {
    let (n, k) = a.shape();
    let width = (WORK_PER_ASK / (n * n / 2).max(1)).max(64);
    let mut k0 = 0;
    loop {
        let w = width.min(k - k0);
        gram_lower(&mut c[..n * n], a.block(0, n, k0, w), accumulate || k0 > 0, threads);
        k0 += w;
        if k0 >= k {
            return Ok(());
        }
        asker.check()?;
    }
}

fn weight_norm2(arch: &Architecture, params: &[f64]) -> f64 {
    (0..arch.layers()).map(|l| params[arch.weights(l)].iter().map(|w| w * w).sum::<f64>()).sum()
}

/// Columns per panel of [`cholesky`].
const CHOLESKY_BLOCK: usize = 64;

/// Factors the symmetric positive definite `a` (column-major n x n, lower
/// triangle read) as L·Lᵀ, leaving L in the lower triangle. Left-looking by
/// panels of [`CHOLESKY_BLOCK`] columns: each panel is first updated by the
/// columns to its left in one matrix product (in pieces of rows, asking
/// between them whether to stop), then factored column by column. `panel`
/// holds at least n·min(n, CHOLESKY_BLOCK) values. Ok(false) when `a` is not
/// positive definite.
fn cholesky(a: &mut [f64], n: usize, panel: &mut [f64], threads: usize, asker: &mut Asker) -> Result<bool, Stopped> {
    let mut k0 = 0;
    while k0 < n {
        let kb = CHOLESKY_BLOCK.min(n - k0);
        let rows = n - k0;
        if k0 > 0 {
            // a[k0.., k0..k0 + kb] −= L[k0.., ..k0] · L[k0..k0 + kb, ..k0]ᵀ
            let (left, right) = a.split_at_mut(k0 * n);
            let done = Operand::new(left, n, k0);
            let across = done.block(k0, kb, 0, k0).t();
            let piece = (WORK_PER_ASK / (kb * k0)).max(256);
            let mut r = 0;
            while r < rows {
                let h = piece.min(rows - r);
                matmul(&mut panel[..h * kb], done.block(k0 + r, h, 0, k0), across, false, threads);
                for j in 0..kb {
                    let col = &mut right[j * n + k0 + r..j * n + k0 + r + h];
                    col.iter_mut().zip(&panel[j * h..(j + 1) * h]).for_each(|(v, &t)| *v -= t);
                }
                r += h;
                asker.check()?;
            }
        }
        for j in 0..kb {
            let cj = k0 + j;
            let (before, from) = a.split_at_mut(cj * n);
            let col = &mut from[cj..n];
            for t in k0..cj {
                let l_t = &before[t * n + cj..t * n + n];
                let f = l_t[0];
                if f != 0.0 {
                    col.iter_mut().zip(l_t).for_each(|(v, &l)| *v -= f * l);
                }
            }
            let d = col[0];
            if !(d > 0.0) || !d.is_finite() {
                return Ok(false);
            }
            let d = d.sqrt();
            col[0] = d;
            col[1..].iter_mut().for_each(|v| *v /= d);
        }
        k0 += kb;
    }
    Ok(true)
}

/// Solves L·Lᵀ·x = b for the factor L left by [`cholesky`] in `l`.
fn cholesky_substitute(l: &[f64], n: usize, b: &[f64], x: &mut [f64]) {
    x[..n].copy_from_slice(&b[..n]);
    for j in 0..n {
        let col = &l[j * n..(j + 1) * n];
        x[j] /= col[j];
        let xj = x[j];
        x[j + 1..n].iter_mut().zip(&col[j + 1..]).for_each(|(x, &l)| *x -= l * xj);
    }
    for j in (0..n).rev() {
        let col = &l[j * n..(j + 1) * n];
        let s = dot(&col[j + 1..], &x[j + 1..n]);
        x[j] = (x[j] - s) / col[j];
    }
}

/// Solves `a · x = b` for symmetric positive definite `a` (column-major p x p,
/// lower triangle read, overwritten by its Cholesky factor). False when `a`
/// is not positive definite.
#[cfg(test)]
fn cholesky_solve(a: &mut [f64], b: &[f64], x: &mut [f64], p: usize) -> bool {
    let mut panel = vec![0.0; p * CHOLESKY_BLOCK.min(p)];
    let mut never = || false;
    let mut asker = Asker { every: Duration::MAX, last: Instant::now(), ask: &mut never };
    match cholesky(a, p, &mut panel, 1, &mut asker) {
        Ok(true) => {
            cholesky_substitute(a, p, b, x);
            true
        }
        _ => false,
    }
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
        let mut lm = LevenbergMarquardt::new(&arch, ROWS, 0.0);
        let data = Dataset::new(&x, &y, ROWS);
        let mut last = f64::INFINITY;
        for _ in 0..200 {
            match lm.iterate(&net, &mut p, data, &mut ws, 1, &mut || false) {
                Iteration::Step(s) => {
                    assert!(s <= last);
                    last = s;
                }
                Iteration::Converged(s) => {
                    last = s;
                    break;
                }
                Iteration::Interrupted => unreachable!(),
            }
        }
        assert!(last / (ROWS as f64) < 1e-5, "sse {}", last);
    }

    /// Random numbers in [-1, 1) from a seed, for test problems.
    fn uniform(len: usize, seed: u64) -> Vec<f64> {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::SmallRng::seed_from_u64(seed);
        (0..len).map(|_| rng.random::<f64>() * 2.0 - 1.0).collect()
    }

    fn never() -> impl FnMut() -> bool {
        || false
    }

    #[test]
    fn blocked_cholesky_solves_and_threads_do_not_change_it() {
        for (n, seed) in [(1, 1), (5, 2), (64, 3), (65, 4), (130, 5), (300, 6)] {
            // B·Bᵀ + I: symmetric positive definite.
            let b = uniform(n * n, seed);
            let mut a = vec![0.0; n * n];
            matmul(&mut a, Operand::new(&b, n, n), Operand::new(&b, n, n).t(), false, 1);
            (0..n).for_each(|i| a[i + i * n] += 1.0);
            let rhs = uniform(n, seed + 100);
            let solve = |threads: usize| {
                let mut f = a.clone();
                let mut panel = vec![0.0; n * CHOLESKY_BLOCK.min(n)];
                let mut no = never();
                let mut asker = Asker { every: Duration::ZERO, last: Instant::now(), ask: &mut no };
                assert!(matches!(cholesky(&mut f, n, &mut panel, threads, &mut asker), Ok(true)));
                let mut x = vec![0.0; n];
                cholesky_substitute(&f, n, &rhs, &mut x);
                x
            };
            let x = solve(1);
            let mut ax = vec![0.0; n];
            matmul(&mut ax, Operand::new(&a, n, n), Operand::new(&x, n, 1), false, 1);
            let scale = 1.0 + rhs.iter().map(|v| v.abs()).fold(0.0, f64::max);
            assert!(ax.iter().zip(&rhs).all(|(u, v)| (u - v).abs() < 1e-9 * scale), "n {}", n);
            assert!(x == solve(2), "n {}: threads change the solution", n);
        }
        // Not positive definite, in the first panel and in a later one.
        for n in [3, 100] {
            let mut a = vec![0.0; n * n];
            (0..n).for_each(|i| a[i + i * n] = 1.0);
            a[(n - 1) * (n + 1)] = -1.0;
            let mut x = vec![0.0; n];
            assert!(!cholesky_solve(&mut a, &vec![1.0; n], &mut x, n));
        }
    }

    /// A random problem: network, rows (weighted or not) and parameters.
    struct Problem {
        arch: Architecture,
        x: Vec<f64>,
        y: Vec<f64>,
        w: Option<Vec<f64>>,
        params: Vec<f64>,
        rows: usize,
    }

    impl Problem {
        fn new(sizes: Vec<usize>, rows: usize, weighted: bool, seed: u64) -> Problem {
            let layers = sizes.len() - 1;
            let (d, o) = (sizes[0], sizes[layers]);
            let mut acts = vec![Activation::Tanh; layers - 1];
            acts.push(if seed % 2 == 0 { Activation::Linear } else { Activation::Sigmoid });
            let arch = Architecture::new(sizes, acts, BiasLayout::Column, rows).unwrap();
            let params = uniform(arch.n_params(), seed + 1).iter().map(|v| v * 0.7).collect();
            let w = weighted.then(|| uniform(rows, seed + 2).iter().map(|v| 1.5 + v).collect());
            Problem { x: uniform(rows * d, seed + 3), y: uniform(rows * o, seed + 4), w, params, rows, arch }
        }

        fn data(&self) -> Dataset<'_> {
            Dataset::new(&self.x, &self.y, self.rows).weighted(self.w.as_deref())
        }

        /// `iterations` of LM by `system`; the parameters after each.
        fn fit(&self, decay: f64, system: LmSystem, iterations: usize, threads: usize) -> Vec<Vec<f64>> {
            let net = Network::new(&self.arch);
            let mut ws = Workspace::new(&net, self.rows);
            let mut lm = LevenbergMarquardt::with_system(&self.arch, self.rows, decay, system);
            let mut p = self.params.clone();
            let mut path = Vec::new();
            for _ in 0..iterations {
                let it = lm.iterate(&net, &mut p, self.data(), &mut ws, threads, &mut never());
                path.push(p.clone());
                if !matches!(it, Iteration::Step(_)) {
                    break;
                }
            }
            path
        }
    }

    fn max_difference(a: &[f64], b: &[f64]) -> f64 {
        let scale = a.iter().map(|v| v.abs()).fold(1e-300, f64::max);
        a.iter().zip(b).map(|(u, v)| (u - v).abs()).fold(0.0, f64::max) / scale
    }

    /// The step from the m x m system equals the step from the p x p normal
    /// equations, with and without decay, weights and several outputs, for
    /// fewer and for more residuals than parameters.
    #[test]
    fn the_residual_system_and_the_normal_equations_give_the_same_step() {
        let mut seed = 10;
        for (sizes, rows) in [(vec![3, 7, 2], 5), (vec![4, 6, 1], 9), (vec![2, 5, 4, 3], 11), (vec![3, 7, 2], 40), (vec![5, 30, 1], 300)] {
            for (weighted, decay) in [(false, 0.0), (true, 0.0), (false, 0.3), (true, 1e-4)] {
                seed += 10;
                let pb = Problem::new(sizes.clone(), rows, weighted, seed);
                let net = Network::new(&pb.arch);
                let mut ws = Workspace::new(&net, rows);
                let mut by_params = LevenbergMarquardt::with_system(&pb.arch, rows, decay, LmSystem::Params);
                let mut by_residuals = LevenbergMarquardt::with_system(&pb.arch, rows, decay, LmSystem::Residuals);
                let auto = LevenbergMarquardt::new(&pb.arch, rows, decay);
                assert_eq!(auto.solves_by_residuals(), rows * pb.arch.outputs() < pb.arch.n_params());
                let mut no = never();
                let mut asker = Asker { every: Duration::ZERO, last: Instant::now(), ask: &mut no };
                for lm in [&mut by_params, &mut by_residuals] {
                    lm.sse = LevenbergMarquardt::evaluate(&mut lm.residual, &net, &pb.params, pb.data(), decay, &mut ws, 1);
                }
                assert!(by_params.normal_equations(&net, &pb.params, pb.data(), &ws, 1, &mut asker).is_ok());
                assert!(by_residuals.residual_system(&net, &pb.params, pb.data(), &ws, 2, &mut asker).is_ok());
                // Each system's rounding error grows as ‖J‖²/μ when it is the
                // larger one (rank-deficient but for μ): the μ are not tiny.
                for mu in [1e-2, 1.0, 100.0] {
                    by_params.mu = mu;
                    by_residuals.mu = mu;
                    assert!(matches!(by_params.step_by_params(1, &mut asker), Ok(true)));
                    assert!(matches!(by_residuals.step_by_residuals(&pb.params, 2, &mut asker), Ok(true)));
                    let diff = max_difference(&by_params.step, &by_residuals.step);
                    assert!(diff < 1e-10, "sizes {:?} rows {} weighted {} decay {} mu {}: {:e}", sizes, rows, weighted, decay, mu, diff);
                }
            }
        }
    }

    /// With fewer residuals than parameters, LM trains to the same
    /// parameters whichever system solves its steps; and the thread count
    /// changes no bit.
    #[test]
    fn levenberg_marquardt_trains_the_same_by_either_system() {
        for (decay, seed) in [(0.0, 3), (1e-2, 4), (0.0, 6)] {
            let pb = Problem::new(vec![4, 10, 1], 20, seed == 6, seed);
            assert!(pb.rows < pb.arch.n_params());
            let by_params = pb.fit(decay, LmSystem::Params, 8, 1);
            let by_residuals = pb.fit(decay, LmSystem::Residuals, 8, 1);
            assert_eq!(by_params.len(), by_residuals.len());
            for (e, (a, b)) in by_params.iter().zip(&by_residuals).enumerate() {
                let diff = max_difference(a, b);
                assert!(diff < 1e-8, "decay {} iteration {}: {:e}", decay, e + 1, diff);
            }
            assert_ne!(by_residuals[by_residuals.len() - 1], pb.params);
            assert!(by_residuals == pb.fit(decay, LmSystem::Residuals, 8, 2));
        }
    }

    /// Stopped at any of its asks, an iteration leaves the parameters as
    /// they were, and the next one goes on as if it had not been stopped.
    #[test]
    fn an_interrupted_iteration_leaves_the_parameters_alone() {
        // 300 rows: two chunks of the Jacobian; 441 parameters: several
        // panels of either factorisation.
        let pb = Problem::new(vec![20, 20, 1], 300, false, 40);
        for system in [LmSystem::Params, LmSystem::Residuals] {
            let net = Network::new(&pb.arch);
            let mut ws = Workspace::new(&net, pb.rows);
            let uninterrupted = pb.fit(0.01, system, 2, 1);
            // How many asks one iteration makes (the second, from a started state).
            let count_asks = |stop_at: usize| {
                let mut lm = LevenbergMarquardt::with_system(&pb.arch, pb.rows, 0.01, system);
                lm.ask_every(Duration::ZERO);
                let mut p = pb.params.clone();
                assert!(matches!(lm.iterate(&net, &mut p, pb.data(), &mut Workspace::new(&net, pb.rows), 1, &mut never()), Iteration::Step(_)));
                let before = p.clone();
                let mut asks = 0;
                let it = lm.iterate(&net, &mut p, pb.data(), &mut Workspace::new(&net, pb.rows), 1, &mut || {
                    asks += 1;
                    asks == stop_at
                });
                (it, before, p, lm, asks)
            };
            let (_, _, _, _, asks) = count_asks(0);
            assert!(asks >= 6, "{:?}: only {} asks", system, asks);
            for stop_at in 1..=asks {
                let (it, before, mut p, mut lm, _) = count_asks(stop_at);
                assert!(matches!(it, Iteration::Interrupted), "{:?} stop at {}", system, stop_at);
                assert!(p == before, "{:?} stop at {}: the parameters moved", system, stop_at);
                // Resumed, the iteration ends where the uninterrupted one did.
                let it = lm.iterate(&net, &mut p, pb.data(), &mut ws, 1, &mut never());
                assert!(matches!(it, Iteration::Step(_)));
                assert!(p == uninterrupted[1], "{:?} stop at {}: resumed differently", system, stop_at);
            }
        }
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
                Iteration::Interrupted => unreachable!(),
            }
        }
        assert!(last / (ROWS as f64) < 1e-4, "mse {}", last / (ROWS as f64));
    }
}
