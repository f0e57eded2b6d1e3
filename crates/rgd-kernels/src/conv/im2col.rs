//! The im2col layout of one image, and its adjoint col2im (crate-internal; [`Geometry`] is
//! public).
//!
//! For an image `x[c, y, x]` (`C x H x W`, row-major) and a `KH x KW` kernel, the unfolded image
//! is the matrix `cols[(c, ky, kx), (oy, ox)]` (`C·KH·KW` rows, `OH·OW` columns, row-major, the
//! row index `(c·KH + ky)·KW + kx` matching the weight layout `[C_out, C, KH, KW]`):
//!
//! ```text
//! cols[(c, ky, kx), (oy, ox)] = x[c, oy·sy + ky·dy − py, ox·sx + kx·dx − px]   (0 outside)
//! ```
//!
//! so that a convolution is the product `W[C_out, C·KH·KW] · cols`. col2im is its adjoint: it adds
//! every entry of a `cols`-shaped matrix back onto the input position it was read from.

/// The shape arithmetic of a 2-D convolution over one image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geometry {
    /// Input channels `C`.
    pub channels: usize,
    /// Input height and width `[H, W]`.
    pub size: [usize; 2],
    /// Kernel height and width `[KH, KW]`.
    pub kernel: [usize; 2],
    /// Stride `[sy, sx]` (non-zero).
    pub stride: [usize; 2],
    /// Padding before and after, per spatial dimension: `[(top, bottom), (left, right)]`.
    pub padding: [(usize, usize); 2],
    /// Dilation `[dy, dx]` (non-zero).
    pub dilation: [usize; 2],
}

impl Geometry {
    /// The output height and width, per dimension
    /// `(size + before + after − dilation·(kernel − 1) − 1) / stride + 1`; `None` where the
    /// dilated kernel does not fit the padded input (or a stride or dilation is zero).
    ///
    /// ```
    /// use rgd_kernels::conv::Geometry;
    /// let g = Geometry {
    ///     channels: 1,
    ///     size: [28, 28],
    ///     kernel: [3, 3],
    ///     stride: [1, 1],
    ///     padding: [(1, 1), (1, 1)],
    ///     dilation: [1, 1],
    /// };
    /// assert_eq!(g.output(), Some([28, 28]));
    /// assert_eq!(Geometry { stride: [2, 2], ..g }.output(), Some([14, 14]));
    /// assert_eq!(Geometry { kernel: [31, 3], ..g }.output(), None);
    /// ```
    pub fn output(&self) -> Option<[usize; 2]> {
        let dimension = |d: usize| {
            let (before, after) = self.padding[d];
            let padded = self.size[d] + before + after;
            let reach = self.dilation[d].checked_mul(self.kernel[d].checked_sub(1)?)? + 1;
            let fits = self.stride[d] > 0 && self.dilation[d] > 0 && padded >= reach;
            fits.then(|| (padded - reach) / self.stride[d] + 1)
        };
        Some([dimension(0)?, dimension(1)?])
    }

    /// Rows of the unfolded image: `C·KH·KW`.
    pub fn patch(&self) -> usize {
        self.channels * self.kernel[0] * self.kernel[1]
    }

    /// Columns of the unfolded image: `OH·OW` (0 for an invalid geometry).
    pub fn positions(&self) -> usize {
        self.output().map_or(0, |[h, w]| h * w)
    }

    /// Elements of one input image: `C·H·W`.
    pub fn image(&self) -> usize {
        self.channels * self.size[0] * self.size[1]
    }

    /// The output columns `ox` whose input column `ox·sx + offset − pad` lies in `[0, W)`, for a
    /// kernel column at `offset = kx·dx`: a range `lo..hi` (empty when none does).
    fn valid_columns(&self, offset: usize, width_out: usize) -> std::ops::Range<usize> {
        let (pad, stride, width) = (self.padding[1].0, self.stride[1], self.size[1]);
        let lo = pad.saturating_sub(offset).div_ceil(stride);
        // The largest ox with ox·stride + offset − pad ≤ W − 1.
        let hi = match (width + pad).checked_sub(offset + 1) {
            Some(last) => (last / stride + 1).min(width_out),
            None => 0,
        };
        lo.min(hi)..hi
    }

    /// The input row read by output row `oy` at kernel row offset `ky·dy`, if inside the image.
    fn input_row(&self, oy: usize, offset: usize) -> Option<usize> {
        let row = (oy * self.stride[0] + offset).checked_sub(self.padding[0].0)?;
        (row < self.size[0]).then_some(row)
    }
}

/// Unfolds `image` (`C x H x W`) into `cols` (`patch() x positions()`, row-major), overwriting
/// every entry.
///
/// # Panics
///
/// If the geometry is invalid or a slice has the wrong length.
pub(crate) fn im2col(geometry: &Geometry, image: &[f32], cols: &mut [f32]) {
    let [oh, ow] = geometry.output().expect("a valid convolution geometry");
    assert_eq!(image.len(), geometry.image(), "im2col: image length");
    assert_eq!(
        cols.len(),
        geometry.patch() * oh * ow,
        "im2col: cols length"
    );
    let [h, w] = geometry.size;
    let [kh, kw] = geometry.kernel;
    let [dy, dx] = geometry.dilation;
    let (sx, px) = (geometry.stride[1], geometry.padding[1].0);
    for (row, out) in cols.chunks_exact_mut(oh * ow).enumerate() {
        let (c, ky, kx) = (row / (kh * kw), row / kw % kh, row % kw);
        let columns = geometry.valid_columns(kx * dx, ow);
        let channel = &image[c * h * w..][..h * w];
        for (oy, out) in out.chunks_exact_mut(ow).enumerate() {
            let Some(iy) = geometry.input_row(oy, ky * dy) else {
                out.fill(0.0);
                continue;
            };
            let source = &channel[iy * w..][..w];
            out[..columns.start].fill(0.0);
            out[columns.end..].fill(0.0);
            if columns.is_empty() {
                continue;
            }
            // First input column read: ox·sx + kx·dx − px at ox = columns.start (≥ 0 there).
            let first = columns.start * sx + kx * dx - px;
            if sx == 1 {
                out[columns.clone()].copy_from_slice(&source[first..][..columns.len()]);
            } else {
                for (o, ox) in out[columns.clone()].iter_mut().zip(0..) {
                    *o = source[first + ox * sx];
                }
            }
        }
    }
}

/// The adjoint of [`im2col`]: adds every entry of `cols` onto the input position it reads, into
/// `image` (`C x H x W`, accumulated: zero it first for the plain adjoint).
///
/// # Panics
///
/// If the geometry is invalid or a slice has the wrong length.
pub(crate) fn col2im(geometry: &Geometry, cols: &[f32], image: &mut [f32]) {
    let [oh, ow] = geometry.output().expect("a valid convolution geometry");
    assert_eq!(image.len(), geometry.image(), "col2im: image length");
    assert_eq!(
        cols.len(),
        geometry.patch() * oh * ow,
        "col2im: cols length"
    );
    let [h, w] = geometry.size;
    let [kh, kw] = geometry.kernel;
    let [dy, dx] = geometry.dilation;
    let (sx, px) = (geometry.stride[1], geometry.padding[1].0);
    for (row, input) in cols.chunks_exact(oh * ow).enumerate() {
        let (c, ky, kx) = (row / (kh * kw), row / kw % kh, row % kw);
        let columns = geometry.valid_columns(kx * dx, ow);
        let channel = &mut image[c * h * w..][..h * w];
        for (oy, input) in input.chunks_exact(ow).enumerate() {
            let Some(iy) = geometry.input_row(oy, ky * dy) else {
                continue;
            };
            if columns.is_empty() {
                continue;
            }
            let target = &mut channel[iy * w..][..w];
            let first = columns.start * sx + kx * dx - px;
            for (ox, &g) in input[columns.clone()].iter().enumerate() {
                target[first + ox * sx] += g;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The definition, one entry at a time.
    fn reference(g: &Geometry, image: &[f32]) -> Vec<f32> {
        let [oh, ow] = g.output().unwrap();
        let [h, w] = g.size;
        let mut cols = Vec::new();
        for c in 0..g.channels {
            for ky in 0..g.kernel[0] {
                for kx in 0..g.kernel[1] {
                    for oy in 0..oh {
                        for ox in 0..ow {
                            let iy = (oy * g.stride[0] + ky * g.dilation[0]) as isize
                                - g.padding[0].0 as isize;
                            let ix = (ox * g.stride[1] + kx * g.dilation[1]) as isize
                                - g.padding[1].0 as isize;
                            let inside =
                                (0..h as isize).contains(&iy) && (0..w as isize).contains(&ix);
                            cols.push(if inside {
                                image[c * h * w + iy as usize * w + ix as usize]
                            } else {
                                0.0
                            });
                        }
                    }
                }
            }
        }
        cols
    }

    fn geometry() -> impl Strategy<Value = Geometry> {
        (
            1usize..4,
            [1usize..9, 1usize..9],
            [1usize..5, 1usize..5],
            [1usize..4, 1usize..4],
            [(0usize..3, 0usize..3), (0usize..3, 0usize..3)],
            [1usize..3, 1usize..3],
        )
            .prop_map(
                |(channels, size, kernel, stride, padding, dilation)| Geometry {
                    channels,
                    size,
                    kernel,
                    stride,
                    padding,
                    dilation,
                },
            )
            .prop_filter("the kernel fits", |g| g.output().is_some())
    }

    proptest! {
        #[test]
        fn im2col_matches_the_definition(g in geometry(), seed in 0u32..1000) {
            let image: Vec<f32> = (0..g.image()).map(|i| (i as u32 * 7 + seed) as f32).collect();
            // Garbage in `cols` first: every entry must be overwritten.
            let mut cols = vec![f32::NAN; g.patch() * g.positions()];
            im2col(&g, &image, &mut cols);
            prop_assert_eq!(cols, reference(&g, &image));
        }

        /// <im2col(x), y> = <x, col2im(y)> for all x, y: col2im is the adjoint.
        #[test]
        fn col2im_is_the_adjoint(g in geometry(), seed in 0u64..1000) {
            let value = |i: usize| ((i as u64 * 2654435761 + seed) % 17) as f64 - 8.0;
            let x: Vec<f32> = (0..g.image()).map(|i| value(i) as f32).collect();
            let y: Vec<f32> = (0..g.patch() * g.positions()).map(|i| value(i + 99) as f32).collect();
            let mut cols = vec![0.0; y.len()];
            im2col(&g, &x, &mut cols);
            let mut back = vec![0.0; x.len()];
            col2im(&g, &y, &mut back);
            let lhs: f64 = cols.iter().zip(&y).map(|(a, b)| f64::from(*a) * f64::from(*b)).sum();
            let rhs: f64 = x.iter().zip(&back).map(|(a, b)| f64::from(*a) * f64::from(*b)).sum();
            prop_assert_eq!(lhs, rhs);
        }
    }

    #[test]
    fn a_kernel_larger_than_the_padded_input_has_no_output() {
        let g = Geometry {
            channels: 1,
            size: [2, 2],
            kernel: [2, 4],
            stride: [1, 1],
            padding: [(0, 0), (0, 1)],
            dilation: [1, 1],
        };
        assert_eq!(g.output(), None);
        assert_eq!(g.positions(), 0);
    }
}
