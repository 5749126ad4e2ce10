namespace GpuTransformer.Model.Configuration;

/// <summary>Hugging Face's <c>early_stopping</c>, which is <c>true</c>, <c>false</c> or the string <c>"never"</c>.</summary>
public enum EarlyStoppingMode
{
    /// <summary>
    /// <c>false</c>: stop a beam search once the best possible score of the running beams cannot beat the worst
    /// finished hypothesis (a heuristic bound).
    /// </summary>
    False,

    /// <summary><c>true</c>: stop as soon as <c>num_beams</c> hypotheses are finished.</summary>
    True,

    /// <summary><c>"never"</c>: stop only when no better hypothesis is possible (the exact bound).</summary>
    Never,
}
