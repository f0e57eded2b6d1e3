//! Numerically stable log-domain helpers.

/// `log(mean(exp(x)))`, stable for any finite inputs (max-subtraction).
pub(crate) fn log_mean_exp(values: impl Iterator<Item = f64> + Clone) -> f64 {
    let max = values.clone().fold(f64::NEG_INFINITY, f64::max);
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + (v - max).exp(), n + 1));
    max + (sum / n as f64).ln()
}

/// `log(exp(a) + exp(b))`, stable.
pub(crate) fn log_add_exp(a: f64, b: f64) -> f64 {
    let max = a.max(b);
    max + ((a - max).exp() + (b - max).exp()).ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_mean_exp_matches_direct_formula_and_survives_huge_inputs() {
        let xs = [0.5, -1.0, 2.0];
        let direct = (xs.iter().map(|x: &f64| x.exp()).sum::<f64>() / 3.0).ln();
        assert!((log_mean_exp(xs.iter().copied()) - direct).abs() < 1e-14);
        assert!((log_mean_exp([1000.0, 1000.0].into_iter()) - 1000.0).abs() < 1e-12);
    }

    #[test]
    fn log_add_exp_matches_direct_formula() {
        assert!((log_add_exp(0.3, -0.7) - (0.3_f64.exp() + (-0.7_f64).exp()).ln()).abs() < 1e-14);
        assert!((log_add_exp(800.0, 800.0) - (800.0 + 2f64.ln())).abs() < 1e-12);
    }
}
