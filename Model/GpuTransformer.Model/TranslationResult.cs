namespace GpuTransformer.Model;

/// <summary>The outputs for one input text, best first.</summary>
/// <param name="Input">The input text.</param>
/// <param name="Hypotheses">The hypotheses, best first (<c>num_return_sequences</c> of them).</param>
/// <param name="Truncated">Whether the input was longer than the model accepts and was cut.</param>
public sealed record TranslationResult(string Input, IReadOnlyList<Hypothesis> Hypotheses, bool Truncated)
{
    /// <summary>The best hypothesis' text.</summary>
    public string Text => Hypotheses.Count > 0 ? Hypotheses[0].Text : "";
}
