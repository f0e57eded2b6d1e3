//! Export of a trained model's parameters as safetensors.

use std::collections::BTreeMap;
use std::path::Path;

use burn::module::{Module, ModuleVisitor, Param};
use burn::prelude::*;
use safetensors::{Dtype, tensor::TensorView};

use crate::LabError;
use crate::model::Model;

/// Collects every float parameter with its dotted path.
#[derive(Default)]
struct Collect {
    path: Vec<String>,
    /// Name -> (shape, little-endian F32 bytes).
    tensors: BTreeMap<String, (Vec<usize>, Vec<u8>)>,
}

impl ModuleVisitor for Collect {
    fn enter_module(&mut self, name: &str, _container: &str) {
        self.path.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container: &str) {
        self.path.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let tensor = param.val();
        let shape = tensor.dims().to_vec();
        let values = (tensor.into_data().try_into_vec_as::<f32>()).unwrap_or_default();
        let parts: Vec<String> = (self.path.iter().filter(|p| !p.is_empty()).cloned()).collect();
        let name = parts.join(".");
        let raw = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.tensors.insert(name, (shape, raw));
    }
}

/// Writes the model's float parameters (F32, named by module path, e.g. `Mlp.layers.0.weight`)
/// to a safetensors file, atomically. Returns the number of tensors written.
pub fn export_safetensors(model: &Model, path: &Path) -> Result<usize, LabError> {
    let mut collect = Collect::default();
    model.visit(&mut collect);
    let views = collect.tensors.iter().map(|(name, (shape, raw))| {
        let view = TensorView::new(Dtype::F32, shape.clone(), raw);
        (name, view.expect("shape and byte length agree"))
    });
    let data = safetensors::serialize(views, None)
        .map_err(|e| LabError::io(path, std::io::Error::other(e)))?;
    crate::run_dir::write_atomic(path, &data)?;
    Ok(collect.tensors.len())
}
