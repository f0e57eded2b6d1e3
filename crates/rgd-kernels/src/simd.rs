//! Loops compiled for the CPU at hand: [`vectorized`] runs a `pulp` operation under the widest
//! instruction set detected at run time (AVX2 and FMA; AVX-512 with the `x86-v4` feature), so
//! plain loops become vector code without a per-CPU build. [`instruction_set`] names the one
//! this process runs on.
//!
//! The operation's `with_simd` must be `#[inline(always)]` and call only `#[inline(always)]`
//! code (as the helpers below are): only what is inlined into pulp's dispatch function is
//! compiled with its target features. A closure is not (rustc compiles it as a function of its
//! own), so the kernels pass structs.

/// Runs `op` compiled for the best instruction set of this CPU (detected once by `pulp`).
pub(crate) fn vectorized<Op: pulp::WithSimd>(op: Op) -> Op::Output {
    pulp::Arch::new().dispatch(op)
}

/// The instruction set this process's matrix products (`gemm`) and this crate's loops run on:
/// `"AVX-512"` in a build with the `x86-v4` feature on a CPU with `avx512f` (gemm 0.19's own
/// test), else `"AVX2+FMA"` where the CPU has FMA, else `"SSE2"` (the architecture's name off
/// x86-64). Recorded with runs and benchmarks: gemm's AVX-512 and AVX2 micro-kernels block the
/// products differently, so their results can differ in the last bits (this crate's loops sum
/// in a fixed order and do not).
///
/// ```
/// let set = rgd_kernels::instruction_set();
/// assert!(["AVX-512", "AVX2+FMA", "SSE2"].contains(&set) || !cfg!(target_arch = "x86_64"));
/// ```
pub fn instruction_set() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::is_x86_feature_detected as has;
        if cfg!(feature = "x86-v4") && has!("avx512f") {
            "AVX-512"
        } else if has!("fma") {
            "AVX2+FMA"
        } else {
            "SSE2"
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        std::env::consts::ARCH
    }
}

/// Lanes of the partial sums in [`dot`]: eight f32 fill one AVX2 register.
const LANES: usize = 8;

/// `Σ_i a_i · b_i`, summed in eight interleaved partial sums (a fixed order, so the result does
/// not depend on the instruction set).
#[inline(always)]
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    let mut lanes = [0.0f32; LANES];
    let (a_chunks, b_chunks) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let (a_tail, b_tail) = (a_chunks.remainder(), b_chunks.remainder());
    for (a, b) in a_chunks.zip(b_chunks) {
        for l in 0..LANES {
            lanes[l] += a[l] * b[l];
        }
    }
    let mut sum = lanes.iter().sum::<f32>();
    for (a, b) in a_tail.iter().zip(b_tail) {
        sum += a * b;
    }
    sum
}

/// `y += alpha · x`.
#[inline(always)]
pub(crate) fn axpy(y: &mut [f32], alpha: f32, x: &[f32]) {
    debug_assert_eq!(y.len(), x.len());
    for (y, x) in y.iter_mut().zip(x) {
        *y += alpha * x;
    }
}

/// `e^x` for `x ≤ 0` as Cephes' `expf` computes it: `x = n ln 2 + r` with `|r| ≤ ln 2 / 2`,
/// `e^r` by its degree-6 polynomial, times `2^n` built in the exponent bits; 0 below −87.
#[inline(always)]
pub(crate) fn exp(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    const C: [f32; 6] = [
        1.987_569_1e-4,
        1.398_199_9e-3,
        8.333_452e-3,
        4.166_579_6e-2,
        0.166_666_65,
        0.5,
    ];
    let below = x < -87.0;
    let x = x.max(-87.0);
    let n = (x * LOG2E + 0.5).floor();
    let r = x - n * LN2_HI - n * LN2_LO;
    let p = C.iter().fold(0.0, |p, &c| p * r + c);
    // 2^n in the exponent bits (wrapping: the checked add of a dev build would stop the
    // compiler from vectorising the loop; n is in [-126, 0] here).
    let two_n = f32::from_bits(((n as i32).wrapping_add(127) as u32) << 23);
    let e = (p * r * r + r + 1.0) * two_n;
    if below { 0.0 } else { e }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_is_within_two_ulp_of_std_on_the_range_gelu_uses() {
        for i in 0..=200_000 {
            let x = -87.0 * i as f32 / 200_000.0;
            let (ours, std) = (exp(x), x.exp());
            assert!(
                (ours - std).abs() <= 2.5 * f32::EPSILON * std,
                "{x}: {ours} vs {std}"
            );
        }
        assert_eq!(exp(-100.0), 0.0);
        assert_eq!(exp(0.0), 1.0);
    }
}
