using GpuTransformer.Model.Configuration;

namespace GpuTransformer.Model.Generation;

/// <summary>The resolved settings of one generate call: model defaults merged with <see cref="GenerationOptions"/>.</summary>
internal sealed class GenerationSettings
{
    public required int NumBeams { get; init; }

    /// <summary>Total decoder length including the decoder start token.</summary>
    public required int MaxLength { get; init; }

    /// <summary>Total decoder length, start token included, below which EOS is forbidden.</summary>
    public required int MinLength { get; init; }

    public required int NumReturnSequences { get; init; }

    public required float LengthPenalty { get; init; }

    public required EarlyStoppingMode EarlyStopping { get; init; }

    public required int NoRepeatNgramSize { get; init; }

    public required float RepetitionPenalty { get; init; }

    public required int[][] BadWordsIds { get; init; }

    public required int? ForcedBosTokenId { get; init; }

    public required int[] ForcedEosTokenIds { get; init; }

    public required int DecoderStartTokenId { get; init; }

    public required int[] EosTokenIds { get; init; }

    public required int PadTokenId { get; init; }

    /// <summary>Merges HF's model defaults with the caller's options and validates the result.</summary>
    public static GenerationSettings Resolve(GenerationConfig defaults, GenerationOptions? options, int? languageForcedBosTokenId = null, int? languageDecoderStartTokenId = null)
    {
        options ??= new GenerationOptions();
        if (defaults.UnsupportedParameters.Count > 0)
        {
            throw new NotSupportedException($"{defaults.SourceFile ?? "the generation config"} sets {string.Join(", ", defaults.UnsupportedParameters)}, which this version does not implement");
        }

        if (defaults.DoSample)
        {
            throw new NotSupportedException($"{defaults.SourceFile ?? "the generation config"} sets do_sample: true; sampling is not implemented yet, only greedy and beam search");
        }

        int numBeams = options.NumBeams ?? defaults.NumBeams;
        int maxLength = options.MaxNewTokens is int maxNew ? maxNew + 1 : options.MaxLength ?? (defaults.MaxNewTokens is int dn ? dn + 1 : defaults.MaxLength);
        int minLength = options.MinNewTokens is int minNew ? minNew + 1 : (defaults.MinNewTokens is int dm ? dm + 1 : defaults.MinLength);
        int returns = options.NumReturnSequences ?? defaults.NumReturnSequences;
        if (numBeams < 1)
        {
            throw new ArgumentException($"num_beams must be at least 1, got {numBeams}", nameof(options));
        }

        if (maxLength < 2)
        {
            throw new ArgumentException($"max_new_tokens must be at least 1 (max_length {maxLength})", nameof(options));
        }

        if (minLength < 0 || minLength > maxLength)
        {
            throw new ArgumentException($"min_new_tokens ({minLength - 1}) must be between 0 and max_new_tokens ({maxLength - 1})", nameof(options));
        }

        if (returns < 1 || returns > numBeams)
        {
            throw new ArgumentException($"num_return_sequences ({returns}) must be between 1 and num_beams ({numBeams})", nameof(options));
        }

        int ngram = options.NoRepeatNgramSize ?? defaults.NoRepeatNgramSize;
        if (ngram < 0)
        {
            throw new ArgumentException($"no_repeat_ngram_size must not be negative, got {ngram}", nameof(options));
        }

        float repetition = options.RepetitionPenalty ?? (float)defaults.RepetitionPenalty;
        if (!(repetition > 0))
        {
            throw new ArgumentException($"repetition_penalty must be positive, got {repetition}", nameof(options));
        }

        if (defaults.EosTokenIds.Count == 0)
        {
            throw new ArgumentException("the model defines no eos_token_id", nameof(defaults));
        }

        var eos = defaults.EosTokenIds.ToArray();
        var badWords = (options.BadWordsIds ?? defaults.BadWordsIds ?? [])
            .Select(sequence => sequence.ToArray())
            .Where(sequence => sequence.Length > 0 && !(sequence.Length == 1 && eos.Contains(sequence[0])))
            .ToArray();
        return new GenerationSettings
        {
            NumBeams = numBeams,
            MaxLength = maxLength,
            MinLength = minLength,
            NumReturnSequences = returns,
            LengthPenalty = options.LengthPenalty ?? (float)defaults.LengthPenalty,
            EarlyStopping = options.EarlyStopping ?? defaults.EarlyStopping,
            NoRepeatNgramSize = ngram,
            RepetitionPenalty = repetition,
            BadWordsIds = badWords,
            ForcedBosTokenId = options.ForcedBosTokenId ?? languageForcedBosTokenId ?? defaults.ForcedBosTokenId,
            ForcedEosTokenIds = defaults.ForcedEosTokenIds.ToArray(),
            DecoderStartTokenId = languageDecoderStartTokenId ?? defaults.DecoderStartTokenId ?? throw new ArgumentException("the model defines no decoder_start_token_id", nameof(defaults)),
            EosTokenIds = eos,
            PadTokenId = defaults.PadTokenId ?? eos[0],
        };
    }
}
