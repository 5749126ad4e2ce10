namespace GpuTransformer.Kernels;

/// <summary>The arithmetic the GEMMs of a model's linear layers use.</summary>
public enum ComputeType
{
    /// <summary>32-bit floats throughout.</summary>
    Float32,

    /// <summary>
    /// 8-bit integer GEMMs for the linear layers (weights quantized per output row at load, activations per row at
    /// each call, 32-bit integer accumulation); embeddings, norms and attention scores stay float. <c>cpu</c> only.
    /// </summary>
    Int8,
}
