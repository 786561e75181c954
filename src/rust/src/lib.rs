//! backprop's Rust crate. The modules below are the training core and know
//! nothing of R; the rest of this file is the extendr glue: convert R objects,
//! call the core, convert back. Arguments arrive already validated by the R
//! functions in `R/`; the checks here only guard against misuse of the
//! internal entry points.

pub mod activation;
pub mod dropout;
pub mod init;
pub mod linalg;
pub mod loss;
pub mod network;
pub mod optimizer;
pub mod parallel;
pub mod penalty;
pub mod real;
pub mod schedule;
pub mod second_order;
pub mod simd;
pub mod small;
pub mod trace;
pub mod train;

use activation::Activation;
use extendr_api::prelude::*;
use extendr_api::Result;
use ndarray::ArrayView2;
use loss::Loss;
use network::{Architecture, BiasLayout, Workspace};
use optimizer::Optimizer;
use extendr_ffi::{
    cetype_t, GetRNGstate, PutRNGstate, R_NamesSymbol, R_xlen_t, Rf_allocMatrix, Rf_allocVector, Rf_getAttrib, Rf_mkCharLenCE,
    Rf_protect, Rf_runif, Rf_setAttrib, Rf_unprotect, Rf_xlength, LOGICAL, REAL, R_CHAR, SET_STRING_ELT, SET_VECTOR_ELT, SEXP,
    SEXPTYPE, STRING_ELT, TYPEOF, VECTOR_ELT,
};
use std::ffi::{c_int, CStr};
use std::marker::PhantomData;
use std::time::{Duration, Instant};
use schedule::Schedule;
use train::{Control, Dataset, Progress, Status, TrainConfig};

/// An R error whose message cannot reach R's printf as a format directive.
fn r_error(msg: impl AsRef<str>) -> Error {
    Error::Other(msg.as_ref().replace('%', " percent"))
}

/// The fields of a named R list, read through R's C API. An `Robj` per
/// field would be registered in extendr's global protection table (a hashed
/// insert and removal each), which costs more than the article network's
/// whole training. The list is an argument of the `.Call`, so R keeps it and
/// everything in it alive until the call returns; `'a` ties the fields to it.
struct Fields<'a>(Vec<(&'a str, Value<'a>)>);

/// One field of a [`Fields`] list.
#[derive(Clone, Copy)]
struct Value<'a>(SEXP, PhantomData<&'a List>);

/// The text of a CHARSXP ("" if it is not UTF-8).
///
/// # Safety
/// `charsxp` must be a CHARSXP that R keeps alive for `'a`.
unsafe fn char_text<'a>(charsxp: SEXP) -> &'a str {
    CStr::from_ptr(R_CHAR(charsxp)).to_str().unwrap_or("")
}

impl<'a> Fields<'a> {
    fn of(list: &'a List) -> Fields<'a> {
        // SAFETY: `list` is a VECSXP that R keeps alive for the call; its
        // names, when present, are a STRSXP of the same length.
        unsafe {
            let sexp = list.get();
            let names = Rf_getAttrib(sexp, R_NamesSymbol);
            let len = Rf_xlength(sexp);
            let named = TYPEOF(names) == SEXPTYPE::STRSXP && Rf_xlength(names) == len;
            Fields(
                (0..len)
                    .map(|i| (if named { char_text(STRING_ELT(names, i)) } else { "" }, Value(VECTOR_ELT(sexp, i), PhantomData)))
                    .collect(),
            )
        }
    }
}

impl<'a> Value<'a> {
    fn is(&self, kind: SEXPTYPE) -> bool {
        // SAFETY: the SEXP is alive for 'a (see Fields).
        unsafe { TYPEOF(self.0) == kind }
    }

    /// A double vector's elements.
    fn reals(&self) -> Option<&'a [f64]> {
        if !self.is(SEXPTYPE::REALSXP) {
            return None;
        }
        // SAFETY: a REALSXP of that length, alive for 'a and not written
        // during the call (R's values are copied before they are modified).
        unsafe {
            let len = Rf_xlength(self.0) as usize;
            Some(if len == 0 { &[] } else { std::slice::from_raw_parts(REAL(self.0), len) })
        }
    }

    /// A double vector's only element.
    fn real(&self) -> Option<f64> {
        self.reals().filter(|v| v.len() == 1).map(|v| v[0])
    }

    /// A character vector's elements (NA reads as "NA").
    fn texts(&self) -> Option<Vec<&'a str>> {
        if !self.is(SEXPTYPE::STRSXP) {
            return None;
        }
        // SAFETY: a STRSXP, alive for 'a; its elements are CHARSXPs.
        unsafe { Some((0..Rf_xlength(self.0)).map(|i| char_text(STRING_ELT(self.0, i))).collect()) }
    }

    /// A character vector's only element.
    fn text(&self) -> Option<&'a str> {
        self.texts().filter(|v| v.len() == 1).map(|v| v[0])
    }

    /// Element `i` of a list.
    fn element(&self, i: usize) -> Option<Value<'a>> {
        // SAFETY: a VECSXP with more than i elements, alive for 'a; its
        // elements are alive as long as it is.
        unsafe {
            (self.is(SEXPTYPE::VECSXP) && (i as R_xlen_t) < Rf_xlength(self.0)).then(|| Value(VECTOR_ELT(self.0, i as R_xlen_t), PhantomData))
        }
    }

    /// TRUE or FALSE (NA and anything else: None).
    fn flag(&self) -> Option<bool> {
        // SAFETY: a LGLSXP of length one, alive for 'a.
        unsafe {
            if !self.is(SEXPTYPE::LGLSXP) || Rf_xlength(self.0) != 1 {
                return None;
            }
            match *LOGICAL(self.0) {
                0 => Some(false),
                1 => Some(true),
                _ => None,
            }
        }
    }
}

fn field<'a>(list: &Fields<'a>, name: &str) -> Result<Value<'a>> {
    list.0
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| *v)
        .ok_or_else(|| r_error(format!("internal: missing field '{}'", name)))
}

fn real(list: &Fields, name: &str) -> Result<f64> {
    field(list, name)?.real().ok_or_else(|| r_error(format!("internal: '{}' must be a double", name)))
}

/// Observation weights: absent or NULL for none, else one finite,
/// non-negative double per row.
fn row_weights<'a>(list: &Fields<'a>, name: &str, rows: usize) -> Result<Option<&'a [f64]>> {
    let Ok(value) = field(list, name) else { return Ok(None) };
    if value.is(SEXPTYPE::NILSXP) {
        return Ok(None);
    }
    match value.reals() {
        Some(w) if w.len() == rows && w.iter().all(|w| w.is_finite() && *w >= 0.0) => Ok(Some(w)),
        _ => Err(r_error(format!("internal: '{}' must hold one non-negative weight per row", name))),
    }
}

fn count(list: &Fields, name: &str) -> Result<usize> {
    let v = real(list, name)?;
    if v >= 0.0 && v.fract() == 0.0 && v < 9.0e15 {
        Ok(v as usize)
    } else {
        Err(r_error(format!("internal: '{}' must be a non-negative whole number", name)))
    }
}

fn text<'a>(list: &Fields<'a>, name: &str) -> Result<&'a str> {
    field(list, name)?.text().ok_or_else(|| r_error(format!("internal: '{}' must be a string", name)))
}

/// A new R list, built through R's C API (see [`Fields`] for why): the list
/// is protected once, as an `Robj`, and each element is stored in it as soon
/// as it is allocated, before anything else is, so the list protects it.
struct NewList {
    list: Robj,
    sexp: SEXP,
}

impl NewList {
    /// A list with these names, its elements NULL until put.
    fn named(names: &[&str]) -> NewList {
        // SAFETY: each allocation is stored in a protected object before the next.
        unsafe {
            let sexp = Rf_allocVector(SEXPTYPE::VECSXP, names.len() as R_xlen_t);
            let list = Robj::from_sexp(sexp);
            // The names are filled while protected, then attached (which
            // may allocate, and may or may not copy them).
            let r_names = Rf_protect(Rf_allocVector(SEXPTYPE::STRSXP, names.len() as R_xlen_t));
            for (i, name) in names.iter().enumerate() {
                SET_STRING_ELT(r_names, i as R_xlen_t, Rf_mkCharLenCE(name.as_ptr().cast(), name.len() as c_int, cetype_t::CE_UTF8));
            }
            Rf_setAttrib(sexp, R_NamesSymbol, r_names);
            Rf_unprotect(1);
            NewList { list, sexp }
        }
    }

    /// Element `i`: a double vector holding `data`, shaped `rows x cols`
    /// when `dim` is given.
    fn put_reals(&mut self, i: usize, data: &[f64], dim: Option<(usize, usize)>) {
        put_reals(self.sexp, i, data, dim);
    }

    fn put_text(&mut self, i: usize, text: &str) {
        // SAFETY: as in `named`.
        unsafe {
            let v = Rf_allocVector(SEXPTYPE::STRSXP, 1);
            SET_VECTOR_ELT(self.sexp, i as R_xlen_t, v);
            SET_STRING_ELT(v, 0, Rf_mkCharLenCE(text.as_ptr().cast(), text.len() as c_int, cetype_t::CE_UTF8));
        }
    }

    /// Element `i`: an unnamed list of `len` elements, returned (protected
    /// by this list) for filling with [`put_reals`].
    fn put_list(&mut self, i: usize, len: usize) -> SEXP {
        // SAFETY: as in `named`.
        unsafe {
            let v = Rf_allocVector(SEXPTYPE::VECSXP, len as R_xlen_t);
            SET_VECTOR_ELT(self.sexp, i as R_xlen_t, v);
            v
        }
    }

    fn into_list(self) -> Result<List> {
        List::try_from(self.list)
    }
}

/// Stores at `parent[[i]]` a new double vector holding `data`, shaped
/// `rows x cols` when `dim` is given. `parent` must be a protected list
/// with more than `i` elements (a [`NewList`] or a list it holds).
fn put_reals(parent: SEXP, i: usize, data: &[f64], dim: Option<(usize, usize)>) {
    // SAFETY: the new vector is stored in the protected parent before
    // anything else is allocated.
    unsafe {
        assert!(TYPEOF(parent) == SEXPTYPE::VECSXP && (i as R_xlen_t) < Rf_xlength(parent));
        SET_VECTOR_ELT(parent, i as R_xlen_t, new_reals(data, dim));
    }
}

/// A new, unprotected R double vector holding `data`, shaped `rows x cols`
/// when `dim` is given.
///
/// # Safety
/// The caller must protect or store it before R allocates anything else.
unsafe fn new_reals(data: &[f64], dim: Option<(usize, usize)>) -> SEXP {
    if let Some((rows, cols)) = dim {
        // (R's dimensions are C ints.)
        assert!(rows * cols == data.len() && rows <= c_int::MAX as usize && cols <= c_int::MAX as usize, "internal: matrix shape and data disagree");
    }
    let v = match dim {
        Some((rows, cols)) => Rf_allocMatrix(SEXPTYPE::REALSXP, rows as c_int, cols as c_int),
        None => Rf_allocVector(SEXPTYPE::REALSXP, data.len() as R_xlen_t),
    };
    if !data.is_empty() {
        std::slice::from_raw_parts_mut(REAL(v), data.len()).copy_from_slice(data);
    }
    v
}

/// A double matrix's data (column-major) and shape, borrowed from R without
/// copying through an ndarray view of R's memory.
fn matrix<'a>(x: &'a Robj, what: &str) -> Result<(&'a [f64], usize, usize)> {
    let view = ArrayView2::<f64>::try_from(x).map_err(|_| r_error(format!("internal: {} must be a double matrix", what)))?;
    let (r, c) = view.dim();
    let data = x.as_real_slice().ok_or_else(|| r_error(format!("internal: {} must be a double matrix", what)))?;
    debug_assert_eq!(view.as_ptr(), data.as_ptr());
    Ok((&data[..r * c], r, c))
}

/// The architecture from `spec = list(sizes, activation, output, bias)`.
fn architecture(spec: &Fields, rows: usize) -> Result<Architecture> {
    let sizes: Vec<usize> = field(spec, "sizes")?
        .reals()
        .ok_or_else(|| r_error("internal: sizes must be doubles"))?
        .iter()
        .map(|&s| s as usize)
        .collect();
    // The hidden layers' activations, then the output's.
    let mut names = field(spec, "activation")?.texts().ok_or_else(|| r_error("internal: activation must be strings"))?;
    names.push(text(spec, "output")?);
    let acts: Vec<Activation> = names
        .into_iter()
        .map(|a| Activation::parse(a).ok_or_else(|| r_error(format!("unknown activation '{}'", a))))
        .collect::<Result<_>>()?;
    let bias = match text(spec, "bias")? {
        "column" => BiasLayout::Column,
        "row" => BiasLayout::Row,
        other => return Err(r_error(format!("unknown bias layout '{}'", other))),
    };
    Architecture::new(sizes, acts, bias, rows).map_err(r_error)
}

/// Flattens `list(weights = list(W1, W2, ...), biases = list(b1, b2, ...))`
/// into the core's parameter vector.
fn flatten_params(arch: &Architecture, blocks: &List) -> Result<Vec<f64>> {
    let blocks = Fields::of(blocks);
    let (weights, biases) = (field(&blocks, "weights")?, field(&blocks, "biases")?);
    let mut params = vec![0.0; arch.n_params()];
    for l in 0..arch.layers() {
        for (kind, list, range) in [("weight", weights, arch.weights(l)), ("bias", biases, arch.biases(l))] {
            let data = list
                .element(l)
                .and_then(|m| m.reals())
                .ok_or_else(|| r_error(format!("internal: {} matrix {} is missing or not double", kind, l + 1)))?;
            if data.len() != range.len() {
                return Err(r_error(format!("internal: {} matrix {} has the wrong size", kind, l + 1)));
            }
            params[range].copy_from_slice(data);
        }
    }
    Ok(params)
}

fn new_matrix(data: &[f64], rows: usize, cols: usize) -> Robj {
    // SAFETY: protected as an Robj at once.
    unsafe { Robj::from_sexp(new_reals(&data[..rows * cols], Some((rows, cols)))) }
}

/// Stores the weight matrices of the parameter vector at `out[[i]]` and the
/// bias matrices at `out[[i + 1]]`, as two lists.
fn put_params(out: &mut NewList, i: usize, arch: &Architecture, params: &[f64]) {
    let (weights, biases) = (out.put_list(i, arch.layers()), out.put_list(i + 1, arch.layers()));
    for l in 0..arch.layers() {
        put_reals(weights, l, &params[arch.weights(l)], Some((arch.fan_in(l), arch.fan_out(l))));
        put_reals(biases, l, &params[arch.biases(l)], Some((arch.bias_rows(), arch.fan_out(l))));
    }
}

fn optimizer(spec: &Fields) -> Result<Optimizer> {
    Ok(match text(spec, "optimizer")? {
        "gd" => Optimizer::Gd,
        "sgd" => Optimizer::Sgd {
            momentum: real(spec, "momentum")?,
            nesterov: field(spec, "nesterov")?.flag().unwrap_or(false),
        },
        "adam" => Optimizer::Adam { beta1: real(spec, "beta1")?, beta2: real(spec, "beta2")?, eps: real(spec, "epsilon")? },
        "adamw" => Optimizer::AdamW { beta1: real(spec, "beta1")?, beta2: real(spec, "beta2")?, eps: real(spec, "epsilon")? },
        "rmsprop" => Optimizer::RmsProp { rho: real(spec, "rho")?, eps: real(spec, "epsilon")? },
        "lm" => Optimizer::Lm,
        "lbfgs" => Optimizer::Lbfgs,
        other => return Err(r_error(format!("unknown optimizer '{}'", other))),
    })
}

extern "C" {
    fn R_ToplevelExec(fun: Option<unsafe extern "C" fn(*mut std::ffi::c_void)>, data: *mut std::ffi::c_void) -> std::os::raw::c_int;
    fn R_CheckUserInterrupt();
    /// R's normal deviate with mean `mu` and standard deviation `sigma`, as
    /// `rnorm()` draws each element (Rmath's `rnorm`).
    fn Rf_rnorm(mu: f64, sigma: f64) -> f64;
}

unsafe extern "C" fn check_interrupt(_: *mut std::ffi::c_void) {
    R_CheckUserInterrupt();
}

/// True when the user has asked R to stop (Ctrl-C, RStudio's stop button).
/// R_CheckUserInterrupt would jump out of Rust; inside R_ToplevelExec the jump
/// ends at that boundary instead, which then returns false.
fn interrupt_pending() -> bool {
    unsafe { R_ToplevelExec(Some(check_interrupt), std::ptr::null_mut()) == 0 }
}

const CLOCK_EVERY: Duration = Duration::from_millis(10);
const POLL_EVERY: Duration = Duration::from_millis(100);
const REPORT_EVERY: Duration = Duration::from_millis(200);

/// Reads the clock on about one call in `stride`, the stride adapting so that
/// reads are CLOCK_EVERY apart.
struct Pacer {
    stride: u64,
    countdown: u64,
    last: Instant,
}

impl Pacer {
    fn new() -> Pacer {
        Pacer { stride: 1, countdown: 1, last: Instant::now() }
    }

    /// The time now, on the calls where the clock is read.
    fn tick(&mut self, force: bool) -> Option<Instant> {
        self.countdown -= 1;
        if self.countdown > 0 && !force {
            return None;
        }
        let now = Instant::now();
        let per_call = now.duration_since(self.last).as_nanos() as u64 / self.stride.max(1);
        self.stride = (CLOCK_EVERY.as_nanos() as u64 / per_call.max(1)).clamp(1, 1 << 16);
        self.countdown = self.stride;
        self.last = now;
        Some(now)
    }
}

/// Trains a network. `spec` is the R side's training spec (see [`problem`]),
/// `params` is `list(weights = list(W1, ...), biases = list(b1, ...))`;
/// returns the trained weights and biases (in the same form), the training
/// output, the loss history and how training ended.
#[extendr]
fn train_(x: Robj, y: Robj, spec: List, params: List, x_val: Robj, y_val: Robj, progress: Robj, watcher: Robj) -> Result<List> {
    let Problem { x: xs, y: ys, n, arch, params: mut flat, cfg, single } = problem(&x, &y, &spec, &params)?;
    let weights = row_weights(&Fields::of(&spec), "weights", n)?;
    let (d, o) = (arch.inputs(), arch.outputs());
    let validation = if x_val.is_null() {
        None
    } else {
        let (xv, nv, dv) = matrix(&x_val, "x_val")?;
        let (yv, nyv, ov) = matrix(&y_val, "y_val")?;
        if nv != nyv || dv != d || ov != o {
            return Err(r_error("internal: validation data disagree with the architecture"));
        }
        Some(Dataset::new(xv, yv, nv).weighted(row_weights(&Fields::of(&spec), "val_weights", nv)?))
    };
    let reporter = if progress.is_null() { None } else { Some(Function::try_from(progress)?) };
    // The R side's callback: function(epoch, loss, val_loss, params) -> TRUE to stop.
    let watcher = if watcher.is_null() { None } else { Some(Function::try_from(watcher)?) };
    let watch_every = if watcher.is_some() { count(&Fields::of(&spec), "callback_every")?.max(1) } else { 1 };
    let mut cfg = cfg;
    cfg.watch = watcher.is_some();

    // Looking at the clock every epoch would cost more than a tiny epoch, so
    // the clock is read about every CLOCK_EVERY of training, however long an
    // epoch takes; the interrupt poll and progress report follow the clock.
    let mut clock = Pacer::new();
    let mut last_poll = Instant::now();
    let mut last_report = Instant::now();
    let mut callback_error: Option<Error> = None;
    let mut watcher_error: Option<Error> = None;
    let mut stopped_by_watcher = false;
    let mut on_epoch = |p: &Progress| -> Control {
        if let (Some(f), Some(params), true) = (&watcher, p.params, p.epoch % watch_every == 0) {
            let stop = f.call(pairlist!(p.epoch as f64, p.loss, p.val_loss, params));
            match stop.map(|s| s.as_bool()) {
                Ok(Some(true)) => {
                    stopped_by_watcher = true;
                    return Control::Stop;
                }
                Ok(_) => {}
                Err(e) => {
                    watcher_error = Some(e);
                    return Control::Stop;
                }
            }
        }
        let last = p.epoch == p.epochs && p.epoch_done;
        let Some(now) = clock.tick(last) else { return Control::Continue };
        if now.duration_since(last_poll) >= POLL_EVERY || last {
            last_poll = now;
            if interrupt_pending() {
                return Control::Stop;
            }
        }
        if let (Some(f), true) = (&reporter, p.epoch_done) {
            if now.duration_since(last_report) >= REPORT_EVERY || last {
                last_report = now;
                if let Err(e) = f.call(pairlist!(p.epoch as f64, p.loss)) {
                    callback_error = Some(e);
                    return Control::Stop;
                }
            }
        }
        Control::Continue
    };
    let history = if single {
        // R has no f32 storage: the data are copied once into single precision.
        let f32s = |v: &[f64]| v.iter().map(|&v| v as f32).collect::<Vec<f32>>();
        let (x32, y32, w32) = (f32s(xs), f32s(ys), weights.map(f32s));
        let val32 = validation.map(|v| (f32s(v.x), f32s(v.y), v.w.map(f32s), v.rows));
        let val32 = val32.as_ref().map(|(x, y, w, rows)| Dataset::new(x.as_slice(), y.as_slice(), *rows).weighted(w.as_deref()));
        let mut p32 = f32s(&flat);
        let data32 = Dataset::new(&x32, &y32, n).weighted(w32.as_deref());
        let history = train::train(&arch, &mut p32, data32, val32, &cfg, &mut on_epoch);
        flat.iter_mut().zip(&p32).for_each(|(d, &s)| *d = s as f64);
        history
    } else {
        train::train(&arch, &mut flat, Dataset::new(xs, ys, n).weighted(weights), validation, &cfg, &mut on_epoch)
    };
    if let Some(e) = callback_error {
        let msg: String = e.to_string().chars().take(200).collect();
        return Err(r_error(format!("the progress report failed: {}", msg)));
    }

    let (status, diverged_at) = match history.status {
        Status::Completed => ("completed", 0.0),
        Status::EarlyStopped => ("early_stopped", 0.0),
        Status::Interrupted if stopped_by_watcher => ("stopped", 0.0),
        Status::Interrupted => ("interrupted", 0.0),
        Status::Diverged { epoch } => ("diverged", epoch as f64),
    };
    if let Some(e) = watcher_error {
        let msg: String = e.to_string().chars().take(200).collect();
        return Err(r_error(format!("the callback failed: {}", msg)));
    }
    let mut out = NewList::named(&["weights", "biases", "output", "loss", "val_loss", "best_epoch", "status", "diverged_at"]);
    put_params(&mut out, 0, &arch, &flat);
    out.put_reals(2, &history.output[..n * o], Some((n, o)));
    out.put_reals(3, &history.loss, None);
    out.put_reals(4, &history.val_loss, None);
    out.put_reals(5, &[history.best_epoch as f64], None);
    out.put_text(6, status);
    out.put_reals(7, &[diverged_at], None);
    out.into_list()
}

/// Network outputs for new rows `x` (parameters as `list(weights =, biases =)`, column biases).
#[extendr]
fn predict_(x: Robj, spec: List, params: List, threads: f64) -> Result<Robj> {
    let (xs, n, d) = matrix(&x, "x")?;
    let arch = architecture(&Fields::of(&spec), 1)?;
    if arch.bias_layout() != BiasLayout::Column || d != arch.inputs() {
        return Err(r_error("internal: predict needs column biases and matching inputs"));
    }
    let flat = flatten_params(&arch, &params)?;
    let mut out = vec![0.0; n * arch.outputs()];
    let mut ws = Workspace::new(&arch, n.clamp(1, 4096));
    network::predict(&arch, &flat, xs, n, &mut out, &mut ws, threads.max(1.0) as usize);
    Ok(new_matrix(&out, n, arch.outputs()))
}

/// Reads x, y, the architecture, its parameters and the training settings
/// as `train_` receives them.
struct Problem<'a> {
    x: &'a [f64],
    y: &'a [f64],
    n: usize,
    arch: Architecture,
    params: Vec<f64>,
    cfg: TrainConfig,
    /// Train in f32 (`precision = "single"`).
    single: bool,
}

/// `spec` holds the architecture (`sizes`, `activation`, `output`, `bias`) and the
/// settings (`loss`, `optimizer` and its constants, `lr`, `epochs`,
/// `batch_size`, `weight_decay`, `patience`, `seed`, `threads`, `precision`),
/// as `training_spec()` in R/spec.R lays them out; other fields are ignored.
fn problem<'a>(x: &'a Robj, y: &'a Robj, spec: &List, params: &List) -> Result<Problem<'a>> {
    let (xs, n, d) = matrix(x, "x")?;
    let (ys, ny, o) = matrix(y, "y")?;
    let spec = Fields::of(spec);
    let arch = architecture(&spec, n)?;
    if ny != n || d != arch.inputs() || o != arch.outputs() {
        return Err(r_error("internal: x, y and the architecture disagree"));
    }
    let params = flatten_params(&arch, params)?;
    let loss_name = text(&spec, "loss")?;
    // Settings the trace and the gradient check leave out take their defaults.
    let optional = |name: &str| field(&spec, name).ok().and_then(|v| v.real());
    let schedule = match field(&spec, "lr_factors").ok().and_then(|v| v.reals()) {
        Some(factors) => Schedule::Table(factors.to_vec()),
        None => {
            let name = field(&spec, "lr_schedule").ok().and_then(|v| v.text()).unwrap_or("constant");
            Schedule::parse(name).ok_or_else(|| r_error(format!("unknown learning-rate schedule '{}'", name)))?
        }
    };
    let dropout = field(&spec, "dropout").ok().and_then(|v| v.reals()).unwrap_or(&[]).to_vec();
    if !(dropout.is_empty() || dropout.len() == arch.layers() - 1) || dropout.iter().any(|r| !(0.0..1.0).contains(r)) {
        return Err(r_error("internal: dropout needs one rate in [0, 1) per hidden layer"));
    }
    let cfg = TrainConfig {
        loss: Loss::parse(loss_name, optional("loss_param").unwrap_or(0.0))
            .ok_or_else(|| r_error(format!("unknown loss '{}' or a bad parameter for it", loss_name)))?,
        optimizer: optimizer(&spec)?,
        lr: real(&spec, "lr")?,
        epochs: count(&spec, "epochs")?,
        batch_size: count(&spec, "batch_size")?,
        weight_decay: real(&spec, "weight_decay")?,
        l1: optional("l1").unwrap_or(0.0),
        clip_norm: optional("clip_norm"),
        schedule,
        dropout,
        watch: false,
        patience: field(&spec, "patience")?.real().map(|p| p as usize),
        seed: real(&spec, "seed")? as u64,
        threads: count(&spec, "threads")?.max(1),
    };
    // Absent means double.
    let single = field(&spec, "precision").ok().and_then(|p| p.text()).is_some_and(|p| p == "single");
    Ok(Problem { x: xs, y: ys, n, arch, params, cfg, single })
}

/// Every intermediate matrix of one iteration of a one-hidden-layer network,
/// under the article's names, and the parameters after the iteration's update.
#[extendr]
fn trace_(x: Robj, y: Robj, spec: List, params: List) -> Result<List> {
    let pb = problem(&x, &y, &spec, &params)?;
    if pb.arch.layers() != 2 {
        return Err(r_error("internal: the trace shows one hidden layer"));
    }
    let t = trace::Trace::of(&pb.arch, &pb.params, Dataset::new(pb.x, pb.y, pb.n), &pb.cfg);
    let mut out = NewList::named(&trace::Trace::NAMES);
    for (i, (data, rows, cols)) in t.matrices(&pb.arch).into_iter().enumerate() {
        out.put_reals(i, data, Some((rows, cols)));
    }
    out.into_list()
}

/// The objective (mean over rows of the per-row loss, see `Loss::objective`)
/// and its gradient by backpropagation, for gradient checks.
#[extendr]
fn objective_(x: Robj, y: Robj, spec: List, params: List) -> Result<List> {
    let pb = problem(&x, &y, &spec, &params)?;
    let data = Dataset::new(pb.x, pb.y, pb.n);
    let (value, gradient) = second_order::objective_and_gradient(&pb.arch, &pb.params, data, pb.cfg.loss, &pb.cfg.penalty(), pb.cfg.threads);
    let mut out = NewList::named(&["value", "gradient"]);
    out.put_reals(0, &[value], None);
    out.put_reals(1, &gradient, None);
    out.into_list()
}

/// Starting weights and biases for layer sizes `sizes` = (d, h1, ..., o),
/// drawn from R's RNG by the table in [`init`]. One fetch and store of R's
/// RNG state serves every draw: drawn by `rnorm()` and `runif()` from R,
/// each of the article's four draws fetched and stored it, which cost more
/// than the article network's training. Returns
/// `list(weights = list(...), biases = list(...))`.
#[extendr]
fn draw_params_(init: &str, sizes: &[f64], bias_rows: f64) -> Result<List> {
    if sizes.iter().chain([&bias_rows]).any(|&s| !(s >= 1.0 && s.fract() == 0.0 && s < 1e15)) {
        return Err(r_error("internal: sizes and bias_rows must be positive whole numbers"));
    }
    let sizes: Vec<usize> = sizes.iter().map(|&s| s as usize).collect();
    let layers = sizes.len().saturating_sub(1);
    // The parameters' layout (the activations play no part in it).
    let arch = Architecture::new(sizes, vec![Activation::Linear; layers], BiasLayout::Row, bias_rows as usize).map_err(r_error)?;
    let start = init::Start::parse(init).ok_or_else(|| r_error(format!("internal: unknown init '{}'", init)))?;
    // SAFETY: called from R's thread; every draw happens between the fetch
    // and the store of R's RNG state, with nothing in between that can fail.
    let params = unsafe {
        GetRNGstate();
        let params = start.draw(&arch, |deviate| match deviate {
            init::Deviate::Normal(sd) => Rf_rnorm(0.0, sd),
            init::Deviate::Uniform(lo, hi) => Rf_runif(lo, hi),
        });
        PutRNGstate();
        params
    };
    let mut out = NewList::named(&["weights", "biases"]);
    put_params(&mut out, 0, &arch, &params);
    out.into_list()
}

/// GFLOP/s of the crate's matrix product on an `n x n` by `n x n` product
/// (best of `reps`), for the benchmarks' hardware limit.
#[extendr]
fn gemm_rate_(n: f64, threads: f64, reps: f64) -> f64 {
    let n = n.max(1.0) as usize;
    let a: Vec<f64> = (0..n * n).map(|i| (i % 7) as f64 * 0.1).collect();
    let b: Vec<f64> = (0..n * n).map(|i| (i % 5) as f64 * 0.1).collect();
    let mut c = vec![0.0; n * n];
    let mut best = f64::INFINITY;
    for _ in 0..(reps.max(1.0) as usize) {
        let t = Instant::now();
        linalg::matmul(&mut c, linalg::Operand::new(&a, n, n), linalg::Operand::new(&b, n, n), false, threads.max(1.0) as usize);
        best = best.min(t.elapsed().as_secs_f64());
    }
    2.0 * (n as f64).powi(3) / best / 1e9
}

extendr_module! {
    mod backprop;
    fn train_;
    fn predict_;
    fn gemm_rate_;
    fn draw_params_;
    fn trace_;
    fn objective_;
}
