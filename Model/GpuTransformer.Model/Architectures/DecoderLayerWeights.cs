namespace GpuTransformer.Model.Architectures;

/// <summary>One decoder layer: causal self-attention, cross-attention over the encoder, feed-forward; each post-normed.</summary>
internal sealed record DecoderLayerWeights(
    AttentionWeights SelfAttention,
    LayerNormWeights SelfAttentionNorm,
    AttentionWeights CrossAttention,
    LayerNormWeights CrossAttentionNorm,
    LinearWeights Fc1,
    LinearWeights Fc2,
    LayerNormWeights FinalNorm);
