//! Export of a trained model's parameters as safetensors.

use std::collections::BTreeMap;
use std::path::Path;

use burn::module::{Module, ModuleVisitor, Param};
use burn::prelude::*;

use crate::LabError;
use crate::model::Model;

/// Collects every float parameter with its dotted path.
#[derive(Default)]
struct Collect {
    path: Vec<String>,
    tensors: BTreeMap<String, (Vec<usize>, Vec<f32>)>,
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
        let values = tensor
            .into_data()
            .try_into_vec_as::<f32>()
            .unwrap_or_default();
        let name = self
            .path
            .iter()
            .filter(|p| !p.is_empty())
            .cloned()
            .collect::<Vec<_>>()
            .join(".");
        self.tensors.insert(name, (shape, values));
    }
}

/// Writes the model's float parameters (F32, named by module path, e.g. `Mlp.layers.0.weight`)
/// to a safetensors file, atomically. Returns the number of tensors written.
pub fn export_safetensors(model: &Model, path: &Path) -> Result<usize, LabError> {
    let mut collect = Collect::default();
    model.visit(&mut collect);
    let bytes: BTreeMap<String, (Vec<usize>, Vec<u8>)> = collect
        .tensors
        .into_iter()
        .map(|(name, (shape, values))| {
            let raw = values.iter().flat_map(|v| v.to_le_bytes()).collect();
            (name, (shape, raw))
        })
        .collect();
    let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = bytes
        .iter()
        .map(|(name, (shape, raw))| {
            let view =
                safetensors::tensor::TensorView::new(safetensors::Dtype::F32, shape.clone(), raw)
                    .expect("shape and byte length agree");
            (name.clone(), view)
        })
        .collect();
    let n = views.len();
    let data = safetensors::serialize(views, None)
        .map_err(|e| LabError::io(path, std::io::Error::other(e)))?;
    crate::run_dir::write_atomic(path, &data)?;
    Ok(n)
}
