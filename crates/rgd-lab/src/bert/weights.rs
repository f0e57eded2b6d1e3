//! Reading a Hugging Face BERT safetensors file (all-MiniLM-L6-v2's) into [`Bert`], by name.

use std::path::Path;

use burn::module::Param;
use burn::nn::{LayerNorm, Linear};
use burn::prelude::*;
use safetensors::SafeTensors;

use super::{Bert, BertConfig};
use crate::LabError;

impl Bert {
    /// Replaces every parameter of this encoder of `config` with the tensor of the same name in
    /// a Hugging Face BERT safetensors file (names without the `bert.` prefix, PyTorch's
    /// `[out, in]` linear weights). A missing tensor or a wrong shape is an error naming it.
    pub fn load_safetensors(mut self, path: &Path, config: &BertConfig) -> Result<Bert, LabError> {
        let bytes = crate::run_dir::read(path)?;
        let file = SafeTensors::deserialize(&bytes)
            .map_err(|e| LabError::corrupt(path, format!("not a safetensors file: {e}")))?;
        let device = self.pooler.weight.val().device();
        let w = Weights {
            file: &file,
            path,
            device: &device,
        };
        let (h, ff) = (config.hidden_size, config.intermediate_size);
        self.word_embeddings.weight =
            w.param("embeddings.word_embeddings.weight", [config.vocab_size, h])?;
        self.position_embeddings.weight = w.param(
            "embeddings.position_embeddings.weight",
            [config.max_position_embeddings, h],
        )?;
        self.token_type_embeddings.weight = w.param(
            "embeddings.token_type_embeddings.weight",
            [config.type_vocab_size, h],
        )?;
        w.layer_norm("embeddings.LayerNorm", h, &mut self.embeddings_norm)?;
        for (i, layer) in self.encoder.layers.iter_mut().enumerate() {
            let name = |suffix: &str| format!("encoder.layer.{i}.{suffix}");
            let (mha, pwff) = (&mut layer.mha, &mut layer.pwff);
            w.linear(&name("attention.self.query"), h, h, &mut mha.query)?;
            w.linear(&name("attention.self.key"), h, h, &mut mha.key)?;
            w.linear(&name("attention.self.value"), h, h, &mut mha.value)?;
            w.linear(&name("attention.output.dense"), h, h, &mut mha.output)?;
            // Post-norm: norm_1 follows attention, norm_2 the feed-forward block.
            w.layer_norm(&name("attention.output.LayerNorm"), h, &mut layer.norm_1)?;
            w.linear(&name("intermediate.dense"), h, ff, &mut pwff.linear_inner)?;
            w.linear(&name("output.dense"), ff, h, &mut pwff.linear_outer)?;
            w.layer_norm(&name("output.LayerNorm"), h, &mut layer.norm_2)?;
        }
        w.linear("pooler.dense", h, h, &mut self.pooler)?;
        Ok(self)
    }
}

/// The values of the tensor `name` of `file`, which must be `f32` of `shape`; else why not.
pub(crate) fn f32_values(
    file: &SafeTensors,
    name: &str,
    shape: &[usize],
) -> Result<Vec<f32>, String> {
    let view = file
        .tensor(name)
        .map_err(|e| format!("tensor `{name}`: {e}"))?;
    if view.dtype() != safetensors::Dtype::F32 || view.shape() != shape {
        let (dtype, found) = (view.dtype(), view.shape());
        return Err(format!(
            "tensor `{name}` is {dtype:?} {found:?}, expected F32 {shape:?}"
        ));
    }
    let bytes = view.data().chunks_exact(4);
    Ok(bytes
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect())
}

/// Typed access to the tensors of one safetensors file.
struct Weights<'a> {
    file: &'a SafeTensors<'a>,
    path: &'a Path,
    device: &'a Device,
}

impl Weights<'_> {
    fn tensor<const D: usize>(&self, name: &str, shape: [usize; D]) -> Result<Tensor<D>, LabError> {
        let values =
            f32_values(self.file, name, &shape).map_err(|why| LabError::corrupt(self.path, why))?;
        Ok(Tensor::from_data(
            TensorData::new(values, shape),
            self.device,
        ))
    }

    fn param<const D: usize>(
        &self,
        name: &str,
        shape: [usize; D],
    ) -> Result<Param<Tensor<D>>, LabError> {
        Ok(Param::from_tensor(self.tensor(name, shape)?))
    }

    /// A PyTorch linear layer (`weight [out, in]`, `bias [out]`) into burn's `[in, out]`.
    fn linear(
        &self,
        prefix: &str,
        d_in: usize,
        d_out: usize,
        linear: &mut Linear,
    ) -> Result<(), LabError> {
        let weight = self.tensor(&format!("{prefix}.weight"), [d_out, d_in])?;
        linear.weight = Param::from_tensor(weight.transpose());
        linear.bias = Some(self.param(&format!("{prefix}.bias"), [d_out])?);
        Ok(())
    }

    fn layer_norm(&self, prefix: &str, d: usize, norm: &mut LayerNorm) -> Result<(), LabError> {
        norm.gamma = self.param(&format!("{prefix}.weight"), [d])?;
        norm.beta = Some(self.param(&format!("{prefix}.bias"), [d])?);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bert::tests::tiny;

    #[test]
    fn a_missing_or_misshapen_tensor_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.safetensors");
        let data = vec![0u8; 4 * 3];
        let view =
            safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![3], &data).unwrap();
        safetensors::serialize_to_file([("pooler.dense.bias", view)], None, &path).unwrap();
        let device = Device::flex();
        let e = tiny()
            .init(&device)
            .load_safetensors(&path, &tiny())
            .unwrap_err()
            .to_string();
        assert!(e.contains("embeddings.word_embeddings.weight"), "{e}");
        std::fs::write(&path, b"not safetensors").unwrap();
        let e = tiny()
            .init(&device)
            .load_safetensors(&path, &tiny())
            .unwrap_err();
        assert!(e.to_string().contains("not a safetensors file"), "{e}");
    }
}
