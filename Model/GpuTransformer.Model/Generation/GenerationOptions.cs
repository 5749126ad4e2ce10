using GpuTransformer.Model.Configuration;

namespace GpuTransformer.Model.Generation;

/// <summary>
/// Per-call generation settings. Every property left null takes the model's default, from generation_config.json
/// or else config.json, exactly as Hugging Face's <c>generate()</c> merges them.
/// </summary>
public sealed class GenerationOptions
{
    /// <summary>Beams; 1 is greedy search.</summary>
    public int? NumBeams { get; init; }

    /// <summary>Most tokens to generate after the decoder start token (HF <c>max_new_tokens</c>).</summary>
    public int? MaxNewTokens { get; init; }

    /// <summary>Total decoder length including the start token (HF <c>max_length</c>); ignored when <see cref="MaxNewTokens"/> is set.</summary>
    public int? MaxLength { get; init; }

    /// <summary>EOS is forbidden until this many tokens were generated (HF <c>min_new_tokens</c>).</summary>
    public int? MinNewTokens { get; init; }

    /// <summary>Hypotheses returned per input; at most <see cref="NumBeams"/>.</summary>
    public int? NumReturnSequences { get; init; }

    /// <summary>Beam scores are divided by <c>length ** LengthPenalty</c>.</summary>
    public float? LengthPenalty { get; init; }

    /// <summary>When beam search stops for a sentence (HF <c>early_stopping</c>: true, false or "never").</summary>
    public EarlyStoppingMode? EarlyStopping { get; init; }

    /// <summary>No n-gram of this size occurs twice in the output; 0 disables.</summary>
    public int? NoRepeatNgramSize { get; init; }

    /// <summary>HF's CTRL-style repetition penalty; 1 disables.</summary>
    public float? RepetitionPenalty { get; init; }

    /// <summary>Token sequences that are never generated (replaces the model's list, as in HF).</summary>
    public IReadOnlyList<IReadOnlyList<int>>? BadWordsIds { get; init; }

    /// <summary>
    /// The source language code for this call (e.g. <c>en_XX</c>, <c>eng_Latn</c>, <c>en</c>); null uses
    /// <see cref="TranslatorOptions.SourceLanguage"/>. Only multilingual models (mBART, M2M100, NLLB) take one.
    /// </summary>
    public string? SourceLanguage { get; init; }

    /// <summary>
    /// The target language code for this call; null uses <see cref="TranslatorOptions.TargetLanguage"/>. Its token
    /// becomes <c>forced_bos_token_id</c> (for mBART-cc25 models without one: the decoder start token).
    /// </summary>
    public string? TargetLanguage { get; init; }

    /// <summary>The token forced right after the decoder start (HF <c>forced_bos_token_id</c>); wins over <see cref="TargetLanguage"/>.</summary>
    public int? ForcedBosTokenId { get; init; }
}
