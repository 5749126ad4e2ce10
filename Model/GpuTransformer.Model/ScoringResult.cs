namespace GpuTransformer.Model;

/// <summary>The model's log-probabilities of a given target (teacher forcing), like CTranslate2's <c>score_batch</c>.</summary>
/// <param name="TargetIds">The target's ids as the tokenizer labels them, through <c>&lt;/s&gt;</c>.</param>
/// <param name="TokenLogProbabilities">log p(target[t] | source, target[..t]) for each target id.</param>
public sealed record ScoringResult(IReadOnlyList<int> TargetIds, IReadOnlyList<float> TokenLogProbabilities)
{
    /// <summary>The sum of the token log-probabilities.</summary>
    public float Total => TokenLogProbabilities.Sum();
}
