namespace GpuTransformer.Model.Generation;

/// <summary>One output sequence as HF's generate returns it (decoder start first, through EOS, no padding) and its score.</summary>
internal sealed record GeneratedHypothesis(int[] Ids, float Score);
