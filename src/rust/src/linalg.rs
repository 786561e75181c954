//! The one place that multiplies matrices. All blocks are column-major, as R
//! stores them; a transposed operand is read through swapped strides, never copied.

use crate::real::Real;
use gemm::{gemm, Parallelism};


/// A read-only column-major operand, optionally read transposed.
#[derive(Clone, Copy)]
pub struct Operand<'a, T = f64> {
    pub data: &'a [T],
    /// Rows of the block as stored.
    pub rows: usize,
    /// Columns of the block as stored.
    pub cols: usize,
    /// Distance between the starts of two stored columns (>= rows), so that a
    /// run of rows of a larger matrix can be used in place.
    pub ld: usize,
    pub transposed: bool,
}

impl<'a, T: Real> Operand<'a, T> {
    pub fn new(data: &'a [T], rows: usize, cols: usize) -> Self {
        Operand { data, rows, cols, ld: rows, transposed: false }
    }
    /// Rows `first..first + rows` of a column-major matrix with `ld` rows.
    pub fn rows_of(data: &'a [T], ld: usize, first: usize, rows: usize, cols: usize) -> Self {
        Operand { data: &data[first.min(data.len())..], rows, cols, ld, transposed: false }
    }
    /// Elements the block spans in `data`.
    fn span(&self) -> usize {
        if self.rows == 0 || self.cols == 0 {
            0
        } else {
            (self.cols - 1) * self.ld + self.rows
        }
    }
    pub fn t(self) -> Self {
        Operand { transposed: !self.transposed, ..self }
    }
    /// Rows `row..row + rows` and columns `col..col + cols` of the block as
    /// used in the product (so of its transpose when it is read transposed).
    pub fn block(self, row: usize, rows: usize, col: usize, cols: usize) -> Self {
        let (used_rows, used_cols) = self.shape();
        assert!(row + rows <= used_rows && col + cols <= used_cols, "block out of bounds");
        let (first_row, first_col, stored_rows, stored_cols) =
            if self.transposed { (col, row, cols, rows) } else { (row, col, rows, cols) };
        let start = (first_row + first_col * self.ld).min(self.data.len());
        Operand { data: &self.data[start..], rows: stored_rows, cols: stored_cols, ld: self.ld, transposed: self.transposed }
    }
    /// Shape as used in the product.
    pub(crate) fn shape(&self) -> (usize, usize) {
        if self.transposed {
            (self.cols, self.rows)
        } else {
            (self.rows, self.cols)
        }
    }
    /// (row stride, column stride) as used in the product.
    fn strides(&self) -> (isize, isize) {
        let ld = self.ld as isize;
        if self.transposed {
            (ld, 1)
        } else {
            (1, ld)
        }
    }
}

/// `c = a · b` (or `c += a · b` when `accumulate`), with `c` column-major `m x n`.
/// `threads` > 1 lets the product use that many workers; the
/// product's summation order does not depend on it.
pub fn matmul<T: Real>(c: &mut [T], a: Operand<T>, b: Operand<T>, accumulate: bool, threads: usize) {
    let (m, k) = a.shape();
    let (k2, n) = b.shape();
    assert_eq!(k, k2, "inner dimensions differ");
    assert!(a.data.len() >= a.span() && b.data.len() >= b.span(), "operand out of bounds");
    assert!(a.ld >= a.rows && b.ld >= b.rows);
    assert!(c.len() >= m * n, "destination too small");
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            c[..m * n].iter_mut().for_each(|v| *v = T::ZERO);
        }
        return;
    }
    let (a_rs, a_cs) = a.strides();
    let (b_rs, b_cs) = b.strides();
    if m * n * k <= SMALL_PRODUCT {
        small_matmul(c, m, n, k, a.data, a_rs, a_cs, b.data, b_rs, b_cs, accumulate);
        return;
    }
    let block = Block { c: c.as_mut_ptr(), ldc: m, a: a.data.as_ptr(), a_rs, a_cs, b: b.data.as_ptr(), b_rs, b_cs, k, accumulate };
    if m * n * k < PARALLEL_PRODUCT || (m <= BAND && n <= COLUMN_BAND) {
        // SAFETY: the asserts above bound every index gemm touches.
        unsafe { block.part(0, m, 0, n) };
        return;
    }
    // Large products are computed as bands (of at most BAND rows, or of at
    // most COLUMN_BAND columns when c is short), each by a single-threaded
    // gemm, whatever the thread count: the bands depend on the shape alone,
    // the same with 1 thread or 8, so the result does not depend on
    // `threads`. Each band goes to whichever worker is free.
    let by_rows = m > BAND;
    let (extent, most) = if by_rows { (m, BAND) } else { (n, COLUMN_BAND) };
    // Bands of equal size (at most `most`): a short last band would leave a
    // thread idle while another finishes two full ones.
    let bands = extent.div_ceil(most);
    let width = extent.div_ceil(bands);
    let band = |b: usize| {
        let first = b * width;
        let size = width.min(extent.saturating_sub(first));
        if size == 0 {
            return;
        }
        // SAFETY: bands are disjoint runs of rows (or columns) within c.
        unsafe {
            if by_rows {
                block.part(first, size, 0, n)
            } else {
                block.part(0, m, first, size)
            }
        };
    };
    crate::parallel::for_each_part(threads, bands, &band);
}

/// Columns per block of [`gram_lower`].
const GRAM_BLOCK: usize = 64;

/// The lower triangle of `c = a · aᵀ` (`c += a · aᵀ` when `accumulate`),
/// with `c` column-major `n x n` for `a` `n x k` as used: the symmetric
/// product at half the cost of [`matmul`]. Entries above the diagonal are
/// left as they were, except within the diagonal blocks. The columns are done
/// in blocks fixed by the shape alone, each by one worker, so the result does
/// not depend on `threads`.
pub fn gram_lower<T: Real>(c: &mut [T], a: Operand<T>, accumulate: bool, threads: usize) {
    let (n, k) = a.shape();
    assert!(a.data.len() >= a.span() && a.ld >= a.rows, "operand out of bounds");
    assert!(c.len() >= n * n, "destination too small");
    let (a_rs, a_cs) = a.strides();
    if n == 0 || (k == 0 && accumulate) {
        return;
    }
    if k == 0 || n * n * k <= SMALL_PRODUCT {
        let (a_rs, a_cs) = (a_rs as usize, a_cs as usize);
        for j in 0..n {
            for i in j..n {
                let mut s = T::ZERO;
                for l in 0..k {
                    s += a.data[i * a_rs + l * a_cs] * a.data[j * a_rs + l * a_cs];
                }
                let cij = &mut c[i + j * n];
                *cij = if accumulate { *cij + s } else { s };
            }
        }
        return;
    }
    // aᵀ is a read with its strides swapped.
    let block = Block { c: c.as_mut_ptr(), ldc: n, a: a.data.as_ptr(), a_rs, a_cs, b: a.data.as_ptr(), b_rs: a_cs, b_cs: a_rs, k, accumulate };
    let blocks = n.div_ceil(GRAM_BLOCK);
    // Block b: rows j0..n of columns j0..j0 + width, from rows j0.. of a
    // times (rows j0..j0 + width of a)ᵀ.
    let part = |b: usize| {
        let j0 = b * GRAM_BLOCK;
        let width = GRAM_BLOCK.min(n - j0);
        // SAFETY: the asserts above bound every index; blocks are disjoint
        // runs of columns of c.
        unsafe { block.part(j0, n - j0, j0, width) };
    };
    if blocks < 2 || n * n * k / 2 < PARALLEL_PRODUCT {
        (0..blocks).for_each(part);
    } else {
        crate::parallel::for_each_part(threads, blocks, &part);
    }
}

/// The most columns per band of a large product whose result has few rows.
const COLUMN_BAND: usize = 64;

/// The most rows per band of a large product (see [`matmul`]).
const BAND: usize = 256;

/// Products with at least this many multiply-adds are split across threads.
const PARALLEL_PRODUCT: usize = 1 << 22;

/// A product `c = a · b` as raw parts, so that bands of rows can go to threads.
struct Block<T> {
    c: *mut T,
    ldc: usize,
    a: *const T,
    a_rs: isize,
    a_cs: isize,
    b: *const T,
    b_rs: isize,
    b_cs: isize,
    k: usize,
    accumulate: bool,
}

// SAFETY: workers write disjoint bands of c and only read a and b.
unsafe impl<T> Sync for Block<T> {}

impl<T: Real> Block<T> {
    /// Rows `row..row + rows` and columns `col..col + cols` of c, single-threaded.
    unsafe fn part(&self, row: usize, rows: usize, col: usize, cols: usize) {
        gemm(
            rows,
            cols,
            self.k,
            self.c.add(row + col * self.ldc),
            self.ldc as isize, // dst column stride
            1,                 // dst row stride
            self.accumulate,
            self.a.offset(row as isize * self.a_rs),
            self.a_cs,
            self.a_rs,
            self.b.offset(col as isize * self.b_cs),
            self.b_cs,
            self.b_rs,
            T::ONE, // weight of the old dst
            T::ONE, // weight of the product
            false,
            false,
            false,
            Parallelism::None,
        );
    }
}

/// Products with at most this many multiply-adds skip gemm, whose set-up
/// (dispatch, packing) costs more than the arithmetic at these sizes.
const SMALL_PRODUCT: usize = 4096;

/// Plain loops for tiny products (the article's network), where gemm's
/// set-up would cost more than the arithmetic. Each column of `c` is built in
/// tiles of up to four rows held in registers; every entry sums its products
/// in the order of k, starting from zero, as reference BLAS's dgemm does, so
/// the article's R program is reproduced to the last bit.
#[allow(clippy::too_many_arguments)]
fn small_matmul<T: Real>(c: &mut [T], m: usize, n: usize, k: usize, a: &[T], a_rs: isize, a_cs: isize, b: &[T], b_rs: isize, b_cs: isize, accumulate: bool) {
    let s = Strides { a_rs: a_rs as usize, a_cs: a_cs as usize, b_rs: b_rs as usize, b_cs: b_cs as usize };
    // matmul checked that the operands span these indices; checking each
    // access again would cost more than the multiply-add it guards.
    assert!(c.len() >= m * n && m > 0 && n > 0 && k > 0);
    assert!(a.len() > (m - 1) * s.a_rs + (k - 1) * s.a_cs && b.len() > (k - 1) * s.b_rs + (n - 1) * s.b_cs);
    for j in 0..n {
        let mut i = 0;
        while i + 4 <= m {
            // SAFETY: rows i..i+4 < m and column j < n are within the asserted spans.
            unsafe { tile::<T, 4>(c, m, i, j, k, a, b, s, accumulate) };
            i += 4;
        }
        // SAFETY: as above, for the last m - i < 4 rows.
        unsafe {
            match m - i {
                1 => tile::<T, 1>(c, m, i, j, k, a, b, s, accumulate),
                2 => tile::<T, 2>(c, m, i, j, k, a, b, s, accumulate),
                3 => tile::<T, 3>(c, m, i, j, k, a, b, s, accumulate),
                _ => {}
            }
        }
    }
}

#[derive(Clone, Copy)]
struct Strides {
    a_rs: usize,
    a_cs: usize,
    b_rs: usize,
    b_cs: usize,
}

/// Rows `i..i + R` of column `j` of `c`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn tile<T: Real, const R: usize>(c: &mut [T], m: usize, i: usize, j: usize, k: usize, a: &[T], b: &[T], s: Strides, accumulate: bool) {
    let mut acc = [T::ZERO; R];
    for l in 0..k {
        let blj = *b.get_unchecked(l * s.b_rs + j * s.b_cs);
        for (r, acc) in acc.iter_mut().enumerate() {
            *acc += *a.get_unchecked((i + r) * s.a_rs + l * s.a_cs) * blj;
        }
    }
    for (r, acc) in acc.iter().enumerate() {
        let cij = c.get_unchecked_mut(i + r + j * m);
        *cij = if accumulate { *cij + *acc } else { *acc };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(a: &[f64], ar: usize, ac: usize, at: bool, b: &[f64], br: usize, bc: usize, bt: bool) -> Vec<f64> {
        let get = |x: &[f64], r: usize, i: usize, j: usize, t: bool| if t { x[j + i * r] } else { x[i + j * r] };
        let (m, k) = if at { (ac, ar) } else { (ar, ac) };
        let n = if bt { br } else { bc };
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                c[i + j * m] = (0..k).map(|l| get(a, ar, i, l, at) * get(b, br, l, j, bt)).sum();
            }
        }
        c
    }

    #[test]
    fn all_transpose_combinations_match_the_definition() {
        let a: Vec<f64> = (0..12).map(|v| v as f64 * 0.5 - 2.0).collect(); // 3x4
        let b: Vec<f64> = (0..20).map(|v| (v as f64).sin()).collect(); // 4x5 or 5x4
        let cases = [(false, false, 3, 4, 4, 5), (true, false, 4, 3, 4, 5), (false, true, 3, 4, 5, 4), (true, true, 4, 3, 5, 4)];
        for &(at, bt, ar, ac, br, bc) in &cases {
            let mut op_a = Operand::new(&a, ar, ac);
            if at {
                op_a = op_a.t();
            }
            let mut op_b = Operand::new(&b, br, bc);
            if bt {
                op_b = op_b.t();
            }
            let want = naive(&a, ar, ac, at, &b, br, bc, bt);
            let mut c = vec![1.0; want.len()];
            matmul(&mut c, op_a, op_b, false, 1);
            for (x, y) in c.iter().zip(&want) {
                assert!((x - y).abs() < 1e-12);
            }
            matmul(&mut c, op_a, op_b, true, 2);
            for (x, y) in c.iter().zip(&want) {
                assert!((x - 2.0 * y).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn thread_count_does_not_change_large_products() {
        // The first layer of a wide network: tall x times weights, and the gradient.
        let (m, k, n) = (5000, 784, 128);
        let a: Vec<f64> = (0..m * k).map(|v| ((v * 7919) % 1000) as f64 / 1000.0 - 0.5).collect();
        let b: Vec<f64> = (0..k * n).map(|v| ((v * 104729) % 997) as f64 / 997.0 - 0.5).collect();
        let d: Vec<f64> = (0..m * n).map(|v| ((v * 31) % 17) as f64 / 17.0).collect();
        let run = |threads| {
            let mut c = vec![0.0; m * n];
            let mut g = vec![0.0; k * n];
            matmul(&mut c, Operand::new(&a, m, k), Operand::new(&b, k, n), false, threads);
            matmul(&mut g, Operand::new(&a, m, k).t(), Operand::new(&d, m, n), false, threads);
            (c, g)
        };
        let (c1, g1) = run(1);
        let (c2, g2) = run(2);
        assert!(c1 == c2, "forward product differs");
        assert!(g1 == g2, "gradient product differs");
        // A minibatch: few rows, many columns (column bands).
        let (mb, nb) = (200, 300);
        let short = |threads| {
            let mut c = vec![0.0; mb * nb];
            matmul(&mut c, Operand::new(&a[..mb * k], mb, k), Operand::new(&b[..k * 128], k, 128), false, threads);
            let mut w = vec![0.0; mb * nb];
            let bw: Vec<f64> = (0..k * nb).map(|v| (v % 11) as f64).collect();
            matmul(&mut w, Operand::new(&a[..mb * k], mb, k), Operand::new(&bw, k, nb), false, threads);
            (c, w)
        };
        assert!(short(1) == short(2), "column-banded product differs");
    }

    #[test]
    fn gram_lower_is_the_lower_triangle_of_the_product() {
        // Tiny (loops), single-threaded gemm blocks and parallel blocks;
        // a read plainly, transposed, and as a block of a larger matrix.
        for &(n, k) in &[(1, 1), (3, 5), (70, 9), (130, 300), (300, 100)] {
            let (rows, cols) = (n + 3, k + 2);
            let big: Vec<f64> = (0..rows * cols).map(|v| ((v * 7919) % 1000) as f64 / 1000.0 - 0.5).collect();
            let a = Operand::new(&big, rows, cols).block(2, n, 1, k);
            let stored: Vec<f64> = (0..k).flat_map(|l| (0..n).map(move |i| (i, l))).map(|(i, l)| big[(2 + i) + (1 + l) * rows]).collect();
            let at_store: Vec<f64> = (0..n).flat_map(|i| (0..k).map(move |l| (i, l))).map(|(i, l)| stored[i + l * n]).collect();
            let want = naive(&stored, n, k, false, &stored, n, k, true);
            for (op, threads) in [(a, 1), (a, 2), (Operand::new(&at_store, k, n).t(), 2)] {
                let mut c = vec![7.0; n * n];
                gram_lower(&mut c, op, false, threads);
                let mut twice = c.clone();
                gram_lower(&mut twice, op, true, threads);
                for j in 0..n {
                    for i in j..n {
                        assert!((c[i + j * n] - want[i + j * n]).abs() < 1e-12, "n {} k {}", n, k);
                        assert!((twice[i + j * n] - 2.0 * want[i + j * n]).abs() < 1e-12);
                    }
                    for i in 0..j.min(n) {
                        if j / GRAM_BLOCK != i / GRAM_BLOCK || n * n * k <= SMALL_PRODUCT {
                            assert_eq!(c[i + j * n], 7.0, "above the diagonal blocks");
                        }
                    }
                }
            }
            let run = |threads| {
                let mut c = vec![0.0; n * n];
                gram_lower(&mut c, a, false, threads);
                c
            };
            assert!(run(1) == run(2));
        }
    }

    #[test]
    fn thread_count_does_not_change_the_result() {
        let (m, k, n) = (700, 257, 129);
        let a: Vec<f64> = (0..m * k).map(|v| ((v * 7919) % 1000) as f64 / 1000.0 - 0.5).collect();
        let b: Vec<f64> = (0..k * n).map(|v| ((v * 104729) % 997) as f64 / 997.0 - 0.5).collect();
        let mut c1 = vec![0.0; m * n];
        let mut c2 = vec![0.0; m * n];
        matmul(&mut c1, Operand::new(&a, m, k), Operand::new(&b, k, n), false, 1);
        matmul(&mut c2, Operand::new(&a, m, k), Operand::new(&b, k, n), false, 2);
        assert_eq!(c1, c2);
        // Transposed left operand, as in the weight gradient.
        let mut g1 = vec![0.0; k * n];
        let mut g2 = vec![0.0; k * n];
        let d: Vec<f64> = (0..m * n).map(|v| ((v * 31) % 17) as f64 / 17.0).collect();
        matmul(&mut g1, Operand::new(&a, m, k).t(), Operand::new(&d, m, n), false, 1);
        matmul(&mut g2, Operand::new(&a, m, k).t(), Operand::new(&d, m, n), false, 3);
        assert_eq!(g1, g2);
    }
}
