//! The f32 data of Flex tensors, read and written by the kernels.

use burn::backend::Flex;
use burn::backend::ops::FloatTensorOps;
use burn::backend::tensor::FloatTensor;
use burn::tensor::{Shape, TensorData};

/// The f32 elements of a contiguous Flex tensor in row-major order (call `to_contiguous` first:
/// it copies a strided view, and only then).
pub(crate) fn elements(t: &FloatTensor<Flex>) -> &[f32] {
    t.as_slice::<f32>()
        .expect("a contiguous f32 tensor (the router sends other dtypes to burn's path)")
}

/// A Flex tensor of `shape` holding `values` in row-major order.
pub(crate) fn tensor(values: Vec<f32>, shape: impl Into<Shape>) -> FloatTensor<Flex> {
    // Flex has one device (a unit struct).
    Flex::float_from_data(TensorData::new(values, shape), &Default::default())
}

/// The shape of a rank-4 Flex tensor.
pub(crate) fn shape4(t: &FloatTensor<Flex>) -> [usize; 4] {
    let s = t.layout().shape();
    [s[0], s[1], s[2], s[3]]
}
