namespace GpuTransformer.Model;

/// <summary>One generated output.</summary>
/// <param name="Text">The decoded text, special tokens removed, as HF's <c>batch_decode(skip_special_tokens=True)</c>.</param>
/// <param name="Ids">Exactly what HF's <c>generate</c> returns for it: the decoder start token first, through EOS, no padding.</param>
/// <param name="Score">HF's <c>sequences_scores</c> for beam search; for greedy search the sum of the chosen tokens' log-probabilities (log-softmax of the processed scores, EOS included).</param>
public sealed record Hypothesis(string Text, IReadOnlyList<int> Ids, float Score);
