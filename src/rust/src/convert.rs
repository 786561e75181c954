//! The one conversion module between R and the core: reads the R side's
//! arguments (matrices, the training spec, parameter lists) into the core's
//! types, and builds the R lists the entry points return. The R functions in
//! `R/` have validated the arguments; the checks here only guard against
//! misuse of the internal entry points.

use crate::activation::Activation;
use crate::architecture::{Architecture, BiasLayout};
use crate::loss::Loss;
use crate::optimizer::Optimizer;
use crate::schedule::Schedule;
use crate::config::TrainConfig;
use crate::dataset::Dataset;
use extendr_api::prelude::*;
use extendr_api::Result;
use extendr_ffi::{
    cetype_t, R_NamesSymbol, R_xlen_t, Rf_allocMatrix, Rf_allocVector, Rf_getAttrib, Rf_mkCharLenCE, Rf_protect, Rf_setAttrib,
    Rf_unprotect, Rf_xlength, LOGICAL, REAL, R_CHAR, SET_STRING_ELT, SET_VECTOR_ELT, SEXP, SEXPTYPE, STRING_ELT, TYPEOF, VECTOR_ELT,
};
use ndarray::ArrayView2;
use std::ffi::{c_int, CStr};
use std::marker::PhantomData;

/// An R error whose message cannot reach R's printf as a format directive.
pub fn r_error(msg: impl AsRef<str>) -> Error {
    Error::Other(msg.as_ref().replace('%', " percent"))
}

/// The fields of a named R list, read through R's C API. An `Robj` per
/// field would be registered in extendr's global protection table (a hashed
/// insert and removal each), which costs more than the article network's
/// whole training. The list is an argument of the `.Call`, so R keeps it and
/// everything in it alive until the call returns; `'a` ties the fields to it.
pub struct Fields<'a>(Vec<(&'a str, Value<'a>)>);

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
    pub fn of(list: &'a List) -> Fields<'a> {
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
pub struct NewList {
    list: Robj,
    sexp: SEXP,
}

impl NewList {
    /// A list with these names, its elements NULL until put.
    pub fn named(names: &[&str]) -> NewList {
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
    pub fn put_reals(&mut self, i: usize, data: &[f64], dim: Option<(usize, usize)>) {
        put_reals(self.sexp, i, data, dim);
    }

    pub fn put_text(&mut self, i: usize, text: &str) {
        // SAFETY: as in `named`.
        unsafe {
            let v = Rf_allocVector(SEXPTYPE::STRSXP, 1);
            SET_VECTOR_ELT(self.sexp, i as R_xlen_t, v);
            SET_STRING_ELT(v, 0, Rf_mkCharLenCE(text.as_ptr().cast(), text.len() as c_int, cetype_t::CE_UTF8));
        }
    }

    /// Element `i`: an unnamed list of `len` elements, returned (protected
    /// by this list) for filling with [`put_reals`].
    pub fn put_list(&mut self, i: usize, len: usize) -> SEXP {
        // SAFETY: as in `named`.
        unsafe {
            let v = Rf_allocVector(SEXPTYPE::VECSXP, len as R_xlen_t);
            SET_VECTOR_ELT(self.sexp, i as R_xlen_t, v);
            v
        }
    }

    pub fn into_list(self) -> Result<List> {
        List::try_from(self.list)
    }
}

/// Stores at `parent[[i]]` a new double vector holding `data`, shaped
/// `rows x cols` when `dim` is given. `parent` must be a protected list
/// with more than `i` elements (a [`NewList`] or a list it holds).
pub fn put_reals(parent: SEXP, i: usize, data: &[f64], dim: Option<(usize, usize)>) {
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
pub fn matrix<'a>(x: &'a Robj, what: &str) -> Result<(&'a [f64], usize, usize)> {
    let view = ArrayView2::<f64>::try_from(x).map_err(|_| r_error(format!("internal: {} must be a double matrix", what)))?;
    let (r, c) = view.dim();
    let data = x.as_real_slice().ok_or_else(|| r_error(format!("internal: {} must be a double matrix", what)))?;
    debug_assert_eq!(view.as_ptr(), data.as_ptr());
    Ok((&data[..r * c], r, c))
}

/// The architecture from `spec = list(sizes, activation, output, bias)`.
pub fn architecture(spec: &Fields, rows: usize) -> Result<Architecture> {
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
pub fn flatten_params(arch: &Architecture, blocks: &List) -> Result<Vec<f64>> {
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

pub fn new_matrix(data: &[f64], rows: usize, cols: usize) -> Robj {
    // SAFETY: protected as an Robj at once.
    unsafe { Robj::from_sexp(new_reals(&data[..rows * cols], Some((rows, cols)))) }
}

/// Stores the weight matrices of the parameter vector at `out[[i]]` and the
/// bias matrices at `out[[i + 1]]`, as two lists.
pub fn put_params(out: &mut NewList, i: usize, arch: &Architecture, params: &[f64]) {
    let (weights, biases) = (out.put_list(i, arch.layers()), out.put_list(i + 1, arch.layers()));
    for l in 0..arch.layers() {
        put_reals(weights, l, &params[arch.weights(l)], Some((arch.fan_in(l), arch.fan_out(l))));
        put_reals(biases, l, &params[arch.biases(l)], Some((arch.bias_rows(), arch.fan_out(l))));
    }
}

/// The optimizer with its default constants; sgd's momentum and nesterov
/// from the spec (absent: the defaults).
fn optimizer(spec: &Fields) -> Result<Optimizer> {
    let name = text(spec, "optimizer")?;
    let momentum = field(spec, "momentum").ok().and_then(|v| v.real()).unwrap_or(crate::optimizer::MOMENTUM);
    let nesterov = field(spec, "nesterov").ok().and_then(|v| v.flag()).unwrap_or(false);
    Optimizer::named(name, momentum, nesterov).ok_or_else(|| r_error(format!("unknown optimizer '{}'", name)))
}

/// Everything a training entry point receives, read once into the core's
/// types: the data, the architecture, its parameters and the settings.
pub struct Spec<'a> {
    pub x: &'a [f64],
    pub y: &'a [f64],
    pub n: usize,
    /// Observation weights of the training rows, if any.
    pub weights: Option<&'a [f64]>,
    pub arch: Architecture,
    pub params: Vec<f64>,
    pub cfg: TrainConfig,
    /// Train in f32 (`precision = "single"`).
    pub single: bool,
    /// Call the R callback every this many epochs.
    pub callback_every: usize,
    fields: Fields<'a>,
}

impl<'a> Spec<'a> {
    /// Validation rows `x_val`, `y_val` (NULL for none) with the spec's
    /// `val_weights`, checked against the architecture.
    pub fn validation(&self, x_val: &'a Robj, y_val: &'a Robj) -> Result<Option<Dataset<'a>>> {
        if x_val.is_null() {
            return Ok(None);
        }
        let (xv, nv, dv) = matrix(x_val, "x_val")?;
        let (yv, nyv, ov) = matrix(y_val, "y_val")?;
        if nv != nyv || dv != self.arch.inputs() || ov != self.arch.outputs() {
            return Err(r_error("internal: validation data disagree with the architecture"));
        }
        Ok(Some(Dataset::new(xv, yv, nv).weighted(row_weights(&self.fields, "val_weights", nv)?)))
    }

    /// The training data.
    pub fn data(&self) -> Dataset<'a> {
        Dataset::new(self.x, self.y, self.n).weighted(self.weights)
    }
}

/// `spec` holds the architecture (`sizes`, `activation`, `output`, `bias`) and the
/// settings (`loss`, `optimizer` and its constants, `lr`, `epochs`,
/// `batch_size`, `weight_decay`, `patience`, `seed`, `threads`, `precision`),
/// as `training_spec()` in R/spec.R lays them out; other fields are ignored.
pub fn read_spec<'a>(x: &'a Robj, y: &'a Robj, spec: &'a List, params: &List) -> Result<Spec<'a>> {
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
        // At most the machine's cores (see parallel::max_threads).
        threads: crate::parallel::clamp_threads(count(&spec, "threads")?),
        counted_rows: optional("counted_rows"),
    }
    .check(&arch)
    .map_err(|e| r_error(format!("internal: {}", e)))?;
    // Absent means double.
    let single = field(&spec, "precision").ok().and_then(|p| p.text()).is_some_and(|p| p == "single");
    let weights = row_weights(&spec, "weights", n)?;
    let callback_every = optional("callback_every").filter(|k| *k >= 1.0 && k.fract() == 0.0).map_or(1, |k| k as usize);
    Ok(Spec { x: xs, y: ys, n, weights, arch, params, cfg, single, callback_every, fields: spec })
}
