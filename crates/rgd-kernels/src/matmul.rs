//! A bounds-checked front for two strided matrix products: the `gemm` crate's (the one
//! burn-flex uses) and the `matrixmultiply` crate's, BLIS-style: both operands packed into
//! panels, AVX-512 or AVX2 kernels picked at run time.

/// A read-only strided matrix: element `(i, j)` is `data[i·row_stride + j·col_stride]`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct View<'a> {
    pub(crate) data: &'a [f32],
    pub(crate) rows: usize,
    pub(crate) cols: usize,
    pub(crate) row_stride: usize,
    pub(crate) col_stride: usize,
}

impl<'a> View<'a> {
    /// A row-major `rows x cols` matrix.
    pub(crate) fn rows(data: &'a [f32], rows: usize, cols: usize) -> Self {
        View {
            data,
            rows,
            cols,
            row_stride: cols,
            col_stride: 1,
        }
    }

    /// The transpose of a row-major `cols x rows` matrix, without a copy.
    pub(crate) fn transposed(data: &'a [f32], rows: usize, cols: usize) -> Self {
        View {
            data,
            rows,
            cols,
            row_stride: 1,
            col_stride: rows,
        }
    }

    /// Whether every element lies inside `data`.
    fn in_bounds(&self) -> bool {
        self.rows == 0
            || self.cols == 0
            || (self.rows - 1) * self.row_stride + (self.cols - 1) * self.col_stride
                < self.data.len()
    }
}

/// Whether a product may split across rayon's pool, or must run on the calling thread (inside a
/// task that is already one of many).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Threads {
    /// On the calling thread.
    One,
    /// On every thread of rayon's pool.
    All,
}

impl Threads {
    /// burn-flex's rule for one `m x k` by `k x n` product: every thread from `m·n·k ≥ 192³`
    /// multiply-adds, the calling thread below.
    pub(crate) fn like_burn_flex(m: usize, n: usize, k: usize) -> Self {
        const PARALLEL: usize = 192 * 192 * 192;
        if m.saturating_mul(n).saturating_mul(k) >= PARALLEL {
            Threads::All
        } else {
            Threads::One
        }
    }
}

/// Which crate computes a product.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Products {
    /// `gemm`, called as burn-flex calls it (so the numbers are burn's).
    Gemm,
    /// `matrixmultiply`'s `sgemm`; with [`Threads::All`] the output rows are split across
    /// rayon's pool (each row's sums are the same whichever thread computes it).
    Packed,
}

/// `out = lhs · rhs`, or `out += lhs · rhs` when `accumulate`, with `out` row-major
/// (`lhs.rows x rhs.cols`), by `gemm`.
///
/// # Panics
///
/// If the shapes do not agree or a view reaches outside its slice.
pub(crate) fn matmul(
    out: &mut [f32],
    lhs: View<'_>,
    rhs: View<'_>,
    accumulate: bool,
    threads: Threads,
) {
    matmul_by(out, lhs, rhs, accumulate, threads, Products::Gemm);
}

/// [`matmul`] by the crate `products` names.
///
/// # Panics
///
/// If the shapes do not agree or a view reaches outside its slice.
pub(crate) fn matmul_by(
    out: &mut [f32],
    lhs: View<'_>,
    rhs: View<'_>,
    accumulate: bool,
    threads: Threads,
    products: Products,
) {
    let (m, k, n) = (lhs.rows, lhs.cols, rhs.cols);
    assert_eq!(rhs.rows, k, "matmul: inner dimensions");
    assert_eq!(out.len(), m * n, "matmul: output length");
    assert!(
        lhs.in_bounds() && rhs.in_bounds(),
        "matmul: a view reaches outside its data"
    );
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            out.fill(0.0);
        }
        return;
    }
    if products == Products::Packed {
        return packed(out, lhs, rhs, accumulate, threads);
    }
    let parallelism = match threads {
        Threads::One => gemm::Parallelism::None,
        Threads::All => gemm::Parallelism::Rayon(0),
    };
    let stride = |s: usize| isize::try_from(s).expect("a stride fits isize");
    // SAFETY: the asserts above check that every element (i, j) of lhs (m x k), rhs (k x n) and
    // out (m x n, strides n and 1) lies inside its slice; `out` is borrowed mutably, so it
    // aliases neither input.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            out.as_mut_ptr(),
            1,
            stride(n),
            accumulate,
            lhs.data.as_ptr(),
            stride(lhs.col_stride),
            stride(lhs.row_stride),
            rhs.data.as_ptr(),
            stride(rhs.col_stride),
            stride(rhs.row_stride),
            1.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        );
    }
}

/// `matrixmultiply`'s product of checked, non-empty views (see [`matmul_by`]).
fn packed(out: &mut [f32], lhs: View<'_>, rhs: View<'_>, accumulate: bool, threads: Threads) {
    let (m, k, n) = (lhs.rows, lhs.cols, rhs.cols);
    let stride = |s: usize| isize::try_from(s).expect("a stride fits isize");
    // Rows `first..first + out.len() / n` of the product into `out`.
    let rows = |out: &mut [f32], first: usize| {
        // SAFETY: `matmul_by` checked that every element of lhs (m x k), rhs (k x n) and out
        // (m x n, strides n and 1) lies inside its slice; these rows are a part of them, and
        // `out` is borrowed mutably, so it aliases neither input. With beta 0, `out` is not read.
        unsafe {
            matrixmultiply::sgemm(
                out.len() / n,
                k,
                n,
                1.0,
                lhs.data.as_ptr().add(first * lhs.row_stride),
                stride(lhs.row_stride),
                stride(lhs.col_stride),
                rhs.data.as_ptr(),
                stride(rhs.row_stride),
                stride(rhs.col_stride),
                if accumulate { 1.0 } else { 0.0 },
                out.as_mut_ptr(),
                stride(n),
                1,
            );
        }
    };
    match threads {
        Threads::One => rows(out, 0),
        Threads::All => {
            use rayon::prelude::*;
            let per_task = m.div_ceil(rayon::current_num_threads().max(1));
            (out.par_chunks_mut(per_task * n).enumerate())
                .for_each(|(task, out)| rows(out, task * per_task));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(lhs: View<'_>, rhs: View<'_>) -> Vec<f32> {
        let mut out = vec![0.0; lhs.rows * rhs.cols];
        for i in 0..lhs.rows {
            for j in 0..rhs.cols {
                out[i * rhs.cols + j] = (0..lhs.cols)
                    .map(|p| {
                        lhs.data[i * lhs.row_stride + p * lhs.col_stride]
                            * rhs.data[p * rhs.row_stride + j * rhs.col_stride]
                    })
                    .sum();
            }
        }
        out
    }

    #[test]
    fn strided_products_match_the_definition() {
        let a: Vec<f32> = (0..12).map(|i| i as f32 - 5.0).collect();
        let b: Vec<f32> = (0..12).map(|i| (i % 5) as f32).collect();
        let matmul = |out: &mut [f32], lhs, rhs, accumulate, (threads, products)| {
            matmul_by(out, lhs, rhs, accumulate, threads, products)
        };
        let (one, all) = (Threads::One, Threads::All);
        let (gemm, packed) = (Products::Gemm, Products::Packed);
        // Small integers: every order of the sums is exact, so both crates must agree exactly.
        for threads in [(one, gemm), (all, gemm), (one, packed), (all, packed)] {
            // (3x4) · (4x3), then (4x3)ᵀ · (4x3) read as a transposed view.
            let (lhs, rhs) = (View::rows(&a, 3, 4), View::rows(&b, 4, 3));
            let mut out = vec![f32::NAN; 9];
            matmul(&mut out, lhs, rhs, false, threads);
            assert_eq!(out, naive(lhs, rhs));
            let lhs = View::transposed(&a, 3, 4);
            let mut out = vec![1.0; 9];
            matmul(&mut out, lhs, View::rows(&b, 4, 3), true, threads);
            let expected: Vec<f32> = naive(lhs, View::rows(&b, 4, 3))
                .iter()
                .map(|v| v + 1.0)
                .collect();
            assert_eq!(out, expected);
        }
    }

    /// The packed product's rows split across the pool give the same bits as on one thread.
    #[test]
    fn packed_products_do_not_depend_on_the_threads() {
        let (m, k, n) = (37, 300, 45);
        let value = |i: usize| ((i * 2654435761) % 1000) as f32 / 999.0 - 0.5;
        let a: Vec<f32> = (0..m * k).map(value).collect();
        let b: Vec<f32> = (0..k * n).map(|i| value(i + 7)).collect();
        let run = |threads| {
            let mut out = vec![0.0; m * n];
            let (lhs, rhs) = (View::rows(&a, m, k), View::transposed(&b, k, n));
            matmul_by(&mut out, lhs, rhs, false, threads, Products::Packed);
            out
        };
        assert_eq!(run(Threads::One), run(Threads::All));
    }

    #[test]
    #[should_panic(expected = "outside its data")]
    fn a_view_outside_its_slice_is_refused() {
        let a = [0.0; 5];
        let mut out = [0.0; 4];
        matmul(
            &mut out,
            View::rows(&a, 2, 3),
            View::rows(&a, 3, 2),
            false,
            Threads::One,
        );
    }
}
