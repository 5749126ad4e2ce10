using System.Text.Json;

namespace GpuTransformer.Model.Configuration;

/// <summary>
/// The architecture hyper-parameters of a Hugging Face model, read from its <c>config.json</c>. Keys this class
/// does not model are kept in <see cref="RawValues"/> (generation defaults among them).
/// </summary>
public sealed class ModelConfig
{
    /// <summary>The file name Hugging Face stores the model configuration under.</summary>
    public const string FileName = "config.json";

    // NLLB checkpoints are model_type m2m_100 (Hugging Face has no "nllb" model type; nllb-moe is a different model).
    private static readonly string[] SupportedModelTypeList = ["marian", "bart", "mbart", "t5", "m2m_100", "pegasus"];

    private static readonly string[] SupportedActivationList =
        ["relu", "gelu", "gelu_new", "gelu_fast", "gelu_pytorch_tanh", "swish", "silu"];

    private ModelConfig(string sourceFile, Dictionary<string, JsonElement> rawValues)
    {
        SourceFile = sourceFile;
        RawValues = rawValues;
        string path = sourceFile;

        string? modelType = ConfigJson.OptionalString(rawValues, "model_type", path);
        if (modelType is null)
        {
            throw new ModelFormatException(
                path, "model_type", $"this required field is missing; supported: {string.Join(", ", SupportedModelTypeList)}.");
        }

        if (!SupportedModelTypeList.Contains(modelType, StringComparer.Ordinal))
        {
            throw new NotSupportedException(
                $"Model type '{modelType}' in '{path}' is not supported; supported model types: {string.Join(", ", SupportedModelTypeList)}.");
        }

        ModelType = modelType;
        DModel = ConfigJson.RequireInt32(rawValues, "d_model", path, 1);
        bool t5 = modelType == "t5";
        if (t5)
        {
            // T5 names its sizes differently and its head size d_kv need not divide d_model.
            EncoderLayers = ConfigJson.RequireInt32(rawValues, "num_layers", path, 1);
            DecoderLayers = ConfigJson.Int32OrDefault(rawValues, "num_decoder_layers", path, EncoderLayers, 1);
            EncoderAttentionHeads = DecoderAttentionHeads = ConfigJson.RequireInt32(rawValues, "num_heads", path, 1);
            EncoderHeadDim = DecoderHeadDim = ConfigJson.RequireInt32(rawValues, "d_kv", path, 1);
            EncoderFfnDim = DecoderFfnDim = ConfigJson.RequireInt32(rawValues, "d_ff", path, 1);
            VocabSize = DecoderVocabSize = ConfigJson.RequireInt32(rawValues, "vocab_size", path, 1);
            MaxPositionEmbeddings = ConfigJson.Int32OrDefault(rawValues, "n_positions", path, 512, 1);
            LayerNormEpsilon = ConfigJson.IsAbsent(rawValues, "layer_norm_epsilon") ? 1e-6 : ConfigJson.ToDouble(rawValues["layer_norm_epsilon"], "layer_norm_epsilon", path);
            RelativeAttentionNumBuckets = ConfigJson.Int32OrDefault(rawValues, "relative_attention_num_buckets", path, 32, 2);
            RelativeAttentionMaxDistance = ConfigJson.Int32OrDefault(rawValues, "relative_attention_max_distance", path, 128, 1);

            // HF T5Config: feed_forward_proj is "ACT" or "gated-ACT"; "gated-gelu" means gelu_new for legacy reasons.
            string projection = ConfigJson.OptionalString(rawValues, "feed_forward_proj", path) ?? "relu";
            string[] parts = projection.Split('-');
            if (parts.Length > 2 || (parts.Length == 2 && parts[0] != "gated"))
            {
                throw new ModelFormatException(path, "feed_forward_proj", $"'{projection}' is not of the form ACT or gated-ACT.");
            }

            IsGatedActivation = parts.Length == 2;
            string activationName = projection == "gated-gelu" ? "gelu_new" : parts[^1];
            ActivationFunction = CheckActivation(path, "feed_forward_proj", activationName);
        }
        else
        {
            EncoderLayers = ConfigJson.RequireInt32(rawValues, "encoder_layers", path, 1);
            DecoderLayers = ConfigJson.RequireInt32(rawValues, "decoder_layers", path, 1);
            EncoderAttentionHeads = ConfigJson.RequireInt32(rawValues, "encoder_attention_heads", path, 1);
            DecoderAttentionHeads = ConfigJson.RequireInt32(rawValues, "decoder_attention_heads", path, 1);
            EncoderFfnDim = ConfigJson.RequireInt32(rawValues, "encoder_ffn_dim", path, 1);
            DecoderFfnDim = ConfigJson.RequireInt32(rawValues, "decoder_ffn_dim", path, 1);
            VocabSize = ConfigJson.RequireInt32(rawValues, "vocab_size", path, 1);
            // Only MarianConfig knows decoder_vocab_size; the other families' modeling code never reads it.
            DecoderVocabSize = modelType == "marian" ? ConfigJson.Int32OrDefault(rawValues, "decoder_vocab_size", path, VocabSize, 1) : VocabSize;
            MaxPositionEmbeddings = ConfigJson.Int32OrDefault(rawValues, "max_position_embeddings", path, 1024, 1);
            CheckDivisible(path, "encoder_attention_heads", EncoderAttentionHeads);
            CheckDivisible(path, "decoder_attention_heads", DecoderAttentionHeads);
            EncoderHeadDim = DModel / EncoderAttentionHeads;
            DecoderHeadDim = DModel / DecoderAttentionHeads;
            LayerNormEpsilon = 1e-5;

            // The config classes' own defaults, used by HF when config.json leaves the key out: M2M100Config alone
            // defaults to relu and scaled embeddings.
            bool m2m100 = modelType == "m2m_100";
            ActivationFunction = CheckActivation(path, "activation_function", ConfigJson.OptionalString(rawValues, "activation_function", path) ?? (m2m100 ? "relu" : "gelu"));
        }

        ScaleEmbedding = ConfigJson.BooleanOrDefault(rawValues, "scale_embedding", path, modelType == "m2m_100");
        NormalizeBefore = ConfigJson.BooleanOrDefault(rawValues, "normalize_before", path, modelType is "mbart" or "m2m_100" or "pegasus");
        StaticPositionEmbeddings = ConfigJson.BooleanOrDefault(
            rawValues, "static_position_embeddings", path, modelType is "marian" or "m2m_100" or "pegasus");
        ShareEncoderDecoderEmbeddings = ConfigJson.BooleanOrDefault(rawValues, "share_encoder_decoder_embeddings", path, true);
        TieWordEmbeddings = ConfigJson.BooleanOrDefault(rawValues, "tie_word_embeddings", path, true);

        PadTokenId = ConfigJson.OptionalInt32(rawValues, "pad_token_id", path);
        EosTokenId = ConfigJson.OptionalInt32(rawValues, "eos_token_id", path);
        BosTokenId = ConfigJson.OptionalInt32(rawValues, "bos_token_id", path);
        DecoderStartTokenId = ConfigJson.OptionalInt32(rawValues, "decoder_start_token_id", path);
        ForcedEosTokenId = ConfigJson.OptionalInt32(rawValues, "forced_eos_token_id", path);
        ForcedBosTokenId = ConfigJson.OptionalInt32(rawValues, "forced_bos_token_id", path);

        // M2M100 counts positions from the padding id (padding_idx of its embeddings and position table).
        if (modelType == "m2m_100" && PadTokenId is int pad && (pad < 0 || pad >= VocabSize))
        {
            throw new ModelFormatException(
                path, "pad_token_id", $"m2m_100 uses pad_token_id as the padding row of its embeddings and positions; {pad} is outside the vocabulary of {VocabSize}.");
        }

        static string CheckActivation(string file, string field, string activation) =>
            SupportedActivationList.Contains(activation, StringComparer.Ordinal)
                ? activation
                : throw new ModelFormatException(file, field, $"activation '{activation}' is not supported; supported: {string.Join(", ", SupportedActivationList)}.");

        void CheckDivisible(string file, string headsField, int heads)
        {
            if (DModel % heads != 0)
            {
                throw new ModelFormatException(
                    file, $"d_model/{headsField}", $"d_model {DModel} is not divisible by {headsField} {heads}.");
            }
        }
    }

    /// <summary>The model types this library can run, as written in <c>config.json</c>'s <c>model_type</c>.</summary>
    public static IReadOnlyList<string> SupportedModelTypes => SupportedModelTypeList;

    /// <summary>The <c>activation_function</c> values (Hugging Face's ACT2FN names) this library implements.</summary>
    public static IReadOnlyList<string> SupportedActivations => SupportedActivationList;

    /// <summary>The <c>config.json</c> this configuration was read from.</summary>
    public string SourceFile { get; }

    /// <summary>Every top-level key of <c>config.json</c> with its JSON value, including those not modelled here.</summary>
    public IReadOnlyDictionary<string, JsonElement> RawValues { get; }

    /// <summary><c>model_type</c>, one of <see cref="SupportedModelTypes"/>.</summary>
    public string ModelType { get; }

    /// <summary><c>d_model</c>: the hidden size.</summary>
    public int DModel { get; }

    /// <summary><c>encoder_layers</c>.</summary>
    public int EncoderLayers { get; }

    /// <summary><c>decoder_layers</c>.</summary>
    public int DecoderLayers { get; }

    /// <summary><c>encoder_attention_heads</c>; divides <see cref="DModel"/>.</summary>
    public int EncoderAttentionHeads { get; }

    /// <summary><c>decoder_attention_heads</c>; divides <see cref="DModel"/>.</summary>
    public int DecoderAttentionHeads { get; }

    /// <summary><c>encoder_ffn_dim</c>: the inner size of the encoder feed-forward blocks.</summary>
    public int EncoderFfnDim { get; }

    /// <summary><c>decoder_ffn_dim</c>: the inner size of the decoder feed-forward blocks.</summary>
    public int DecoderFfnDim { get; }

    /// <summary><c>vocab_size</c>: rows of the (encoder or shared) token embedding.</summary>
    public int VocabSize { get; }

    /// <summary>
    /// <c>decoder_vocab_size</c> (Marian with separate vocabularies): rows of the decoder embedding and the
    /// lm_head; equals <see cref="VocabSize"/> when absent and for every other family.
    /// </summary>
    public int DecoderVocabSize { get; }

    /// <summary><c>max_position_embeddings</c>; Hugging Face's default 1024 when absent.</summary>
    public int MaxPositionEmbeddings { get; }

    /// <summary>
    /// <c>activation_function</c>, one of <see cref="SupportedActivations"/>; when absent, the family's default
    /// (<c>relu</c> for m2m_100, <c>gelu</c> otherwise).
    /// </summary>
    public string ActivationFunction { get; }

    /// <summary>
    /// <c>scale_embedding</c>: token embeddings are multiplied by sqrt(d_model); when absent, the family's default
    /// (true for m2m_100, false otherwise).
    /// </summary>
    public bool ScaleEmbedding { get; }

    /// <summary>
    /// <c>normalize_before</c> (an informational key of fairseq-converted configs): pre-LayerNorm blocks; when absent,
    /// what the family computes (true for mbart, m2m_100 and pegasus, false otherwise).
    /// </summary>
    public bool NormalizeBefore { get; }

    /// <summary>
    /// <c>static_position_embeddings</c>: sinusoidal positions computed rather than learned; when absent, what the family
    /// computes (true for marian, m2m_100 and pegasus, false otherwise).
    /// </summary>
    public bool StaticPositionEmbeddings { get; }

    /// <summary><c>share_encoder_decoder_embeddings</c>: one embedding for both stacks; true when absent.</summary>
    public bool ShareEncoderDecoderEmbeddings { get; }

    /// <summary><c>tie_word_embeddings</c>: the lm_head reuses the decoder embedding; true when absent, as in Hugging Face.</summary>
    public bool TieWordEmbeddings { get; }

    /// <summary><c>pad_token_id</c>, or <see langword="null"/> when absent.</summary>
    public int? PadTokenId { get; }

    /// <summary><c>eos_token_id</c> when it is a single integer, or <see langword="null"/> when absent.</summary>
    public int? EosTokenId { get; }

    /// <summary><c>bos_token_id</c>, or <see langword="null"/> when absent.</summary>
    public int? BosTokenId { get; }

    /// <summary><c>decoder_start_token_id</c>, or <see langword="null"/> when absent.</summary>
    public int? DecoderStartTokenId { get; }

    /// <summary><c>forced_eos_token_id</c>, or <see langword="null"/> when absent.</summary>
    public int? ForcedEosTokenId { get; }

    /// <summary><c>forced_bos_token_id</c>, or <see langword="null"/> when absent.</summary>
    public int? ForcedBosTokenId { get; }

    /// <summary>Reads and validates <c>config.json</c> of a model folder.</summary>
    /// <param name="modelDirectory">The model folder.</param>
    /// <returns>The configuration.</returns>
    /// <exception cref="ArgumentException"><paramref name="modelDirectory"/> is null or empty.</exception>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="FileNotFoundException">The folder has no <c>config.json</c>.</exception>
    /// <exception cref="ModelFormatException">
    /// The JSON is invalid (the message gives the line), a required field is missing or has the wrong type, d_model
    /// is not divisible by a head count, the activation is not supported, or (m2m_100) pad_token_id is outside the
    /// vocabulary.
    /// </exception>
    /// <exception cref="NotSupportedException">
    /// <c>model_type</c> is not one of <see cref="SupportedModelTypes"/>; the message names it and lists them.
    /// </exception>
    public static ModelConfig Load(string modelDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelDirectory);
        string directory = Path.GetFullPath(modelDirectory);
        if (!Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException($"Model folder '{directory}' does not exist.");
        }

        return LoadFile(Path.Combine(directory, FileName));
    }

    /// <summary>Reads and validates a model configuration file at any path.</summary>
    /// <param name="path">The JSON file.</param>
    /// <returns>The configuration.</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is null or empty.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="ModelFormatException">See <see cref="Load"/>.</exception>
    /// <exception cref="NotSupportedException">See <see cref="Load"/>.</exception>
    public static ModelConfig LoadFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string fullPath = Path.GetFullPath(path);
        if (!File.Exists(fullPath))
        {
            throw new FileNotFoundException($"Model configuration '{fullPath}' does not exist.", fullPath);
        }

        return new ModelConfig(fullPath, ConfigJson.ReadObjectFile(fullPath));
    }

    /// <summary>Per-head size of the encoder attention: d_model / heads, or T5's <c>d_kv</c>.</summary>
    public int EncoderHeadDim { get; }

    /// <summary>Per-head size of the decoder attention: d_model / heads, or T5's <c>d_kv</c>.</summary>
    public int DecoderHeadDim { get; }

    /// <summary>The epsilon of every layer norm (1e-5 for nn.LayerNorm; T5's <c>layer_norm_epsilon</c>).</summary>
    public double LayerNormEpsilon { get; }

    /// <summary>Whether the feed-forward block is gated (T5 v1.1 <c>gated-ACT</c>): <c>act(wi_0 x) * wi_1 x</c>.</summary>
    public bool IsGatedActivation { get; }

    /// <summary>T5's relative position buckets; 0 for other families.</summary>
    public int RelativeAttentionNumBuckets { get; }

    /// <summary>T5's largest distinguished relative distance; 0 for other families.</summary>
    public int RelativeAttentionMaxDistance { get; }
}
