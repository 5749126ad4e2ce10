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

    /// <summary>Norm before each sub-layer (T5, mBART) instead of after the residual add (Marian, BART).</summary>
    public required bool PreNorm { get; init; }

    /// <summary>RMSNorm without mean or bias (T5) instead of LayerNorm.</summary>
    public required bool RmsNorm { get; init; }

    public required PositionEncoding Positions { get; init; }

    /// <summary>Row offset into a learned position table (2 for BART).</summary>
    public int LearnedPositionOffset { get; init; }

    /// <summary>A LayerNorm right after embeddings + positions (BART's layernorm_embedding).</summary>
    public required bool EmbeddingNorm { get; init; }

    /// <summary>A norm after the last layer of each stack (T5, mBART, Pegasus).</summary>
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

    /// <summary>Describes the family of <paramref name="config"/>.</summary>
    /// <exception cref="ModelFormatException">The activation is not one the ops implement.</exception>
    /// <exception cref="NotSupportedException">The family or one of its options is not supported.</exception>
    public static ArchitectureSpec For(ModelConfig config)
    {
        var activation = ActivationNames.TryParse(config.ActivationFunction, out var a)
            ? a
            : throw new ModelFormatException(config.SourceFile, "activation_function", $"unsupported activation '{config.ActivationFunction}'; supported: {string.Join(", ", ActivationNames.Supported)}");
        switch (config.ModelType)
        {
            case "marian":
                if (!config.StaticPositionEmbeddings)
                {
                    throw new NotSupportedException($"{config.SourceFile}: marian with static_position_embeddings false is not supported");
                }

                return BartLike(config, activation, PositionEncoding.Sinusoidal, embeddingNorm: false, finalNorms: false);
            case "bart":
                return BartLike(config, activation, PositionEncoding.Learned, embeddingNorm: true, finalNorms: false) with { LearnedPositionOffset = 2 };
            case "t5":
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
                };
            default:
                throw new NotSupportedException($"model_type '{config.ModelType}' has no architecture description; supported: {string.Join(", ", ModelConfig.SupportedModelTypes)}");
        }
    }

    private static ArchitectureSpec BartLike(ModelConfig config, Activation activation, PositionEncoding positions, bool embeddingNorm, bool finalNorms)
    {
        if (config.NormalizeBefore)
        {
            throw new NotSupportedException($"{config.SourceFile}: normalize_before true is not supported for model_type '{config.ModelType}'");
        }

        return new ArchitectureSpec
        {
            T5Layout = false,
            PreNorm = false,
            RmsNorm = false,
            Positions = positions,
            EmbeddingNorm = embeddingNorm,
            FinalNorms = finalNorms,
            ScaleEmbedding = config.ScaleEmbedding,
            ScaleAttention = true,
            LinearBias = true,
            Activation = activation,
            GatedFfn = false,
            RescaleTiedOutput = false,
        };
    }
}
