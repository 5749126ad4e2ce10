namespace GpuTransformer.Model.Architectures;

/// <summary>The four projections of one multi-head attention block.</summary>
internal sealed record AttentionWeights(LinearWeights Query, LinearWeights Key, LinearWeights Value, LinearWeights Output);
