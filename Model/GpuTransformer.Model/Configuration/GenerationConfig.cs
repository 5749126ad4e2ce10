using System.Text.Json;

namespace GpuTransformer.Model.Configuration;

/// <summary>
/// Generation defaults of a model, as Hugging Face transformers 4.43 resolves them: properties start at
/// <c>GenerationConfig()</c>'s defaults and are overridden by <c>generation_config.json</c>, or by the generation
/// keys of <c>config.json</c> when that file is absent.
/// </summary>
public sealed class GenerationConfig
{
    /// <summary>The file name Hugging Face stores generation defaults under.</summary>
    public const string FileName = "generation_config.json";

    private static readonly Parameter[] Parameters =
    [
        new("max_length", (c, v, p) => c.MaxLength = ConfigJson.ToInt32(v, "max_length", p, 0), c => c.MaxLength == 20),
        new("max_new_tokens", (c, v, p) => c.MaxNewTokens = ConfigJson.ToInt32(v, "max_new_tokens", p, 0), c => c.MaxNewTokens is null),
        new("min_length", (c, v, p) => c.MinLength = ConfigJson.ToInt32(v, "min_length", p, 0), c => c.MinLength == 0),
        new("min_new_tokens", (c, v, p) => c.MinNewTokens = ConfigJson.ToInt32(v, "min_new_tokens", p, 0), c => c.MinNewTokens is null),
        new("early_stopping", (c, v, p) => c.EarlyStopping = ParseEarlyStopping(v, p), c => c.EarlyStopping == EarlyStoppingMode.False),
        new("do_sample", (c, v, p) => c.DoSample = ConfigJson.ToBoolean(v, "do_sample", p), c => !c.DoSample),
        new("num_beams", (c, v, p) => c.NumBeams = ConfigJson.ToInt32(v, "num_beams", p, 1), c => c.NumBeams == 1),
        new("temperature", (c, v, p) => c.Temperature = ConfigJson.ToDouble(v, "temperature", p), c => c.Temperature == 1.0),
        new("top_k", (c, v, p) => c.TopK = ConfigJson.ToInt32(v, "top_k", p, 0), c => c.TopK == 50),
        new("top_p", (c, v, p) => c.TopP = ConfigJson.ToDouble(v, "top_p", p), c => c.TopP == 1.0),
        new("repetition_penalty", (c, v, p) => c.RepetitionPenalty = ConfigJson.ToDouble(v, "repetition_penalty", p), c => c.RepetitionPenalty == 1.0),
        new("length_penalty", (c, v, p) => c.LengthPenalty = ConfigJson.ToDouble(v, "length_penalty", p), c => c.LengthPenalty == 1.0),
        new("no_repeat_ngram_size", (c, v, p) => c.NoRepeatNgramSize = ConfigJson.ToInt32(v, "no_repeat_ngram_size", p, 0), c => c.NoRepeatNgramSize == 0),
        new("bad_words_ids", (c, v, p) => c.BadWordsIds = ParseIdSequences(v, "bad_words_ids", p), c => c.BadWordsIds is null),
        new("num_return_sequences", (c, v, p) => c.NumReturnSequences = ConfigJson.ToInt32(v, "num_return_sequences", p, 1), c => c.NumReturnSequences == 1),
        new("forced_bos_token_id", (c, v, p) => c.ForcedBosTokenId = ConfigJson.ToInt32(v, "forced_bos_token_id", p, 0), c => c.ForcedBosTokenId is null),
        new("forced_eos_token_id", (c, v, p) => c.ForcedEosTokenIds = ParseIds(v, "forced_eos_token_id", p), c => c.ForcedEosTokenIds.Count == 0),
        new("pad_token_id", (c, v, p) => c.PadTokenId = ConfigJson.ToInt32(v, "pad_token_id", p, int.MinValue), c => c.PadTokenId is null),
        new("bos_token_id", (c, v, p) => c.BosTokenId = ConfigJson.ToInt32(v, "bos_token_id", p, int.MinValue), c => c.BosTokenId is null),
        new("eos_token_id", (c, v, p) => c.EosTokenIds = ParseIds(v, "eos_token_id", p), c => c.EosTokenIds.Count == 0),
        new("decoder_start_token_id", (c, v, p) => c.DecoderStartTokenId = ConfigJson.ToInt32(v, "decoder_start_token_id", p, 0), c => c.DecoderStartTokenId is null),
    ];

    // Generation parameters of transformers 4.43 that this class does not model, with their defaults: a file that
    // sets one to anything else asks for behaviour generation would silently lack, so it is reported instead.
    private static readonly (string Key, Func<JsonElement, bool> IsDefault)[] UnmodelledParameters =
    [
        ("num_beam_groups", v => IsNumber(v, 1)),
        ("diversity_penalty", v => IsNumber(v, 0)),
        ("penalty_alpha", IsNull),
        ("typical_p", v => IsNumber(v, 1)),
        ("epsilon_cutoff", v => IsNumber(v, 0)),
        ("eta_cutoff", v => IsNumber(v, 0)),
        ("min_p", IsNull),
        ("encoder_repetition_penalty", v => IsNumber(v, 1)),
        ("encoder_no_repeat_ngram_size", v => IsNumber(v, 0)),
        ("force_words_ids", IsNull),
        ("renormalize_logits", v => v.ValueKind == JsonValueKind.False),
        ("constraints", IsNull),
        ("remove_invalid_values", v => v.ValueKind == JsonValueKind.False),
        ("exponential_decay_length_penalty", IsNull),
        ("suppress_tokens", IsNull),
        ("begin_suppress_tokens", IsNull),
        ("forced_decoder_ids", IsNull),
        ("sequence_bias", IsNull),
        ("guidance_scale", IsNull),
        ("max_time", IsNull),
        ("stop_strings", IsNull),
        ("watermarking_config", IsNull),
    ];

    // PretrainedConfig._get_generation_defaults of 4.43: a config.json with any of these away from its default
    // makes generate() rebuild a "_from_model_config" generation config from config.json.
    private static readonly (string Key, Func<JsonElement, bool> IsDefault)[] ModelConfigGenerationDefaults =
    [
        ("max_length", v => IsNumber(v, 20)),
        ("min_length", v => IsNumber(v, 0)),
        ("do_sample", v => v.ValueKind == JsonValueKind.False),
        ("early_stopping", v => v.ValueKind == JsonValueKind.False),
        ("num_beams", v => IsNumber(v, 1)),
        ("num_beam_groups", v => IsNumber(v, 1)),
        ("diversity_penalty", v => IsNumber(v, 0)),
        ("temperature", v => IsNumber(v, 1)),
        ("top_k", v => IsNumber(v, 50)),
        ("top_p", v => IsNumber(v, 1)),
        ("typical_p", v => IsNumber(v, 1)),
        ("repetition_penalty", v => IsNumber(v, 1)),
        ("length_penalty", v => IsNumber(v, 1)),
        ("no_repeat_ngram_size", v => IsNumber(v, 0)),
        ("encoder_no_repeat_ngram_size", v => IsNumber(v, 0)),
        ("bad_words_ids", IsNull),
        ("num_return_sequences", v => IsNumber(v, 1)),
        ("output_scores", v => v.ValueKind == JsonValueKind.False),
        ("return_dict_in_generate", v => v.ValueKind == JsonValueKind.False),
        ("forced_bos_token_id", IsNull),
        ("forced_eos_token_id", IsNull),
        ("remove_invalid_values", v => v.ValueKind == JsonValueKind.False),
        ("exponential_decay_length_penalty", IsNull),
        ("suppress_tokens", IsNull),
        ("begin_suppress_tokens", IsNull),
    ];

    private IReadOnlyList<int> _eosTokenIds = [];
    private IReadOnlyList<int> _forcedEosTokenIds = [];
    private IReadOnlyList<string> _unsupportedParameters = [];

    /// <summary>Creates a configuration holding Hugging Face's <c>GenerationConfig()</c> defaults.</summary>
    public GenerationConfig()
    {
    }

    /// <summary><c>max_length</c>: the longest decoder sequence, decoder start included; default 20.</summary>
    public int MaxLength { get; set; } = 20;

    /// <summary><c>max_new_tokens</c>: when set, overrides <see cref="MaxLength"/>; default none.</summary>
    public int? MaxNewTokens { get; set; }

    /// <summary><c>min_length</c>: EOS is suppressed while the sequence is shorter; default 0.</summary>
    public int MinLength { get; set; }

    /// <summary><c>min_new_tokens</c>: EOS is suppressed for this many new tokens; default none.</summary>
    public int? MinNewTokens { get; set; }

    /// <summary><c>early_stopping</c> for beam search; default <see cref="EarlyStoppingMode.False"/>.</summary>
    public EarlyStoppingMode EarlyStopping { get; set; } = EarlyStoppingMode.False;

    /// <summary><c>do_sample</c>: sample instead of greedy/beam search; default false.</summary>
    public bool DoSample { get; set; }

    /// <summary><c>num_beams</c>; default 1 (no beam search).</summary>
    public int NumBeams { get; set; } = 1;

    /// <summary><c>num_return_sequences</c> per input; default 1.</summary>
    public int NumReturnSequences { get; set; } = 1;

    /// <summary><c>temperature</c> for sampling; default 1.0.</summary>
    public double Temperature { get; set; } = 1.0;

    /// <summary><c>top_k</c> for sampling; default 50 (0 disables it).</summary>
    public int TopK { get; set; } = 50;

    /// <summary><c>top_p</c> (nucleus) for sampling; default 1.0 (disabled).</summary>
    public double TopP { get; set; } = 1.0;

    /// <summary><c>repetition_penalty</c>; default 1.0 (none).</summary>
    public double RepetitionPenalty { get; set; } = 1.0;

    /// <summary><c>length_penalty</c>: the exponent of the length a beam hypothesis score is divided by; default 1.0.</summary>
    public double LengthPenalty { get; set; } = 1.0;

    /// <summary><c>no_repeat_ngram_size</c>; default 0 (off).</summary>
    public int NoRepeatNgramSize { get; set; }

    /// <summary><c>bad_words_ids</c>: token sequences that must not be generated; default none.</summary>
    public int[][]? BadWordsIds { get; set; }

    /// <summary><c>forced_bos_token_id</c>: forced as the first generated token; default none.</summary>
    public int? ForcedBosTokenId { get; set; }

    /// <summary>
    /// <c>forced_eos_token_id</c> (an integer or a list in Hugging Face): forced at the last allowed position;
    /// empty when unset.
    /// </summary>
    public IReadOnlyList<int> ForcedEosTokenIds
    {
        get => _forcedEosTokenIds;
        set => _forcedEosTokenIds = CopyIds(value);
    }

    /// <summary><c>pad_token_id</c>; default none.</summary>
    public int? PadTokenId { get; set; }

    /// <summary><c>bos_token_id</c>; default none.</summary>
    public int? BosTokenId { get; set; }

    /// <summary><c>eos_token_id</c> (an integer or a list in Hugging Face): any of them ends a sequence; empty when unset.</summary>
    public IReadOnlyList<int> EosTokenIds
    {
        get => _eosTokenIds;
        set => _eosTokenIds = CopyIds(value);
    }

    /// <summary><c>decoder_start_token_id</c>: the first decoder input; default none (the model config's is used).</summary>
    public int? DecoderStartTokenId { get; set; }

    /// <summary>
    /// <c>_from_model_config</c>: the configuration was derived from <c>config.json</c> (directly, or by
    /// <c>save_pretrained</c> writing such a derived config).
    /// </summary>
    public bool FromModelConfig { get; set; }

    /// <summary>
    /// Hugging Face generation parameters that the source file sets to a non-default value but this library does not
    /// implement (e.g. <c>num_beam_groups</c>, <c>suppress_tokens</c>); generation should refuse them rather than
    /// ignore them. Empty for the usual translation models.
    /// </summary>
    public IReadOnlyList<string> UnsupportedParameters
    {
        get => _unsupportedParameters;
        set => _unsupportedParameters = [.. value ?? throw new ArgumentNullException(nameof(value))];
    }

    /// <summary>The file the values were read from, or <see langword="null"/> for a configuration built in code.</summary>
    public string? SourceFile { get; set; }

    /// <summary>
    /// Resolves the generation defaults of a model folder the way <c>from_pretrained</c> + <c>generate()</c> of
    /// transformers 4.43 do: <c>generation_config.json</c> when present, otherwise
    /// <c>GenerationConfig.from_model_config(config)</c>. A <c>generation_config.json</c> marked
    /// <c>_from_model_config</c> is replaced by one built from <c>config.json</c> when <c>config.json</c> carries
    /// non-default generation parameters that differ from it (Hugging Face's legacy rule in <c>generate()</c>).
    /// </summary>
    /// <param name="modelDirectory">The model folder.</param>
    /// <param name="config">The model's configuration, read from the same folder.</param>
    /// <returns>The resolved defaults.</returns>
    /// <exception cref="ArgumentException"><paramref name="modelDirectory"/> is null or empty.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="config"/> is null.</exception>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="ModelFormatException">
    /// <c>generation_config.json</c> is not valid JSON or a generation field has the wrong type (named in the message).
    /// </exception>
    public static GenerationConfig Load(string modelDirectory, ModelConfig config)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelDirectory);
        ArgumentNullException.ThrowIfNull(config);
        string directory = Path.GetFullPath(modelDirectory);
        if (!Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException($"Model folder '{directory}' does not exist.");
        }

        string path = Path.Combine(directory, FileName);
        if (!File.Exists(path))
        {
            return FromModel(config);
        }

        GenerationConfig fromFile = FromDictionary(ConfigJson.ReadObjectFile(path), path);
        if (fromFile.FromModelConfig && HasNonDefaultGenerationParameters(config.RawValues))
        {
            GenerationConfig fromModel = FromModel(config);
            if (!fromModel.ParametersEqual(fromFile))
            {
                return fromModel;
            }
        }

        return fromFile;
    }

    /// <summary>
    /// Builds generation defaults from a model configuration's keys, as <c>GenerationConfig.from_model_config</c>
    /// does: every generation key of <c>config.json</c> overrides the default, and a <c>decoder</c>,
    /// <c>generator</c> or <c>text_config</c> sub-object fills parameters still at their default.
    /// </summary>
    /// <param name="config">The model configuration.</param>
    /// <returns>The derived defaults, with <see cref="FromModelConfig"/> set.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="config"/> is null.</exception>
    /// <exception cref="ModelFormatException">A generation field of <c>config.json</c> has the wrong type.</exception>
    public static GenerationConfig FromModel(ModelConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        GenerationConfig result = FromDictionary(config.RawValues, config.SourceFile);
        result.FromModelConfig = true;
        foreach (string subConfigName in (string[])["decoder", "generator", "text_config"])
        {
            if (!config.RawValues.TryGetValue(subConfigName, out JsonElement sub) || sub.ValueKind != JsonValueKind.Object)
            {
                continue;
            }

            foreach (Parameter parameter in Parameters)
            {
                if (parameter.IsDefault(result)
                    && sub.TryGetProperty(parameter.Key, out JsonElement value)
                    && value.ValueKind != JsonValueKind.Null)
                {
                    parameter.Apply(result, value, config.SourceFile);
                }
            }
        }

        return result;
    }

    /// <summary>Returns an independent copy (arrays included) that can be modified for one generate call.</summary>
    /// <returns>The copy.</returns>
    public GenerationConfig Clone()
    {
        var copy = (GenerationConfig)MemberwiseClone();
        copy.BadWordsIds = BadWordsIds?.Select(sequence => (int[])sequence.Clone()).ToArray();
        return copy;
    }

    private static GenerationConfig FromDictionary(IReadOnlyDictionary<string, JsonElement> values, string path)
    {
        var result = new GenerationConfig { SourceFile = path };
        foreach (Parameter parameter in Parameters)
        {
            if (values.TryGetValue(parameter.Key, out JsonElement value) && value.ValueKind != JsonValueKind.Null)
            {
                parameter.Apply(result, value, path);
            }
        }

        if (values.TryGetValue("_from_model_config", out JsonElement fromModel) && fromModel.ValueKind != JsonValueKind.Null)
        {
            result.FromModelConfig = ConfigJson.ToBoolean(fromModel, "_from_model_config", path);
        }

        var unsupported = new List<string>();
        foreach ((string key, Func<JsonElement, bool> isDefault) in UnmodelledParameters)
        {
            if (values.TryGetValue(key, out JsonElement value) && !isDefault(value))
            {
                unsupported.Add(key);
            }
        }

        result.UnsupportedParameters = unsupported;
        return result;
    }

    private static bool HasNonDefaultGenerationParameters(IReadOnlyDictionary<string, JsonElement> values)
    {
        foreach ((string key, Func<JsonElement, bool> isDefault) in ModelConfigGenerationDefaults)
        {
            if (values.TryGetValue(key, out JsonElement value) && !isDefault(value))
            {
                return true;
            }
        }

        return false;
    }

    private static EarlyStoppingMode ParseEarlyStopping(JsonElement value, string path) => value.ValueKind switch
    {
        JsonValueKind.True => EarlyStoppingMode.True,
        JsonValueKind.False => EarlyStoppingMode.False,
        JsonValueKind.String when value.ValueEquals("never") => EarlyStoppingMode.Never,
        _ => throw new ModelFormatException(
            path, "early_stopping", $"expected true, false or \"never\" but found {ConfigJson.Describe(value)}."),
    };

    private static int[] ParseIds(JsonElement value, string key, string path)
    {
        if (value.ValueKind == JsonValueKind.Number)
        {
            return [ConfigJson.ToInt32(value, key, path, 0)];
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            throw new ModelFormatException(path, key, $"expected an integer or a list of integers but found {ConfigJson.Describe(value)}.");
        }

        var ids = new int[value.GetArrayLength()];
        int i = 0;
        foreach (JsonElement item in value.EnumerateArray())
        {
            ids[i++] = ConfigJson.ToInt32(item, key, path, 0);
        }

        return ids;
    }

    private static int[][] ParseIdSequences(JsonElement value, string key, string path)
    {
        if (value.ValueKind != JsonValueKind.Array)
        {
            throw new ModelFormatException(path, key, $"expected a list of lists of token ids but found {ConfigJson.Describe(value)}.");
        }

        var sequences = new int[value.GetArrayLength()][];
        int i = 0;
        foreach (JsonElement item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Array)
            {
                throw new ModelFormatException(path, key, $"expected a list of token ids but found {ConfigJson.Describe(item)}.");
            }

            sequences[i++] = ParseIds(item, key, path);
        }

        return sequences;
    }

    private static bool IsNull(JsonElement value) => value.ValueKind == JsonValueKind.Null;

    private static bool IsNumber(JsonElement value, double expected) =>
        value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out double number) && number == expected;

    private static int[] CopyIds(IReadOnlyList<int> value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return [.. value];
    }

    private bool ParametersEqual(GenerationConfig other) =>
        MaxLength == other.MaxLength
        && MaxNewTokens == other.MaxNewTokens
        && MinLength == other.MinLength
        && MinNewTokens == other.MinNewTokens
        && EarlyStopping == other.EarlyStopping
        && DoSample == other.DoSample
        && NumBeams == other.NumBeams
        && NumReturnSequences == other.NumReturnSequences
        && Temperature.Equals(other.Temperature)
        && TopK == other.TopK
        && TopP.Equals(other.TopP)
        && RepetitionPenalty.Equals(other.RepetitionPenalty)
        && LengthPenalty.Equals(other.LengthPenalty)
        && NoRepeatNgramSize == other.NoRepeatNgramSize
        && SequencesEqual(BadWordsIds, other.BadWordsIds)
        && ForcedBosTokenId == other.ForcedBosTokenId
        && ForcedEosTokenIds.SequenceEqual(other.ForcedEosTokenIds)
        && PadTokenId == other.PadTokenId
        && BosTokenId == other.BosTokenId
        && EosTokenIds.SequenceEqual(other.EosTokenIds)
        && DecoderStartTokenId == other.DecoderStartTokenId
        && UnsupportedParameters.SequenceEqual(other.UnsupportedParameters);

    private static bool SequencesEqual(int[][]? a, int[][]? b) =>
        a is null || b is null
            ? a is null && b is null
            : a.Length == b.Length && a.Zip(b).All(pair => pair.First.AsSpan().SequenceEqual(pair.Second));

    private sealed record Parameter(
        string Key, Action<GenerationConfig, JsonElement, string> Apply, Func<GenerationConfig, bool> IsDefault);
}
