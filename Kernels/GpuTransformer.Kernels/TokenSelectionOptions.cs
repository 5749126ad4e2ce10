namespace GpuTransformer.Kernels;

/// <summary>How <see cref="TokenSelection.Select"/> turns one decoding step's logits into candidates.</summary>
/// <param name="K">Candidates kept per row (1 for greedy search, 2 × beams for beam search).</param>
/// <param name="LogSoftmaxFirst">Beam search scores log-probabilities (edits apply to them); greedy search scores raw logits.</param>
/// <param name="RepetitionPenalty">HF's repetition penalty applied by penalty edits.</param>
public readonly record struct TokenSelectionOptions(int K, bool LogSoftmaxFirst, float RepetitionPenalty);
