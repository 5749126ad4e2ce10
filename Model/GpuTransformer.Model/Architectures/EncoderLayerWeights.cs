namespace GpuTransformer.Model.Architectures;

/// <summary>One encoder layer: self-attention and the feed-forward block, each followed by its LayerNorm (post-norm).</summary>
internal sealed record EncoderLayerWeights(AttentionWeights SelfAttention, LayerNormWeights SelfAttentionNorm, LinearWeights Fc1, LinearWeights Fc2, LayerNormWeights FinalNorm);
