namespace GpuTransformer.Model.Architectures;

/// <summary>One decoder layer: causal self-attention, cross-attention over the encoder, feed-forward; each with its norm.</summary>
internal sealed record DecoderLayerWeights(
    AttentionWeights SelfAttention,
    NormWeights SelfAttentionNorm,
    AttentionWeights CrossAttention,
    NormWeights CrossAttentionNorm,
    FeedForwardWeights FeedForward,
    NormWeights FeedForwardNorm);
