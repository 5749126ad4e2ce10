namespace GpuTransformer.Model.Architectures;

/// <summary>One encoder layer: self-attention and the feed-forward block, each with its norm.</summary>
internal sealed record EncoderLayerWeights(AttentionWeights SelfAttention, NormWeights SelfAttentionNorm, FeedForwardWeights FeedForward, NormWeights FeedForwardNorm);
