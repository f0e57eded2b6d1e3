//! Test data shared by the kernel tests: deterministic pseudo-random values, so that every
//! case reproduces from its seed.

/// A 64-bit linear congruential generator (Knuth's MMIX constants).
pub struct Lcg(u64);

impl Lcg {
    /// The generator for `seed` (distinct seeds start from distinct, odd states).
    pub fn new(seed: u64) -> Self {
        Lcg(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(1))
    }

    /// The next 64 bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0
    }

    /// The next value, uniform in [-1, 1) on a grid of 2⁻²³.
    pub fn next_unit(&mut self) -> f32 {
        ((self.next_u64() >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }
}

/// `n` values uniform in [-1, 1) from `seed`.
#[allow(dead_code)] // every test crate compiles this module; not all of them call each item
pub fn uniform(n: usize, seed: u64) -> Vec<f32> {
    let mut lcg = Lcg::new(seed);
    (0..n).map(|_| lcg.next_unit()).collect()
}
