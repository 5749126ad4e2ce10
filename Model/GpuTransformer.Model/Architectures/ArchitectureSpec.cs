using GpuTransformer.Kernels;
using GpuTransformer.Model.Configuration;

namespace GpuTransformer.Model.Architectures;

/// <summary>
/// What one encoder-decoder family does differently from the others. The runtime in <see cref="EncoderDecoderModel"/>
/// is shared; each supported <c>model_type</c> is only this description plus its weight names.
/// </summary>
internal sealed record ArchitectureSpec
{
    /// <summary>T5 names its weights and structures its blocks differently from the BART-derived families.</summary>
    public required bool T5Layout { get; init; }

    /// <summary>Norm before each sub-layer (T5, mBART, M2M100, Pegasus) instead of after the residual add (Marian, BART).</summary>
    public required bool PreNorm { get; init; }

    /// <summary>RMSNorm without mean or bias (T5) instead of LayerNorm.</summary>
    public required bool RmsNorm { get; init; }

    public required PositionEncoding Positions { get; init; }

    /// <summary>
    /// Row of the position table that holds the first position: 2 for BART/mBART's learned tables, padding_idx + 1 for
    /// M2M100's table (whose row padding_idx is the zero row of padding tokens), 0 for Marian/Pegasus.
    /// </summary>
    public int PositionOffset { get; init; }

    /// <summary>
    /// M2M100: the padding id. Position ids are then counted from the tokens as fairseq does: a padding token reads the
    /// zero row <c>padding_idx</c> and does not advance the position of the tokens after it. <see langword="null"/>
    /// when positions are simply 0, 1, 2, ... per sequence.
    /// </summary>
    public int? PositionPaddingId { get; init; }

    /// <summary>A LayerNorm right after embeddings + positions (BART's and mBART's layernorm_embedding).</summary>
    public required bool EmbeddingNorm { get; init; }

    /// <summary>A norm after the last layer of each stack (T5, mBART, M2M100, Pegasus).</summary>
    public required bool FinalNorms { get; init; }

    /// <summary>Embeddings are multiplied by sqrt(d_model) (config <c>scale_embedding</c>).</summary>
    public required bool ScaleEmbedding { get; init; }

    /// <summary>Attention scores scaled by 1/sqrt(head_dim); T5 folds that into its initialisation instead.</summary>
    public required bool ScaleAttention { get; init; }

    /// <summary>Every projection has a bias (not in T5).</summary>
    public required bool LinearBias { get; init; }

    public required Activation Activation { get; init; }

    /// <summary>Gated feed-forward: <c>act(wi_0 x) * wi_1 x</c>.</summary>
    public required bool GatedFfn { get; init; }

    /// <summary>The decoder output is multiplied by d_model^-0.5 before a tied lm_head (T5).</summary>
    public required bool RescaleTiedOutput { get; init; }

    /// <summary>
    /// The model adds a <c>final_logits_bias</c> buffer to the logits (Marian, BART, mBART, Pegasus; zeros when the file
    /// lacks it, as HF's <c>_keys_to_ignore_on_load_missing</c>). M2M100 has none and never reads one.
    /// </summary>
    public required bool FinalLogitsBias { get; init; }

    /// <summary>
    /// mBART's <c>shift_tokens_right</c>: teacher-forced decoder inputs start with the last non-padding label (the
    /// target language code) instead of <c>decoder_start_token_id</c>. See <see cref="TeacherForcing"/>.
    /// </summary>
    public bool WrapsLastLabel { get; init; }

    /// <summary>
    /// Marian with <c>share_encoder_decoder_embeddings: false</c>: the decoder has its own embedding and vocabulary.
    /// The other families always tie both stacks to <c>model.shared</c> (their modeling code never reads that key).
    /// </summary>
    public bool SeparateDecoderEmbedding { get; init; }

    /// <summary>Describes the family of <paramref name="config"/>.</summary>
    /// <exception cref="ModelFormatException">The activation is not one the ops implement, or a structure key is not a boolean.</exception>
    /// <exception cref="NotSupportedException">
    /// The family is not supported, or its config declares a structure (<c>normalize_before</c>,
    /// <c>add_final_layer_norm</c>, <c>normalize_embedding</c>, <c>static_position_embeddings</c>,
    /// <c>add_bias_logits</c>, <c>extra_pos_embeddings</c>) that contradicts what the family computes.
    /// </exception>
    public static ArchitectureSpec For(ModelConfig config)
    {
        var activation = ActivationNames.TryParse(config.ActivationFunction, out var a)
            ? a
            : throw new ModelFormatException(config.SourceFile, "activation_function", $"unsupported activation '{config.ActivationFunction}'; supported: {string.Join(", ", ActivationNames.Supported)}");
        if (config.ModelType == "t5")
        {
            return new ArchitectureSpec
            {
                T5Layout = true,
                PreNorm = true,
                RmsNorm = true,
                Positions = PositionEncoding.RelativeBuckets,
                EmbeddingNorm = false,
                FinalNorms = true,
                ScaleEmbedding = false,
                ScaleAttention = false,
                LinearBias = false,
                Activation = activation,
                GatedFfn = config.IsGatedActivation,
                RescaleTiedOutput = config.TieWordEmbeddings,
                FinalLogitsBias = false,
            };
        }

        // Each BART-derived family as its differences from Marian's post-norm stack.
        var marian = BartFamily(config, activation);
        int m2m100Padding = config.PadTokenId ?? 1; // M2M100Config's default pad_token_id
        var spec = config.ModelType switch
        {
            "marian" => marian with { SeparateDecoderEmbedding = !config.ShareEncoderDecoderEmbeddings },
            "bart" => marian with { Positions = PositionEncoding.Learned, PositionOffset = 2, EmbeddingNorm = true },
            "mbart" => marian with { PreNorm = true, FinalNorms = true, Positions = PositionEncoding.Learned, PositionOffset = 2, EmbeddingNorm = true, WrapsLastLabel = true },
            "pegasus" => marian with { PreNorm = true, FinalNorms = true },
            "m2m_100" => marian with
            {
                PreNorm = true,
                FinalNorms = true,
                Positions = PositionEncoding.FairseqSinusoidal,
                PositionPaddingId = m2m100Padding,
                PositionOffset = m2m100Padding + 1,
                FinalLogitsBias = false,
            },
            _ => throw new NotSupportedException($"model_type '{config.ModelType}' has no architecture description; supported: {string.Join(", ", ModelConfig.SupportedModelTypes)}"),
        };
        CheckDeclaredStructure(config, spec);
        return spec;
    }

    private static ArchitectureSpec BartFamily(ModelConfig config, Activation activation) => new()
    {
        T5Layout = false,
        PreNorm = false,
        RmsNorm = false,
        Positions = PositionEncoding.Sinusoidal,
        EmbeddingNorm = false,
        FinalNorms = false,
        ScaleEmbedding = config.ScaleEmbedding,
        ScaleAttention = true,
        LinearBias = true,
        Activation = activation,
        GatedFfn = false,
        RescaleTiedOutput = false,
        FinalLogitsBias = true,
    };

    /// <summary>
    /// Configs converted from fairseq (and HF's old shared BartConfig) state the block structure in keys the 4.43
    /// modeling code never reads. They are checked rather than ignored: a value that contradicts the family means the
    /// weights were made for a computation that neither HF nor this library runs, and the output would be garbage.
    /// </summary>
    private static void CheckDeclaredStructure(ModelConfig config, ArchitectureSpec spec)
    {
        Expect("normalize_before", spec.PreNorm, spec.PreNorm ? "normalizes before each sub-layer" : "normalizes after each residual add");
        Expect("add_final_layer_norm", spec.FinalNorms, spec.FinalNorms ? "ends each stack with a layer_norm" : "has no final layer_norm");
        Expect("normalize_embedding", spec.EmbeddingNorm, spec.EmbeddingNorm ? "normalizes the embeddings (layernorm_embedding)" : "has no layernorm_embedding");
        Expect("static_position_embeddings", spec.Positions != PositionEncoding.Learned, spec.Positions == PositionEncoding.Learned ? "learns its positions" : "uses fixed sinusoidal positions");
        Expect("add_bias_logits", false, "has no logits bias layer (only final_logits_bias)");
        if (spec.Positions == PositionEncoding.Learned
            && !ConfigJson.IsAbsent(config.RawValues, "extra_pos_embeddings")
            && ConfigJson.ToInt32(config.RawValues["extra_pos_embeddings"], "extra_pos_embeddings", config.SourceFile, int.MinValue) is int extra
            && extra != spec.PositionOffset)
        {
            throw new NotSupportedException(
                $"{config.SourceFile}: extra_pos_embeddings {extra} is not supported: model_type '{config.ModelType}' always offsets its learned positions by {spec.PositionOffset}");
        }

        void Expect(string key, bool computed, string what)
        {
            if (!ConfigJson.IsAbsent(config.RawValues, key) && ConfigJson.ToBoolean(config.RawValues[key], key, config.SourceFile) != computed)
            {
                throw new NotSupportedException(
                    $"{config.SourceFile}: {key} {(computed ? "false" : "true")} is not supported: model_type '{config.ModelType}' {what} (Hugging Face ignores this key, so the checkpoint was probably made for another architecture)");
            }
        }
    }
}
