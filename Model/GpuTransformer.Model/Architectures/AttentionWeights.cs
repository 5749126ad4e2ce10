using GpuTransformer.Kernels;

namespace GpuTransformer.Model.Architectures;

/// <summary>The four projections of one multi-head attention block.</summary>
internal sealed record AttentionWeights(LinearWeight Query, LinearWeight Key, LinearWeight Value, LinearWeight Output);
