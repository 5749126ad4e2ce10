namespace GpuTransformer.Kernels;

/// <summary>What a logits-processor edit does to one token's score in <see cref="TokenSelection.Select"/>.</summary>
public enum TokenEditKind
{
    /// <summary>The score becomes negative infinity (bad words, n-gram repeats, EOS before the minimum length).</summary>
    Ban = 0,

    /// <summary>HF's repetition penalty: a negative score is multiplied by the penalty, a positive one divided.</summary>
    Penalty = 1,

    /// <summary>
    /// Forced BOS/EOS: once a row has a forced token, every score of the row becomes negative infinity except the
    /// forced tokens', which become 0. Force edits come after the row's other edits.
    /// </summary>
    Force = 2,
}
